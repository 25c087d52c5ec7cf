// The features, checked against the plain definition they were first written as (Maps, and
// every gram built as a string and hashed), so the faster code in src/safety/features.ts keeps
// every value to the last bit: the shipped model's weights were trained on these numbers.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { canonicalPhrase, CLAUSE_BREAK, SENTENCE_BREAK } from '../../src/core/normalize.ts';
import { parseLabelled } from '../../src/safety/data.ts';
import { extractFeatures, hash32, replyFeatures } from '../../src/safety/features.ts';
import { screeningText } from '../../src/safety/normalize.ts';
import { compileRules, matchRules, type RuleHits } from '../../src/safety/rules.ts';

const rules = compileRules(
  parse(readFileSync(new URL('../../messages/safety.yaml', import.meta.url), 'utf8')),
);
const BREAKS = new Set([SENTENCE_BREAK, CLAUSE_BREAK]);
const LENGTH_BUCKETS = [1, 2, 3, 5, 8, 13, 21, 34, 55];

/** The definition: blocks of word 1-2 grams and character 3-5 grams, each of unit length. */
function reference(canonical: string, hits: RuleHits, bits: number) {
  const mask = (1 << bits) - 1;
  const tokens = canonical.split(' ').filter((t) => t !== '');
  const out = new Map<number, number>();
  const names = new Map<number, string>();
  const addBlock = (grams: string[], name: boolean) => {
    const block = new Map<number, number>();
    for (const g of grams) {
      const index = hash32(g) & mask;
      block.set(index, (block.get(index) ?? 0) + 1);
      if (name && !names.has(index)) names.set(index, g.slice(2));
    }
    let norm = 0;
    for (const v of block.values()) norm += v * v;
    const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (const [index, v] of block) out.set(index, (out.get(index) ?? 0) + v * scale);
  };
  const words: string[] = [];
  tokens.forEach((t, i) => {
    if (BREAKS.has(t)) return;
    words.push(`w:${t}`);
    const next = tokens[i + 1];
    if (next !== undefined && !BREAKS.has(next)) words.push(`b:${t} ${next}`);
  });
  addBlock(words, true);
  const text = ` ${tokens.filter((t) => !BREAKS.has(t)).join(' ')} `;
  const chars: string[] = [];
  for (let i = 0; i + 3 <= text.length; i += 1)
    for (let n = 3; n <= 5 && i + n <= text.length; n += 1) chars.push(`c:${text.slice(i, i + n)}`);
  addBlock(chars, false);
  const count = tokens.filter((t) => !BREAKS.has(t)).length;
  const bucket = LENGTH_BUCKETS.findIndex((max) => count <= max);
  const extra = [`l:${bucket < 0 ? LENGTH_BUCKETS.length : bucket}`];
  for (const label of hits.matched) extra.push(`r:${label}`, `r:${label.split(':')[0]}`);
  for (const label of hits.softened) extra.push(`r:soft ${label}`, 'r:soft');
  for (const g of extra) {
    const index = hash32(g) & mask;
    out.set(index, (out.get(index) ?? 0) + 1);
    if (g.startsWith('r:') && !names.has(index)) names.set(index, `rule ${g.slice(2)}`);
  }
  return { indices: [...out.keys()], values: [...out.values()], names };
}

const file = new URL('../../messages/safety/train/blind-dec7.jsonl', import.meta.url);
const replies = parseLabelled(readFileSync(file, 'utf8'), file.pathname).map((r) => {
  const text = screeningText(r.text, r.channel).primary;
  return { text, hits: matchRules(text, rules) };
});

describe('features against their definition', () => {
  it.each([18, 10])('gives the same indices, values and names at %i bits', (bits) => {
    let checked = 0;
    for (const { text, hits } of replies) {
      const want = reference(canonicalPhrase(text, rules.aliases), hits, bits);
      const got = extractFeatures(text, hits, { bits, aliases: rules.aliases, explain: true });
      expect(got.indices, text).toEqual(want.indices);
      expect(got.values, text).toEqual(want.values); // exact: the same sums in the same order
      expect(got.names, text).toEqual(want.names);
      checked += 1;
    }
    expect(checked).toBe(300);
  });

  it('reads each passage as the definition reads its stretch of canonical text', () => {
    let passages = 0;
    for (const { text, hits } of replies) {
      const canonical = canonicalPhrase(text, rules.aliases);
      // The stretches: windows over the sentences that hold a letter, with whatever lies
      // between two of them (a sentence without a letter, "5") kept in.
      const sentences: string[][] = [[]];
      for (const t of canonical.split(' ').filter((x) => x !== '')) {
        if (t === SENTENCE_BREAK) sentences.push([]);
        else (sentences[sentences.length - 1] as string[]).push(t);
      }
      const spans: string[] = [];
      let lead: string[] = []; // sentences without a letter since the last one with
      const kept: Array<{ lead: string[]; own: string[] }> = [];
      for (const s of sentences) {
        if (s.some((t) => /[a-z]/.test(t))) {
          kept.push({ lead, own: s });
          lead = [];
        } else if (s.length > 0) lead.push(s.join(' '));
      }
      const n = kept.length;
      if (n >= 2) {
        const size = n <= 17 ? 2 : Math.ceil(n / 16) + 1;
        for (let i = 0; i + 1 < n; i += size - 1) {
          const window = kept.slice(i, Math.min(i + size, n));
          // A stretch starts at its first sentence's own words, not what came before them.
          const parts = window.flatMap((k, j) => [...(j > 0 ? k.lead : []), k.own.join(' ')]);
          spans.push(parts.join(' . '));
        }
      }
      const got = replyFeatures(canonical, hits, { bits: 18 }).passages;
      expect(got.length, text).toBe(spans.length);
      got.forEach((f, i) => {
        const want = reference(spans[i] as string, hits, 18);
        expect(f.indices, text).toEqual(want.indices);
        expect(f.values, text).toEqual(want.values);
      });
      passages += got.length;
    }
    expect(passages).toBeGreaterThan(100);
  });

  it('keeps a letterless sentence inside a stretch, and windows a long reply sixteen at most', () => {
    const none = { matched: [], softened: [] };
    const short = replyFeatures('he hit me . 5 . i am scared', none, { bits: 18 }).passages;
    expect(short).toHaveLength(1);
    const want = reference('he hit me . 5 . i am scared', none, 18);
    expect(short[0]?.values).toEqual(want.values);
    const long = Array.from({ length: 40 }, (_, i) => `line ${i} here`).join(' . ');
    const passages = replyFeatures(long, none, { bits: 18 }).passages;
    // 40 sentences: windows of four (ceil(40 / 16) + 1), three apart: 13 of them.
    expect(passages).toHaveLength(13);
    expect(passages[1]?.values).toEqual(
      reference('line 3 here . line 4 here . line 5 here . line 6 here', none, 18).values,
    );
  });
});
