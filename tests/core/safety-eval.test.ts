// Measures the safety screen on labelled replies: recall on danger (per category and language)
// and false alarms on ordinary replies. safety-eval.jsonl is the set the phrases were tuned on;
// safety-holdout.jsonl was written after tuning and never tuned on, so it estimates how the
// screen does on replies it has never seen. Figures are printed for the lead to quote.
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

describe('safety screen evaluation', () => {
  const tuned = loadCases('safety-eval.jsonl');
  const holdout = loadCases('safety-holdout.jsonl');

  it('has a well-formed evaluation set', () => {
    for (const set of [tuned, holdout]) {
      for (const c of set) {
        expect(typeof c.text).toBe('string');
        expect(['en', 'es']).toContain(c.lang);
        expect(typeof c.hard).toBe('boolean');
        for (const l of c.labels) expect(SAFETY_CATEGORIES).toContain(l);
      }
    }
    expect(tuned.length).toBeGreaterThanOrEqual(260);
    expect(holdout.length).toBeGreaterThanOrEqual(40);
    const hardShare = tuned.filter((c) => c.hard).length / tuned.length;
    expect(hardShare).toBeGreaterThan(0.4);
    expect(tuned.filter((c) => c.lang === 'es').length / tuned.length).toBeGreaterThanOrEqual(0.1);
    const seen = new Set(tuned.map((c) => c.text.toLowerCase()));
    expect(holdout.filter((c) => seen.has(c.text.toLowerCase()))).toEqual([]);
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

  // Regression floor, not a target: the held-out figures are what the screen does on replies
  // nobody tuned it on, and they are well below the tuned set (see the printed table).
  const HOLDOUT_MIN_RECALL = 0.5;
  const HOLDOUT_MAX_FALSE_ALARMS = 0.1;

  it('reports held-out figures (never tuned on)', () => {
    const { cells, misses, alarms } = measure(holdout);
    printTable('safety-holdout (untuned)', holdout, cells);
    if (misses.length + alarms.length > 0) console.log([...misses, ...alarms].join('\n'));
    const overall = cells.filter((c) => c.name.endsWith(' all') && c.total > 0);
    for (const cell of overall) {
      if (cell.kind === 'recall')
        expect(rate(cell), cell.name).toBeGreaterThanOrEqual(HOLDOUT_MIN_RECALL);
      else expect(rate(cell), cell.name).toBeLessThanOrEqual(HOLDOUT_MAX_FALSE_ALARMS);
    }
  });
});
