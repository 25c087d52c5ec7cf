// Experiments: which variant of a step a person gets. Pure.
//
// The choice is a hash of the enrollment id and the step key mapped onto the live variants'
// weights, so the same enrollment and step give the same variant on every retry, restart and
// machine. It is made once, when the step's message row is written, and stored on that row;
// ending a variant later changes only choices not yet made (the ended variant's share goes to the
// others in proportion to their weights).
import { createHash } from 'node:crypto';
import type { EmailTemplate, LocaleTexts, Program } from '../content/types.ts';

export interface VariantWeight {
  name: string;
  weight: number;
}

/** A number in [0, 1) fixed by `id` and `step` (the first 52 bits of a SHA-256). */
export function assignmentPoint(id: string, step: string): number {
  const digest = createHash('sha256').update(`${id}\n${step}`).digest();
  // 52 bits: exact in a double.
  const high = digest.readUInt32BE(0);
  const low = digest.readUInt32BE(4) >>> 12;
  return (high * 2 ** 20 + low) / 2 ** 52;
}

/**
 * The variant for `id` at `step`, among `variants` less the `ended` ones, or null when the step
 * has no variants. Variants are taken in name order, so the order they are written in does not
 * matter. If every variant has ended (the console refuses to end the last one, but content can
 * change) the first by name is used.
 */
export function assignVariant(
  id: string,
  step: string,
  variants: readonly VariantWeight[],
  ended: ReadonlySet<string> = new Set(),
): string | null {
  if (variants.length === 0) return null;
  const sorted = [...variants].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const live = sorted.filter((v) => !ended.has(v.name) && v.weight > 0);
  if (live.length === 0) return sorted[0]?.name ?? null;
  const total = live.reduce((sum, v) => sum + v.weight, 0);
  const point = assignmentPoint(id, step) * total;
  let edge = 0;
  for (const v of live) {
    edge += v.weight;
    if (point < edge) return v.name;
  }
  return live[live.length - 1]?.name ?? null;
}

/** The variants of `step` on `channel` with their weights, from the program's default locale
 * (`content check` makes every locale agree on names and weights), or [] when it has none. */
export function stepVariants(
  program: Program,
  step: string,
  channel: 'sms' | 'email',
): VariantWeight[] {
  const texts = program.locales[program.defaultLocale];
  const found = texts?.variants?.[channel][step];
  if (!found) return [];
  return Object.entries(found).map(([name, v]) => ({ name, weight: v.weight }));
}

/** Steps that carry variants on either channel, in the program's own order. */
export function experimentSteps(program: Program): string[] {
  return program.steps
    .map((s) => s.key)
    .filter(
      (key) =>
        stepVariants(program, key, 'sms').length > 0 ||
        stepVariants(program, key, 'email').length > 0,
    );
}

/** Every variant name of `step` on any channel, sorted. */
export function variantNames(program: Program, step: string): string[] {
  const names = new Set([
    ...stepVariants(program, step, 'sms').map((v) => v.name),
    ...stepVariants(program, step, 'email').map((v) => v.name),
  ]);
  return [...names].sort();
}

/** The SMS text of `key` for a message that recorded `variant` (the step's default text when it
 * has none, or when content no longer has that variant). */
export function smsTextFor(
  texts: LocaleTexts | undefined,
  key: string,
  variant: string | null | undefined,
): string | undefined {
  const chosen = variant ? texts?.variants?.sms[key]?.[variant]?.text : undefined;
  return chosen ?? texts?.sms[key];
}

/** The email of `key` for a message that recorded `variant`, as smsTextFor. */
export function emailTemplateFor(
  texts: LocaleTexts | undefined,
  key: string,
  variant: string | null | undefined,
): EmailTemplate | undefined {
  const chosen = variant ? texts?.variants?.email[key]?.[variant]?.template : undefined;
  return chosen ?? texts?.email[key];
}
