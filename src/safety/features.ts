// Stage 3a of the safety screen: a reply as features for the learned model. The text is read in
// the normalizer's canonical form (lower case, shorthand expanded, spelling keys), so "chekd my
// fone" and "checked my phone" share most of their features, and is hashed into a fixed number
// of buckets: word 1-2 grams, character 3-5 grams, and the labels of the phrase rules that fired.
// Each block is scaled to unit length, so a long email does not outweigh a short text. A reply is
// read and hashed once (gramsOf); the whole and each passage (a window of its sentences) are
// stretches of that reading (spanFeatures).
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

const W_PREFIX = prefixState('w:');
const B_PREFIX = prefixState('b:');
const hashOn = (state: number, text: string) => {
  let h = state;
  for (let i = 0; i < text.length; i += 1) h = fnvStep(h, text.charCodeAt(i));
  return h;
};

/**
 * Working memory for adding up buckets: one number per bucket, zero between calls, and the
 * buckets touched in the order first touched (the order of the features, so sums are the same
 * whoever adds them up). Emptied after each use and checked empty before it (spanFeatures), so
 * nothing passes from one reply to the next; 16 bytes a bucket (4 MB at 18 bits) per size used.
 */
class Buckets {
  readonly value: Float64Array;
  readonly touched: number[] = [];
  constructor(bits: number) {
    this.value = new Float64Array(1 << bits);
  }
  add(index: number, v: number): void {
    if (this.value[index] === 0) this.touched.push(index);
    this.value[index] = (this.value[index] as number) + v;
  }
  clear(): void {
    for (const index of this.touched) this.value[index] = 0;
    this.touched.length = 0;
  }
}

const scratch = new Map<number, { block: Buckets; out: Buckets }>();
function scratchFor(bits: number) {
  let s = scratch.get(bits);
  if (s === undefined)
    scratch.set(bits, (s = { block: new Buckets(bits), out: new Buckets(bits) }));
  return s;
}

/** Counts gram hashes into `block`. */
function countInto(
  block: Buckets,
  hashes: ArrayLike<number>,
  from: number,
  to: number,
  mask: number,
) {
  for (let i = from; i < to; i += 1) block.add((hashes[i] as number) & mask, 1);
}

/** Adds the counted block, scaled to unit length, to `out`, and clears the block. */
function flushBlock(block: Buckets, out: Buckets): void {
  const { value, touched } = block;
  let norm = 0;
  for (let k = 0; k < touched.length; k += 1) {
    const v = value[touched[k] as number] as number;
    norm += v * v;
  }
  const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
  for (let k = 0; k < touched.length; k += 1) {
    const index = touched[k] as number;
    out.add(index, (value[index] as number) * scale);
    value[index] = 0;
  }
  touched.length = 0;
}

function emit(out: Buckets, names?: Map<number, string>): Features {
  const indices: number[] = [];
  const values: number[] = [];
  for (const index of out.touched) {
    indices.push(index);
    values.push(out.value[index] as number);
  }
  out.clear();
  return { indices, values, ...(names ? { names } : {}) };
}

const MAX_PASSAGES = 16;

/** A reply read once: its grams hashed, with where each sentence's grams are. */
interface Grams {
  /** The word tokens (no breaks), in order. */
  words: string[];
  /** Hashes of the word 1-2 grams, in order of their first word. */
  wordHashes: number[];
  /** The readable gram behind each word hash (with names only). */
  wordNames?: string[];
  /** For each word token, the index of its first word gram. */
  firstWordGram: number[];
  /** Hashes of the character 3-5 grams of " w1 w2 ... ": [start * 3 + length - 3]. */
  charHashes: Int32Array;
  /** Where each word token starts in that string. */
  offsets: number[];
  /** The sentences with a letter in them, as [first word token, last word token]. */
  sentences: Array<[number, number]>;
}

function gramsOf(canonical: string, withNames: boolean): Grams {
  const tokens = canonical.split(' ').filter((t) => t !== '');
  const words: string[] = [];
  const wordHashes: number[] = [];
  const wordNames: string[] | undefined = withNames ? [] : undefined;
  const firstWordGram: number[] = [];
  const sentences: Array<[number, number]> = [];
  let sentenceStart = -1;
  let sentenceHasLetter = false;
  const closeSentence = () => {
    if (sentenceStart >= 0 && sentenceHasLetter) sentences.push([sentenceStart, words.length - 1]);
    sentenceStart = -1;
    sentenceHasLetter = false;
  };
  for (let i = 0; i < tokens.length; i += 1) {
    const t = tokens[i] as string;
    if (BREAKS.has(t)) {
      if (t === SENTENCE_BREAK) closeSentence();
      continue;
    }
    if (sentenceStart < 0) sentenceStart = words.length;
    if (/[a-z]/.test(t)) sentenceHasLetter = true;
    firstWordGram.push(wordHashes.length);
    words.push(t);
    wordHashes.push(hashOn(W_PREFIX, t) >>> 0);
    wordNames?.push(t);
    const next = tokens[i + 1];
    if (next !== undefined && !BREAKS.has(next)) {
      wordHashes.push(hashOn(fnvStep(hashOn(B_PREFIX, t), 32), next) >>> 0);
      wordNames?.push(`${t} ${next}`);
    }
  }
  closeSentence();
  const text = ` ${words.join(' ')} `;
  const offsets: number[] = [];
  let at = 1;
  for (const w of words) {
    offsets.push(at);
    at += w.length + 1;
  }
  const charHashes = new Int32Array(text.length * 3);
  for (let i = 0; i + 3 <= text.length; i += 1) {
    let h = CHAR_PREFIX;
    for (let k = 0; k < 5 && i + k < text.length; k += 1) {
      h = fnvStep(h, text.charCodeAt(i + k));
      if (k >= 2) charHashes[i * 3 + k - 2] = h;
    }
  }
  return {
    words,
    wordHashes,
    ...(wordNames ? { wordNames } : {}),
    firstWordGram,
    charHashes,
    offsets,
    sentences,
  };
}

/** Counts the character grams that lie inside text[from, to), by start then length. */
function countCharGrams(block: Buckets, g: Grams, from: number, to: number, mask: number): void {
  for (let i = from; i + 3 <= to; i += 1)
    for (let k = 0; k < 3 && i + 3 + k <= to; k += 1)
      block.add((g.charHashes[i * 3 + k] as number) & mask, 1);
}

interface Settings {
  bits: number;
  explain?: boolean;
}

const LENGTH_GRAMS = [...LENGTH_BUCKETS, Infinity].map((_, bucket) => hash32(`l:${bucket}`));

/** The features of the word tokens [first, last] of a reply read by gramsOf. */
function spanFeatures(
  g: Grams,
  first: number,
  last: number,
  rules: { grams: readonly string[]; hashes: readonly number[] },
  o: Settings,
): Features {
  const mask = (1 << o.bits) - 1;
  const { block, out } = scratchFor(o.bits);
  // Empty unless an earlier call threw half way: never let one reply's counts reach another's.
  block.clear();
  out.clear();
  const names = o.explain ? new Map<number, string>() : undefined;
  const fromGram =
    first < g.words.length ? (g.firstWordGram[first] as number) : g.wordHashes.length;
  const toGram =
    last + 1 < g.words.length ? (g.firstWordGram[last + 1] as number) : g.wordHashes.length;
  countInto(block, g.wordHashes, fromGram, toGram, mask);
  flushBlock(block, out);
  if (names && g.wordNames) {
    for (let i = fromGram; i < toGram; i += 1) {
      const index = (g.wordHashes[i] as number) & mask;
      if (!names.has(index)) names.set(index, g.wordNames[i] as string);
    }
  }
  // The characters from the space before the first word to the space after the last.
  const from = first < g.words.length ? (g.offsets[first] as number) - 1 : 0;
  const to =
    last >= first && last < g.words.length
      ? (g.offsets[last] as number) + (g.words[last] as string).length + 1
      : 2;
  countCharGrams(block, g, from, to, mask);
  flushBlock(block, out);
  // How long the reply is, so the model learns each length's base rate: in a two-word reply
  // every n-gram weighs a lot ("see below" must not look like a disclosure).
  const count = last >= first ? last - first + 1 : 0;
  const bucket = LENGTH_BUCKETS.findIndex((max) => count <= max);
  out.add((LENGTH_GRAMS[bucket < 0 ? LENGTH_BUCKETS.length : bucket] as number) & mask, 1);
  rules.hashes.forEach((h, i) => {
    const index = h & mask;
    out.add(index, 1);
    if (names && !names.has(index)) names.set(index, `rule ${(rules.grams[i] as string).slice(2)}`);
  });
  return emit(out, names);
}

/** The rule hits as features (each label, its category, the softened ones), hashed once. */
function rulesOf(hits: RuleHits) {
  const grams: string[] = [];
  for (const label of hits.matched) grams.push(`r:${label}`, `r:${label.split(':')[0]}`);
  for (const label of hits.softened) grams.push(`r:soft ${label}`, 'r:soft');
  return { grams, hashes: grams.map(hash32) };
}

/**
 * The features of one reply: `bits` sets the number of buckets (2^bits). The canonical text comes
 * from the same normalizer the rules read; rule labels arrive as `hits`.
 */
export function extractFeatures(
  text: string,
  hits: RuleHits,
  opts: Settings & {
    aliases?: ReadonlyMap<string, string>;
    /** The text's canonicalPhrase, when the caller has it already (screen.ts). */
    canonical?: string;
  },
): Features {
  const g = gramsOf(opts.canonical ?? canonicalPhrase(text, opts.aliases), opts.explain === true);
  return spanFeatures(g, 0, g.words.length - 1, rulesOf(hits), opts);
}

/**
 * A reply's features, whole and by passage. The passages of a longer reply are scored beside the
 * whole (model.ts): windows of two sentences of its canonical text (a long reply: wider windows,
 * at most 16 of them); a passage's features are those of its stretch of canonical text, as if it
 * were a reply of its own, a sentence without a letter ("5") between two included. A sentence
 * ends at the normalizer's sentence breaks (. ! ? ; : and a spaced dash), not at a line break,
 * which the normalizer reads as a space: lines without punctuation are one sentence (v14b, which
 * ended sentences at line breaks too, was refused on its first look; eval/LEDGER.md). A reply
 * of one sentence has none. The reply is read and hashed once.
 */
export function replyFeatures(
  canonical: string,
  hits: RuleHits,
  opts: Settings,
): { whole: Features; passages: Features[] } {
  const g = gramsOf(canonical, false);
  const rules = rulesOf(hits);
  const whole = spanFeatures(g, 0, g.words.length - 1, rules, opts);
  const n = g.sentences.length;
  const passages: Features[] = [];
  if (n >= 2) {
    const size = n <= MAX_PASSAGES + 1 ? 2 : Math.ceil(n / MAX_PASSAGES) + 1;
    for (let i = 0; i + 1 < n; i += size - 1) {
      const first = (g.sentences[i] as [number, number])[0];
      const last = (g.sentences[Math.min(i + size, n) - 1] as [number, number])[1];
      passages.push(spanFeatures(g, first, last, rules, opts));
    }
  }
  return { whole, passages };
}
