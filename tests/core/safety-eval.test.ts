// Measures the safety screen on labelled replies: recall on danger (per category and language)
// and false alarms on ordinary replies, and prints the figures for the lead to quote.
//
// Three kinds of set, and the difference matters:
//   tuned        safety-eval.jsonl: the phrases were written with it in view.
//   development  written blind, measured once (the "first look" figures below), then used to
//                improve the phrases. They now guard against regressions; they no longer say
//                how the screen does on replies it has never seen.
//   held out     written blind and never used to write phrases. Only these estimate recall on
//                unseen replies. Do not tune on them: when you must, write a fresh set first.
//
// First look: each set scored once, before anyone tuned on it. "original" is the screen as it
// was before this work (recomputed on the sets as they are now); "first look" is the screen
// on the day the set was first scored. Later rounds then tuned on every set except blind-3.
//   set              original (abuse / self_harm / false alarms)   first look, screen of that day
//   safety-holdout   75.0 / 60.0 / 3.8                            (original)
//   safety-blind-1   72.2 / 63.6 / 0.0                            (original)
//   safety-blind-2   64.5 / 58.3 / 0.0                            (original)
//   safety-blind-4   40.5 / 45.5 / 12.1                           round 1: 81.1 / 100  / 12.1
//   safety-blind-5   37.0 / 37.5 / 2.1                            round 1: 53.6 / 50.0 / 6.1
//   safety-blind-6   45.9 / 33.3 / 4.9                            round 2: 55.3 / 50.0 / 4.9
//   safety-blind-7   39.5 / 41.7 / 4.9                            round 3: 60.5 / 61.5 / 7.0
//   safety-blind-8   35.1 / 30.8 / 7.3                            round 4: 62.2 / 46.2 / 7.1
//   safety-blind-9   47.2 / 16.7 / 4.9                            round 4: 72.2 / 33.3 / 17.1
//   safety-blind-10  48.6 /  9.1 / 7.0                            round 5: 67.6 / 45.5 / 11.6
//   safety-blind-3   56.8 / 50.0 / 0.0                            round 4: 94.6 / 100  / 0.0 (held out)
// Pooled first looks on the fresh sets written after round 1 (blind-5 to -10): abuse 62%, self
// harm 48%, false alarms 9% (original screen on the same sets: 42%, 28%, 5%). Blind-3 scores
// higher because it was written on day one, next to the first rules, and holds the examples of
// the issue itself: treat the pooled figures as the better estimate for replies never seen.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { SafetyCategory } from '../../src/content/types.ts';
import { compileSafety, SAFETY_CATEGORIES, screenText } from '../../src/core/safety.ts';

interface EvalCase {
  text: string;
  lang: 'en' | 'es';
  labels: SafetyCategory[];
  hard: boolean;
}

const safety = compileSafety(
  parse(readFileSync(new URL('../../messages/safety.yaml', import.meta.url), 'utf8')),
);

function loadCases(file: string): EvalCase[] {
  const raw = readFileSync(new URL(`../fixtures/${file}`, import.meta.url), 'utf8');
  return raw
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as EvalCase);
}

interface Cell {
  name: string;
  hits: number;
  total: number;
  kind: 'recall' | 'false alarms';
}

function measure(cases: EvalCase[]) {
  const results = cases.map((c) => ({ c, flagged: screenText(c.text, safety).categories }));
  const cells: Cell[] = [];
  const groups: Array<[string, (c: EvalCase) => boolean]> = [
    ['all', () => true],
    ['en', (c) => c.lang === 'en'],
    ['es', (c) => c.lang === 'es'],
    ['hard', (c) => c.hard],
  ];
  for (const category of SAFETY_CATEGORIES) {
    for (const [group, inGroup] of groups) {
      const danger = results.filter((r) => r.c.labels.includes(category) && inGroup(r.c));
      const hits = danger.filter((r) => r.flagged.includes(category)).length;
      cells.push({ name: `${category} ${group}`, hits, total: danger.length, kind: 'recall' });
    }
  }
  for (const [group, inGroup] of groups) {
    const ordinary = results.filter((r) => r.c.labels.length === 0 && inGroup(r.c));
    const hits = ordinary.filter((r) => r.flagged.length > 0).length;
    cells.push({ name: `ordinary ${group}`, hits, total: ordinary.length, kind: 'false alarms' });
  }
  const misses = results
    .filter((r) => r.c.labels.some((l) => !r.flagged.includes(l)))
    .map((r) => `missed ${r.c.labels.join(',')}: ${r.c.text}`);
  const alarms = results
    .filter((r) => r.c.labels.length === 0 && r.flagged.length > 0)
    .map((r) => `false alarm ${r.flagged.join(',')}: ${r.c.text}`);
  return { cells, misses, alarms };
}

const rate = (cell: Cell) => (cell.total === 0 ? NaN : cell.hits / cell.total);

function printTable(title: string, cases: EvalCase[], cells: Cell[]) {
  const pct = (n: number, of: number) => `${Math.round((100 * n) / of)}%`;
  const hard = cases.filter((c) => c.hard).length;
  const es = cases.filter((c) => c.lang === 'es').length;
  const lines = [
    `${title}: ${cases.length} replies, ${pct(hard, cases.length)} hard, ${pct(es, cases.length)} Spanish`,
    `  ${'measure'.padEnd(14)} ${'group'.padEnd(16)} ${'count'.padStart(9)}  rate`,
    ...cells.map((cell) => {
      const [what = '', group = ''] = cell.name.split(' ');
      const label = cell.kind === 'recall' ? `recall ${what}` : 'false alarms';
      const count = `${cell.hits}/${cell.total}`;
      const shown = cell.total === 0 ? '-' : `${(100 * rate(cell)).toFixed(1)}%`;
      return `  ${label.padEnd(14)} ${group.padEnd(16)} ${count.padStart(9)}  ${shown}`;
    }),
  ];
  console.log(lines.join('\n'));
}

const TUNED = 'safety-eval.jsonl';
const DEVELOPMENT = [
  'safety-holdout.jsonl',
  'safety-blind-1.jsonl',
  'safety-blind-2.jsonl',
  'safety-blind-4.jsonl',
  'safety-blind-5.jsonl',
  'safety-blind-6.jsonl',
  'safety-blind-7.jsonl',
  'safety-blind-8.jsonl',
  'safety-blind-9.jsonl',
  'safety-blind-10.jsonl',
  'safety-ordinary-stress.jsonl',
];
const HELD_OUT = ['safety-blind-3.jsonl'];

// Regression floors for the held-out set, under what it measured when it was scored (94.6% abuse,
// 100% self-harm, 0% false alarms). They guard against a change that breaks generalisation;
// they are not the estimate for unseen replies (see the pooled first looks above).
const HELD_OUT_MIN_RECALL = 0.85;
const HELD_OUT_MAX_FALSE_ALARMS = 0.08;

describe('safety screen evaluation', () => {
  const tuned = loadCases(TUNED);
  const development = DEVELOPMENT.map((file) => [file, loadCases(file)] as const);
  const heldOut = HELD_OUT.map((file) => [file, loadCases(file)] as const);

  it('has well-formed evaluation sets', () => {
    for (const [, set] of [[TUNED, tuned] as const, ...development, ...heldOut]) {
      for (const c of set) {
        expect(typeof c.text).toBe('string');
        expect(['en', 'es']).toContain(c.lang);
        expect(typeof c.hard).toBe('boolean');
        for (const l of c.labels) expect(SAFETY_CATEGORIES).toContain(l);
      }
    }
    expect(tuned.length).toBeGreaterThanOrEqual(260);
    const hardShare = tuned.filter((c) => c.hard).length / tuned.length;
    expect(hardShare).toBeGreaterThan(0.4);
    expect(tuned.filter((c) => c.lang === 'es').length / tuned.length).toBeGreaterThanOrEqual(0.1);
    // No reply appears in two sets: a held-out figure must not be propped up by a tuned twin.
    const seen = new Map<string, string>();
    for (const [file, set] of [[TUNED, tuned] as const, ...development, ...heldOut]) {
      for (const key of new Set(set.map((c) => c.text.toLowerCase()))) {
        expect(seen.get(key), `"${key}" is in ${file} and ${seen.get(key)}`).toBeUndefined();
        seen.set(key, file);
      }
    }
    for (const [, set] of heldOut) expect(set.length).toBeGreaterThanOrEqual(70);
  });

  it('catches at least 95% of danger with at most 5% false alarms (tuned set)', () => {
    const { cells, misses, alarms } = measure(tuned);
    printTable('safety-eval (tuned)', tuned, cells);
    if (misses.length + alarms.length > 0) console.log([...misses, ...alarms].join('\n'));
    for (const cell of cells.filter((c) => c.total > 0)) {
      if (cell.kind === 'recall') expect(rate(cell), cell.name).toBeGreaterThanOrEqual(0.95);
      else expect(rate(cell), cell.name).toBeLessThanOrEqual(0.05);
    }
  });

  it.each(DEVELOPMENT)('keeps its development figures on %s', (file) => {
    const set = development.find(([f]) => f === file)?.[1] ?? [];
    const { cells, misses, alarms } = measure(set);
    printTable(`${file} (development: tuned on after its first look)`, set, cells);
    if (misses.length + alarms.length > 0) console.log([...misses, ...alarms].join('\n'));
    for (const cell of cells.filter((c) => c.name.endsWith(' all') && c.total > 0)) {
      if (cell.kind === 'recall') expect(rate(cell), cell.name).toBeGreaterThanOrEqual(0.95);
      else expect(rate(cell), cell.name).toBeLessThanOrEqual(0.05);
    }
  });

  it.each(HELD_OUT)('reports held-out figures on %s (never tuned on)', (file) => {
    const set = heldOut.find(([f]) => f === file)?.[1] ?? [];
    const { cells, misses, alarms } = measure(set);
    printTable(`${file} (held out)`, set, cells);
    if (misses.length + alarms.length > 0) console.log([...misses, ...alarms].join('\n'));
    for (const cell of cells.filter((c) => c.name.endsWith(' all') && c.total > 0)) {
      if (cell.kind === 'recall')
        expect(rate(cell), cell.name).toBeGreaterThanOrEqual(HELD_OUT_MIN_RECALL);
      else expect(rate(cell), cell.name).toBeLessThanOrEqual(HELD_OUT_MAX_FALSE_ALARMS);
    }
  });
});
