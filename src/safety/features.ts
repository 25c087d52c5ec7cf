// Stage 3a of the safety screen: a reply as features for the learned model. The text is read in
// the normalizer's canonical form (lower case, shorthand expanded, spelling keys), so "chekd my
// fone" and "checked my phone" share most of their features, and is hashed into a fixed number
// of buckets: word 1-2 grams, character 3-5 grams, and the labels of the phrase rules that fired.
// Each block is scaled to unit length, so a long email does not outweigh a short text.
import { canonicalPhrase, CLAUSE_BREAK, SENTENCE_BREAK } from '../core/normalize.ts';
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

const FNV_OFFSET = 0x811c9dc5;
const fnvStep = (h: number, code: number) => Math.imul(h ^ code, 0x01000193);
/** FNV-1a state after a prefix, so grams of one kind hash without building their strings. */
const prefixState = (prefix: string) => {
  let h = FNV_OFFSET;
  for (let i = 0; i < prefix.length; i += 1) h = fnvStep(h, prefix.charCodeAt(i));
  return h;
};
const CHAR_PREFIX = prefixState('c:');

/** Adds one block of gram hashes, scaled to unit length, to `out`. */
function addBlock(out: Map<number, number>, hashes: readonly number[], mask: number): void {
  const block = new Map<number, number>();
  for (const h of hashes) {
    const index = (h >>> 0) & mask;
    block.set(index, (block.get(index) ?? 0) + 1);
  }
  let norm = 0;
  for (const v of block.values()) norm += v * v;
  const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
  for (const [index, v] of block) out.set(index, (out.get(index) ?? 0) + v * scale);
}

function wordGrams(tokens: string[]): string[] {
  const grams: string[] = [];
  for (let i = 0; i < tokens.length; i += 1) {
    const t = tokens[i] as string;
    if (BREAKS.has(t)) continue;
    grams.push(`w:${t}`);
    const next = tokens[i + 1];
    if (next !== undefined && !BREAKS.has(next)) grams.push(`b:${t} ${next}`);
  }
  return grams;
}

/** Hashes of the character 3-, 4- and 5-grams, equal to hash32(`c:${gram}`) for each. */
function charGramHashes(text: string): number[] {
  const out: number[] = [];
  for (let i = 0; i + 3 <= text.length; i += 1) {
    let h = CHAR_PREFIX;
    for (let k = 0; k < 5 && i + k < text.length; k += 1) {
      h = fnvStep(h, text.charCodeAt(i + k));
      if (k >= 2) out.push(h >>> 0);
    }
  }
  return out;
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
  opts: {
    bits: number;
    aliases?: ReadonlyMap<string, string>;
    explain?: boolean;
    /** The text's canonicalPhrase, when the caller has it already (screen.ts). */
    canonical?: string;
  },
): Features {
  const mask = (1 << opts.bits) - 1;
  const names = opts.explain ? new Map<number, string>() : undefined;
  const canonical = opts.canonical ?? canonicalPhrase(text, opts.aliases);
  const tokens = canonical.split(' ').filter((t) => t !== '');
  const out = new Map<number, number>();
  const grams = wordGrams(tokens);
  const hashes = grams.map(hash32);
  addBlock(out, hashes, mask);
  if (names) {
    grams.forEach((gram, i) => {
      const index = (hashes[i] as number) & mask;
      if (!names.has(index)) names.set(index, gram.slice(2));
    });
  }
  const words = ` ${tokens.filter((t) => !BREAKS.has(t)).join(' ')} `;
  addBlock(out, charGramHashes(words), mask);
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
