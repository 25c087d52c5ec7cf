// The band logic on its own, with made-up probabilities: what a rule hit, a decisive rule,
// laughter and a second reader can and cannot do.
import { describe, expect, it } from 'vitest';
import { decideBand, raiseBand, type CategoryRisk } from '../../src/safety/bands.ts';

const model = {
  thresholds: { act: { abuse: 0.6, self_harm: 0.5 }, ask: { abuse: 0.3, self_harm: 0.2 } },
  decisiveRules: ['abuse:hit-me'],
  rulesAsk: true,
  shortAskWords: 3,
};
const risk = (abuse: [number, number], selfHarm: [number, number]): CategoryRisk => ({
  abuse: { act: abuse[0], any: abuse[1] },
  self_harm: { act: selfHarm[0], any: selfHarm[1] },
});
const low = risk([0.01, 0.02], [0.01, 0.02]);
const none = { matched: [], softened: [] };

describe('decideBand', () => {
  it.each([
    ['nothing at all', none, low, 'none', [], []],
    ['abuse over the act threshold', none, risk([0.7, 0.8], [0, 0]), 'act', ['abuse'], []],
    ['abuse between ask and act', none, risk([0.4, 0.5], [0, 0]), 'ask', [], ['abuse']],
    [
      'self-harm at its own act threshold',
      none,
      risk([0, 0], [0.5, 0.6]),
      'act',
      ['self_harm'],
      [],
    ],
    [
      'a decisive rule acts on its own',
      { matched: ['abuse:hit-me'], softened: [] },
      low,
      'act',
      ['abuse'],
      [],
    ],
    [
      'any other rule hit is at least ask',
      { matched: ['abuse:scared'], softened: [] },
      low,
      'ask',
      [],
      ['abuse'],
    ],
    [
      'laughter never cancels self-harm',
      { matched: [], softened: ['self_harm:want-to-die'] },
      low,
      'ask',
      [],
      ['self_harm'],
    ],
    ['both categories act', none, risk([0.9, 0.9], [0.9, 0.9]), 'act', ['abuse', 'self_harm'], []],
    [
      'one acts, the other is asked about',
      none,
      risk([0.9, 0.9], [0.3, 0.3]),
      'act',
      ['abuse'],
      ['self_harm'],
    ],
  ] as const)('%s', (_name, hits, r, band, categories, concern) => {
    const d = decideBand({ matched: [...hits.matched], softened: [...hits.softened] }, r, model);
    expect(d).toEqual({ band, categories, concern });
  });

  it('holds a very short reply without a rule hit at ask, however high the model scores it', () => {
    const high = risk([0.9, 0.9], [0, 0]);
    expect(decideBand(none, high, model, 3).band).toBe('ask');
    expect(decideBand(none, high, model, 4).band).toBe('act');
    expect(decideBand({ matched: ['abuse:scared'], softened: [] }, high, model, 2).band).toBe(
      'act',
    );
  });
});

describe('raiseBand', () => {
  const asked = { band: 'ask' as const, categories: [], concern: ['abuse' as const] };
  it('raises an ask to act when the reader is sure', () => {
    expect(raiseBand(asked, { abuse: 0.9 }, model.thresholds)).toEqual({
      band: 'act',
      categories: ['abuse'],
      concern: [],
    });
  });
  it('adds a concern the built-in screen missed', () => {
    expect(raiseBand(asked, { self_harm: 0.3 }, model.thresholds).concern).toEqual([
      'abuse',
      'self_harm',
    ]);
  });
  it('never lowers a band', () => {
    const acted = { band: 'act' as const, categories: ['self_harm' as const], concern: [] };
    expect(raiseBand(acted, { abuse: 0, self_harm: 0 }, model.thresholds)).toEqual(acted);
    expect(raiseBand(asked, { abuse: 0 }, model.thresholds)).toEqual(asked);
  });
});
