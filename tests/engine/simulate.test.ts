// `simulate` runs the whole program through the real scheduling, reply and rendering code on a
// virtual clock: all seven weeks, at local times, the same output for the same input.
import { describe, expect, it } from 'vitest';
import { simulate } from '../../src/commands/simulate.ts';
import { ownDatabase } from '../support/db.ts';
import { testConfig } from '../support/env.ts';

describe('simulate', () => {
  it('prints all seven weeks at allowed local times, and is deterministic', async () => {
    const opts = {
      channel: 'sms' as const,
      replies: ['4', 'rough week', '2', '1'],
      tz: 'Australia/Sydney',
      start: '2026-03-30T00:00:00Z',
    };
    // Its own database: a simulation claims due steps and sends reminders across the whole
    // database at a clock weeks ahead, which took other files' rows when they shared one.
    const env = { DATABASE_URL: await ownDatabase('simulate') };
    const first = await simulate(testConfig(env), opts);
    const second = await simulate(testConfig(env), opts);
    expect(second).toEqual(first);

    const steps = first.filter(
      (l) => l.direction === 'out' && (l.kind === 'nudge' || l.kind === 'checkin'),
    );
    expect(new Set(steps.map((l) => l.step)).size).toBe(28);
    expect(steps.filter((l) => l.kind === 'checkin')).toHaveLength(7);
    // Sydney leaves daylight saving on 2026-04-05: local times must not move.
    for (const l of first.filter((x) => x.direction === 'out' && x.kind !== 'system')) {
      const hour = Number(l.local.slice(11, 13));
      expect(hour).toBeGreaterThanOrEqual(8);
      expect(hour).toBeLessThan(21);
    }
    expect(new Set(steps.map((l) => l.local.slice(11, 16)))).toEqual(
      new Set(['09:30', '12:30', '17:30', '18:30']),
    );
    // One program message per local day.
    const days = steps.map((l) => l.local.slice(0, 10));
    expect(new Set(days).size).toBe(days.length);
    // The replies were read: two low ratings in a row bring the self-care step early.
    expect(first.filter((l) => l.direction === 'in').map((l) => l.text)).toEqual([
      '4',
      'rough week',
      '2',
      '1',
    ]);
    const early = first.findIndex((l) => l.step === 'w7-d0');
    const week5 = first.findIndex((l) => l.step === 'w5-d0');
    expect(early).toBeGreaterThan(-1);
    expect(early).toBeLessThan(week5);
    expect(first.at(-1)?.text).toMatch(/end of your 7 weeks/);
  }, 120_000);
});
