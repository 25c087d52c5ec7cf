// Experiments in content: a step's variants, read and checked.
//
// In <locale>/sms.yaml a step's value is a text, or
//     w2-d0:
//       variants:
//         a: "text"                       # weight 1
//         b: { text: "text", weight: 2 }
// and in <locale>/email/ a step with variants has one file per variant, `<step>.<variant>.md`
// (no plain `<step>.md`), with an optional `weight:` in its front matter (1 when absent).
// Variant names are lowercase letters, digits and "_"; weights are positive numbers (relative:
// 1 and 1 is an even split). Every locale of a program has the same variants with the same weights
// on a channel, and a step with variants on both channels has the same names on both. A step may
// have variants on one channel only: the other sends its one text, and its rows record no variant.
import type { Problems } from './errors.ts';
import type { EmailTemplate, LocaleTexts, StepVariants } from './types.ts';

const VARIANT_NAME = /^[a-z][a-z0-9_]{0,19}$/;
const NAME_RULE = 'a lowercase letter, then up to 19 lowercase letters, digits or "_"';

export function emptyVariants(): StepVariants {
  return { sms: {}, email: {} };
}

/** Weights as written: positive and finite, 1 when absent. */
function weightProblem(weight: unknown): string | null {
  if (weight === undefined) return null;
  if (typeof weight !== 'number' || !Number.isFinite(weight) || weight <= 0)
    return `has weight ${JSON.stringify(weight)}: a weight is a positive number (relative: 1 and 1 split evenly)`;
  return null;
}

/**
 * Reads `steps.<key>.variants` of sms.yaml into `into.sms[key]`. Returns the text of the first
 * variant (by name), which stands for the step wherever one text per key is expected, or
 * undefined when nothing usable was found (the problems say why).
 */
export function readSmsVariants(
  key: string,
  raw: Record<string, unknown>,
  file: string,
  into: StepVariants,
  p: Problems,
): string | undefined {
  const found: Record<string, { text: string; weight: number }> = {};
  for (const [name, value] of Object.entries(raw)) {
    const label = `steps.${key}.variants.${name}`;
    if (!VARIANT_NAME.test(name)) {
      p.error(file, `${label}: a variant name is ${NAME_RULE}`);
      continue;
    }
    const v =
      typeof value === 'string'
        ? { text: value }
        : value && typeof value === 'object' && !Array.isArray(value)
          ? (value as Record<string, unknown>)
          : null;
    const extra = v ? Object.keys(v).filter((k) => k !== 'text' && k !== 'weight') : [];
    if (!v || typeof v.text !== 'string' || !v.text.trim() || extra.length > 0) {
      p.error(file, `${label} must be a text, or { text: "...", weight: 1 }`);
      continue;
    }
    const bad = weightProblem(v.weight);
    if (bad) {
      p.error(file, `${label} ${bad}`);
      continue;
    }
    found[name] = { text: v.text.trim(), weight: (v.weight as number | undefined) ?? 1 };
  }
  const names = Object.keys(found).sort();
  if (Object.keys(raw).length < 2)
    p.error(file, `steps.${key}.variants needs at least two variants (found ${names.length})`);
  if (names.length === 0) return undefined;
  into.sms[key] = Object.fromEntries(names.map((n) => [n, found[n]!]));
  return found[names[0]!]?.text;
}

/** "w2-d0.b" -> { step: "w2-d0", variant: "b" }; null for a plain "w2-d0". */
export function splitVariantKey(key: string): { step: string; variant: string } | null {
  const dot = key.indexOf('.');
  if (dot === -1) return null;
  return { step: key.slice(0, dot), variant: key.slice(dot + 1) };
}

/** Files `<step>.<variant>.md` of one locale, already parsed, into `into.email`. Returns the step
 * keys that have variant files. */
export function readEmailVariants(
  files: { path: string; key: string; template: EmailTemplate & { weight?: number } }[],
  plainKeys: ReadonlySet<string>,
  into: StepVariants,
  p: Problems,
): Set<string> {
  const steps = new Set<string>();
  for (const f of files) {
    const split = splitVariantKey(f.key);
    if (!split) continue;
    steps.add(split.step);
    if (!VARIANT_NAME.test(split.variant)) {
      p.error(f.path, `"${split.variant}" is not a variant name: use ${NAME_RULE}`);
      continue;
    }
    const forStep = (into.email[split.step] ??= {});
    forStep[split.variant] = { template: f.template, weight: f.template.weight ?? 1 };
  }
  for (const step of steps) {
    const dir = files[0]?.path.slice(0, files[0].path.lastIndexOf('/')) ?? '';
    const n = Object.keys(into.email[step] ?? {}).length;
    if (plainKeys.has(step)) {
      p.error(
        `${dir}/${step}.md`,
        `step "${step}" has variant files (${step}.<variant>.md) too: name this one ${step}.a.md, or remove the variants`,
      );
    }
    if (n < 2) p.error(`${dir}/${step}.*.md`, `step "${step}" needs at least two variant files`);
  }
  for (const [step, vs] of Object.entries(into.email)) {
    into.email[step] = Object.fromEntries(
      Object.keys(vs)
        .sort()
        .map((n) => [n, vs[n]!]),
    );
  }
  return steps;
}

function describe(vs: Record<string, { weight: number }> | undefined): string {
  if (!vs) return 'no variants';
  return `variants ${Object.entries(vs)
    .map(([n, v]) => `${n} (weight ${v.weight})`)
    .join(', ')}`;
}

/**
 * Across a program's locales and channels: the same variants with the same weights in every
 * locale of a channel, and the same names on both channels when both have variants. `where` names
 * a locale's files.
 */
export function checkVariantsAgree(
  locales: Record<string, LocaleTexts>,
  defaultLocale: string,
  where: (locale: string, channel: 'sms' | 'email') => string,
  p: Problems,
): void {
  for (const channel of ['sms', 'email'] as const) {
    // A file that could not be read at all is reported once, as itself: only readable ones count.
    const readable = Object.entries(locales).filter(([, t]) => Object.keys(t[channel]).length > 0);
    const [baseLocale, base] =
      readable.find(([locale]) => locale === defaultLocale) ?? readable[0] ?? [];
    if (!base || baseLocale === undefined) continue;
    const steps = new Set(readable.flatMap(([, t]) => Object.keys(t.variants?.[channel] ?? {})));
    for (const step of steps) {
      const want = describe(base.variants?.[channel][step]);
      for (const [locale, texts] of readable) {
        if (locale === baseLocale) continue;
        const got = describe(texts.variants?.[channel][step]);
        if (got !== want) {
          p.error(
            where(locale, channel),
            `step "${step}" has ${got}, but ${baseLocale} has ${want}: every locale needs the same variants and weights`,
          );
        }
      }
    }
  }
  const baseLocale = locales[defaultLocale] ? defaultLocale : Object.keys(locales)[0];
  const base = baseLocale === undefined ? undefined : locales[baseLocale];
  if (!base || baseLocale === undefined) return;
  const sms = base.variants?.sms ?? {};
  const email = base.variants?.email ?? {};
  for (const step of new Set([...Object.keys(sms), ...Object.keys(email)])) {
    const a = Object.keys(sms[step] ?? {}).join(', ');
    const b = Object.keys(email[step] ?? {}).join(', ');
    if (a && b && a !== b) {
      p.error(
        where(baseLocale, 'email'),
        `step "${step}" has variants ${b} by email but ${a} by SMS: use the same names`,
      );
    }
  }
}
