// The frozen blind set: 360 replies written by a separate writer before any model existed, never
// trained or tuned on (messages/safety/eval/LEDGER.md has its first look and every later one).
// The false-alarm targets, the self-harm routing target and the act-or-ask target are asserted
// as they stand. One recall target is not met yet (93.1% act, against 95; models v6 and v12): it is
// asserted as a ratchet at today's figure, so no change can lower it unnoticed. Raise the floor
// when a model does better; never lower it.
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

  it('meets the false-alarm, act-or-ask and crisis-routing targets', () => {
    console.log(formatFigures(figures).join('\n'));
    const met = missedTargets(figures).filter((m) =>
      /^(ordinaryAct|ordinaryAsk|pastAct|crisisRouted|actOrAskRecall) /.test(m),
    );
    expect(met).toEqual([]);
  });

  // Danger replies acted on, out of 130, on 2026-12-07 (models v6 and v12; v4 had 119). Act or
  // ask (v12: 128) and self-harm routing (49 of 50) have their targets asserted above instead.
  const FLOORS = { actRecall: 121 } as const;

  it.each(Object.entries(FLOORS))('%s stays at or above its floor of %i', (key, floor) => {
    const r = figures[key as keyof typeof FLOORS];
    expect(r.hits).toBeGreaterThanOrEqual(floor);
  });
});
