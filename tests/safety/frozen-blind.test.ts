// The frozen blind set: 360 replies written by a separate writer before any model existed, never
// trained or tuned on (messages/safety/eval/LEDGER.md). The targets of the safety screen are
// asserted here; a model that falls short of them does not ship.
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

  it('meets every target', () => {
    const figures = evaluate(
      cases,
      cases.map((c) => screenReply(c.text, c.channel, screener)),
    );
    console.log(formatFigures(figures).join('\n'));
    expect(missedTargets(figures)).toEqual([]);
  });
});
