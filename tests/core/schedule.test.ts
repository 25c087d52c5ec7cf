import { describe, expect, it } from 'vitest';
import type { ProgramStep } from '../../src/content/types.ts';
import { decideClaim, inQuietHours, plannedAt } from '../../src/core/schedule.ts';
import { DateTime } from 'luxon';

const quiet = { start: '21:00', end: '08:00' };
const step = (day: number, at: string): ProgramStep => ({
  key: `d${day}`,
  week: 1,
  day,
  at,
  kind: 'nudge',
});
const iso = (d: Date) => d.toISOString();

describe('plannedAt keeps local wall-clock time across daylight-saving changes', () => {
  it.each([
    // zone, start day, step day, local time, expected UTC
    ['America/New_York', '2026-03-07', 0, '09:00', '2026-03-07T14:00:00.000Z'], // EST, day before spring-forward
    ['America/New_York', '2026-03-07', 2, '09:00', '2026-03-09T13:00:00.000Z'], // EDT after it
    ['America/New_York', '2026-10-31', 0, '09:00', '2026-10-31T13:00:00.000Z'], // EDT before fall-back
    ['America/New_York', '2026-10-31', 2, '09:00', '2026-11-02T14:00:00.000Z'], // EST after it
    ['Europe/London', '2026-03-28', 0, '09:00', '2026-03-28T09:00:00.000Z'], // GMT
    ['Europe/London', '2026-03-28', 1, '09:00', '2026-03-29T08:00:00.000Z'], // BST from that morning
    ['Australia/Sydney', '2026-04-04', 0, '09:00', '2026-04-03T22:00:00.000Z'], // AEDT (+11)
    ['Australia/Sydney', '2026-04-04', 1, '09:00', '2026-04-04T23:00:00.000Z'], // AEST (+10), southern autumn
    ['Australia/Sydney', '2026-10-03', 1, '09:00', '2026-10-03T22:00:00.000Z'], // AEDT again in October
  ])('%s start %s day %i at %s -> %s', (tz, startDay, day, at, expected) => {
    expect(iso(plannedAt(step(day, at), { timezone: tz, startDay, quiet }))).toBe(expected);
  });

  it('a local time that does not exist (spring-forward gap) moves forward by the gap', () => {
    // 02:30 on 2026-03-08 does not exist in New York: clocks jump 02:00 -> 03:00.
    const at = plannedAt(step(0, '02:30'), {
      timezone: 'America/New_York',
      startDay: '2026-03-08',
      quiet: { start: '00:00', end: '00:00' },
    });
    expect(DateTime.fromJSDate(at, { zone: 'America/New_York' }).toFormat('HH:mm ZZ')).toBe(
      '03:30 -04:00',
    );
  });

  it('a local time that exists twice (fall-back) is its first occurrence', () => {
    const at = plannedAt(step(0, '01:30'), {
      timezone: 'America/New_York',
      startDay: '2026-11-01',
      quiet: { start: '00:00', end: '00:00' },
    });
    expect(iso(at)).toBe('2026-11-01T05:30:00.000Z'); // 01:30 EDT, not 01:30 EST (06:30Z)
  });

  it('the London fall-back hour is its first occurrence too', () => {
    const at = plannedAt(step(0, '01:30'), {
      timezone: 'Europe/London',
      startDay: '2026-10-25',
      quiet: { start: '00:00', end: '00:00' },
    });
    expect(iso(at)).toBe('2026-10-25T00:30:00.000Z');
  });
});

describe('quiet hours and one message a day', () => {
  it.each([
    ['20:59', false],
    ['21:00', true],
    ['23:30', true],
    ['03:00', true],
    ['07:59', true],
    ['08:00', false],
    ['12:00', false],
  ])('%s in quiet hours 21:00-08:00: %s', (hhmm, expected) => {
    const [h, m] = hhmm.split(':').map(Number);
    expect(
      inQuietHours(
        DateTime.fromObject({ year: 2026, month: 5, day: 1, hour: h, minute: m }, { zone: 'UTC' }),
        quiet,
      ),
    ).toBe(expected);
  });

  it('a step set inside quiet hours goes out when they end', () => {
    const at = plannedAt(step(0, '22:15'), {
      timezone: 'America/Chicago',
      startDay: '2026-05-04',
      quiet,
    });
    expect(DateTime.fromJSDate(at, { zone: 'America/Chicago' }).toFormat('yyyy-MM-dd HH:mm')).toBe(
      '2026-05-05 08:00',
    );
  });

  it('a preferred hour replaces the step time', () => {
    const at = plannedAt(step(1, '09:00'), {
      timezone: 'America/Denver',
      startDay: '2026-05-04',
      quiet,
      preferredHour: 19,
    });
    expect(DateTime.fromJSDate(at, { zone: 'America/Denver' }).toFormat('yyyy-MM-dd HH:mm')).toBe(
      '2026-05-05 19:00',
    );
  });

  it('a day that already had a program message pushes the step to the next day', () => {
    const at = plannedAt(step(2, '10:00'), {
      timezone: 'America/New_York',
      startDay: '2026-05-04',
      quiet,
      lastSentDay: '2026-05-06',
    });
    expect(DateTime.fromJSDate(at, { zone: 'America/New_York' }).toFormat('yyyy-MM-dd HH:mm')).toBe(
      '2026-05-07 10:00',
    );
  });
});

describe('decideClaim: catching up after downtime without bursts', () => {
  const tz = 'America/New_York';
  const ctx = { timezone: tz, startDay: '2026-05-04', quiet, catchupHours: 3 };
  const local = (s: string) => DateTime.fromISO(s, { zone: tz }).toJSDate();

  it('sends a step that is due now', () => {
    expect(
      decideClaim(step(0, '10:00'), local('2026-05-04T10:00'), local('2026-05-04T10:00:05'), ctx),
    ).toEqual({ kind: 'send', localDay: '2026-05-04' });
  });

  it('sends a step a little late (within CATCHUP_HOURS)', () => {
    expect(
      decideClaim(step(0, '10:00'), local('2026-05-04T10:00'), local('2026-05-04T12:30'), ctx).kind,
    ).toBe('send');
  });

  it('moves a step more than CATCHUP_HOURS late to its own time on the next day', () => {
    const d = decideClaim(
      step(0, '10:00'),
      local('2026-05-04T10:00'),
      local('2026-05-04T14:00'),
      ctx,
    );
    expect(d).toEqual({ kind: 'defer', until: local('2026-05-05T10:00'), reason: 'too_late' });
  });

  it('never sends in quiet hours, even when only a little late', () => {
    const d = decideClaim(
      step(0, '20:30'),
      local('2026-05-04T20:30'),
      local('2026-05-04T21:10'),
      ctx,
    );
    expect(d).toEqual({ kind: 'defer', until: local('2026-05-05T08:00'), reason: 'quiet_hours' });
  });

  it('never sends a second program message on the same local day', () => {
    const d = decideClaim(step(1, '10:00'), local('2026-05-05T10:00'), local('2026-05-05T10:00'), {
      ...ctx,
      lastSentDay: '2026-05-05',
    });
    expect(d).toEqual({
      kind: 'defer',
      until: local('2026-05-06T10:00'),
      reason: 'already_sent_today',
    });
  });
});
