// Stage 3a of the safety screen: a reply as features for the learned model. The text is read in
// the normalizer's canonical form (lower case, shorthand expanded, spelling keys), so "chekd my
// fone" and "checked my phone" share most of their features, and is hashed into a fixed number
// of buckets: word 1-2 grams, character 3-5 grams, and the labels of the phrase rules that fired.
// Each block is scaled to unit length, so a long email does not outweigh a short text.
import { CLAUSE_BREAK, screenForms, SENTENCE_BREAK } from '../core/normalize.ts';
import type { RuleHits } from './rules.ts';

export interface Features {
  /** Bucket indices, each at most once. */
  indices: number[];
  values: number[];
  /** The readable feature behind each index (words and rules only), for "why". */
  names?: Map<number, string>;
}

/** FNV-1a, 32 bits: stable across platforms and Node versions, so a model file stays valid. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

const BREAKS = new Set([SENTENCE_BREAK, CLAUSE_BREAK]);
const LENGTH_BUCKETS = [1, 2, 3, 5, 8, 13, 21, 34, 55];

function addBlock(
  out: Map<number, number>,
  grams: Iterable<string>,
  mask: number,
  names: Map<number, string> | undefined,
  readable: boolean,
): void {
  const block = new Map<number, number>();
  for (const gram of grams) {
    const index = hash32(gram) & mask;
    block.set(index, (block.get(index) ?? 0) + 1);
    if (names && readable && !names.has(index)) names.set(index, gram.slice(2));
  }
  let norm = 0;
  for (const v of block.values()) norm += v * v;
  const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
  for (const [index, v] of block) out.set(index, (out.get(index) ?? 0) + v * scale);
}

function* wordGrams(tokens: string[]): Generator<string> {
  for (let i = 0; i < tokens.length; i += 1) {
    const t = tokens[i] as string;
    if (BREAKS.has(t)) continue;
    yield `w:${t}`;
    const next = tokens[i + 1];
    if (next !== undefined && !BREAKS.has(next)) yield `b:${t} ${next}`;
  }
}

function* charGrams(text: string): Generator<string> {
  for (let n = 3; n <= 5; n += 1) {
    for (let i = 0; i + n <= text.length; i += 1) yield `c:${text.slice(i, i + n)}`;
  }
}

const MAX_PASSAGES = 16;

/**
 * The passages of a longer reply that are scored beside the whole (model.ts): windows of two
 * sentences or lines. A reply of one sentence has none.
 */
export function passagesOf(text: string): string[] {
  const sentences = text
    .split(/(?<=[.!?\u2026])\s+|\n+/u)
    .map((s) => s.trim())
    .filter((s) => /\p{L}/u.test(s));
  if (sentences.length < 2) return [];
  const size =
    sentences.length <= MAX_PASSAGES + 1 ? 2 : Math.ceil(sentences.length / MAX_PASSAGES) + 1;
  const out: string[] = [];
  for (let i = 0; i + 1 < sentences.length; i += size - 1)
    out.push(sentences.slice(i, i + size).join(' '));
  return out;
}

/**
 * The features of one reply: `bits` sets the number of buckets (2^bits). The canonical text comes
 * from the same normalizer the rules read; rule labels arrive as `hits`.
 */
export function extractFeatures(
  text: string,
  hits: RuleHits,
  opts: { bits: number; aliases?: ReadonlyMap<string, string>; explain?: boolean },
): Features {
  const mask = (1 << opts.bits) - 1;
  const names = opts.explain ? new Map<number, string>() : undefined;
  const canonical = screenForms(text, opts.aliases)[0] ?? '';
  const tokens = canonical.split(' ').filter((t) => t !== '');
  const out = new Map<number, number>();
  addBlock(out, wordGrams(tokens), mask, names, true);
  const words = ` ${tokens.filter((t) => !BREAKS.has(t)).join(' ')} `;
  addBlock(out, charGrams(words), mask, names, false);
  // How long the reply is, so the model learns each length's base rate: in a two-word reply
  // every n-gram weighs a lot ("see below" must not look like a disclosure).
  const count = tokens.filter((t) => !BREAKS.has(t)).length;
  const bucket = LENGTH_BUCKETS.findIndex((max) => count <= max);
  const rules: string[] = [`l:${bucket < 0 ? LENGTH_BUCKETS.length : bucket}`];
  for (const label of hits.matched) rules.push(`r:${label}`, `r:${label.split(':')[0]}`);
  for (const label of hits.softened) rules.push(`r:soft ${label}`, 'r:soft');
  for (const gram of rules) {
    const index = hash32(gram) & mask;
    out.set(index, (out.get(index) ?? 0) + 1);
    if (names && !names.has(index) && gram.startsWith('r:'))
      names.set(index, `rule ${gram.slice(2)}`);
  }
  const indices = [...out.keys()];
  return { indices, values: indices.map((i) => out.get(i) as number), ...(names ? { names } : {}) };
}
