// The frozen blind set: 360 replies written by a separate writer before any model existed, never
// trained or tuned on (messages/safety/eval/LEDGER.md has its first look and every later one).
// Every target of the issue is asserted as it stands (models v13 and v13c meet them all here). Act recall
// is also held by a ratchet at today's count, so no change can lower it unnoticed. Raise the
// floor when a model does better; never lower it. The set has been looked at often (LEDGER.md):
// it guards against regressions, it is no longer a fair first look.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { MESSAGES_DIR } from '../../src/paths.ts';
import { parseLabelled } from '../../src/safety/data.ts';
import { evaluate, formatFigures, missedTargets } from '../../src/safety/eval.ts';
import { loadScreener } from '../../src/safety/load.ts';
import { screenReply } from '../../src/safety/screen.ts';

const file = 'messages/safety/eval/frozen-blind.jsonl';
const cases = parseLabelled(readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8'), file);
const yaml = parse(readFileSync(new URL('../../messages/safety.yaml', import.meta.url), 'utf8'));
const screener = await loadScreener(yaml, MESSAGES_DIR);

describe('frozen blind set', () => {
  it('has the shape the issue asks for', () => {
    const danger = cases.filter((c) => c.band === 'act').length;
    expect(cases.length).toBeGreaterThanOrEqual(300);
    expect(danger / cases.length).toBeGreaterThanOrEqual(1 / 3);
    expect(cases.filter((c) => c.lang === 'es').length / cases.length).toBeGreaterThanOrEqual(0.2);
    expect(cases.filter((c) => c.channel === 'email').length / cases.length).toBeGreaterThanOrEqual(
      0.2,
    );
  });

  const figures = evaluate(
    cases,
    cases.map((c) => screenReply(c.text, c.channel, screener)),
  );

  it('meets every target: act, act-or-ask, crisis routing and the false alarms', () => {
    console.log(formatFigures(figures).join('\n'));
    expect(missedTargets(figures)).toEqual([]);
  });

  // Danger replies acted on, out of 130, on 2026-12-07: models v13 and v13c 126 (v4 119, v6 and v12 121).
  const FLOORS = { actRecall: 126 } as const;

  it.each(Object.entries(FLOORS))('%s stays at or above its floor of %i', (key, floor) => {
    const r = figures[key as keyof typeof FLOORS];
    expect(r.hits).toBeGreaterThanOrEqual(floor);
  });
});
