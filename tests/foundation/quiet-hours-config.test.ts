// Quiet hours: the configured window may be longer than the law's 21:00-08:00, never shorter
// (start-up refuses it with the other configuration problems), and the send-time check
// (quietUntil) judges an instant in the subscriber's zone as the scheduler does.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { quietUntil } from '../../src/core/schedule.ts';

const load = (start?: string, end?: string) =>
  loadConfig({
    NODE_ENV: 'test',
    ...(start === undefined ? {} : { QUIET_HOURS_START: start }),
    ...(end === undefined ? {} : { QUIET_HOURS_END: end }),
  });

function problems(start?: string, end?: string): string[] {
  try {
    load(start, end);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
}

describe('QUIET_HOURS_START / QUIET_HOURS_END', () => {
  it.each([
    [undefined, undefined],
    ['21:00', '08:00'],
    ['20:00', '09:00'],
    ['18:30', '08:00'],
    ['21:00', '11:15'],
    ['08:01', '08:00'], // quiet all day but one minute: stricter than the law, allowed
  ])('accepts a window that covers 21:00-08:00 (%s-%s)', (start, end) => {
    expect(load(start, end).quietHours).toEqual({ start: start ?? '21:00', end: end ?? '08:00' });
  });

  it.each([
    ['22:00', '08:00'], // starts late
    ['21:00', '07:30'], // ends early
    ['21:01', '08:00'],
    ['21:00', '07:59'],
    ['08:00', '21:00'], // the wrong way round: quiet in the daytime
    ['21:00', '21:00'], // no quiet hours at all
    ['00:00', '08:00'], // does not wrap midnight: 21:00-24:00 open
    ['21:00', '23:59'], // does not wrap midnight: 00:00-08:00 open
    ['23:00', '22:00'], // wraps, but leaves 22:00-23:00 open
  ])('refuses %s-%s with one clear message naming both settings', (start, end) => {
    const p = problems(start, end);
    expect(p).toHaveLength(1);
    expect(p[0]).toContain('QUIET_HOURS_START, QUIET_HOURS_END');
    expect(p[0]).toContain(`${start}-${end}`);
    expect(p[0]).toMatch(/must cover at least 21:00-08:00/);
    expect(() => load(start, end)).toThrow(/Steady cannot start/);
  });

  it('reports the window together with the other bad settings, and a malformed time only once', () => {
    const both = (() => {
      try {
        loadConfig({ NODE_ENV: 'test', QUIET_HOURS_END: '07:00', PORT: 'abc' });
      } catch (err) {
        return (err as ConfigError).problems;
      }
      return [];
    })();
    expect(both.some((p) => p.startsWith('PORT'))).toBe(true);
    expect(both.some((p) => p.startsWith('QUIET_HOURS_START, QUIET_HOURS_END'))).toBe(true);

    const malformed = problems('25:00', '08:00');
    expect(malformed).toHaveLength(1);
    expect(malformed[0]).toMatch(/^QUIET_HOURS_START .*HH:MM/);
  });
});

describe('quietUntil (the send-time check)', () => {
  const quiet = { start: '21:00', end: '08:00' };
  const NY = 'America/New_York';
  const at = (iso: string) => new Date(iso);

  it('is null outside quiet hours and the next 08:00 local inside them', () => {
    // May: New York is UTC-4.
    expect(quietUntil(at('2026-05-05T00:59:00Z'), NY, quiet)).toBeNull(); // 20:59
    expect(quietUntil(at('2026-05-05T12:00:00Z'), NY, quiet)).toBeNull(); // 08:00
    expect(quietUntil(at('2026-05-05T01:00:00Z'), NY, quiet)).toEqual(at('2026-05-05T12:00:00Z')); // 21:00
    expect(quietUntil(at('2026-05-05T01:05:00Z'), NY, quiet)).toEqual(at('2026-05-05T12:00:00Z')); // 21:05
    expect(quietUntil(at('2026-05-05T04:30:00Z'), NY, quiet)).toEqual(at('2026-05-05T12:00:00Z')); // 00:30
    expect(quietUntil(at('2026-05-05T11:59:00Z'), NY, quiet)).toEqual(at('2026-05-05T12:00:00Z')); // 07:59
  });

  it('follows the subscriber zone and its daylight-saving change', () => {
    // 21:30 in Los Angeles is 00:30 in New York: quiet in both, ending at each one's 08:00.
    expect(quietUntil(at('2026-05-05T04:30:00Z'), 'America/Los_Angeles', quiet)).toEqual(
      at('2026-05-05T15:00:00Z'),
    );
    // The night New York springs forward (2026-03-08): 21:30 EST, then 08:00 EDT (12:00Z).
    expect(quietUntil(at('2026-03-08T02:30:00Z'), NY, quiet)).toEqual(at('2026-03-08T12:00:00Z'));
    // A wider window from the configuration.
    expect(quietUntil(at('2026-05-05T00:30:00Z'), NY, { start: '20:00', end: '09:00' })).toEqual(
      at('2026-05-05T13:00:00Z'),
    );
    // A zone that cannot be read is judged in the fallback zone.
    expect(quietUntil(at('2026-05-05T01:05:00Z'), 'Mars/Base', quiet, NY)).toEqual(
      at('2026-05-05T12:00:00Z'),
    );
  });
});
