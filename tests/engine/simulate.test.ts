// `simulate` runs the whole program through the real scheduling, reply and rendering code on a
// virtual clock: all seven weeks, at local times, the same output for the same input.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { simulate } from '../../src/commands/simulate.ts';
import { createDb } from '../../src/db/client.ts';
import { freshPhone, ownDatabase } from '../support/db.ts';
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

describe('simulate beside real people', () => {
  it('leaves real pauses, check-ins and messages in the same database alone', async () => {
    // The same database as a real deployment's: a paused person whose timed pause ends within the
    // simulated weeks, and a person with an open check-in whose reminder falls due in them.
    const url = await ownDatabase('simulate');
    const cfg = testConfig({ DATABASE_URL: url });
    const db = createDb(url, { max: 2 });
    const start = '2026-03-02T15:00:00Z';
    const day = 86400_000;
    const at = (days: number) => new Date(new Date(start).getTime() + days * day);
    const made: string[] = [];
    try {
      const paused = await db.subscriber.create({
        data: { phone: await freshPhone(db), timezone: 'America/New_York', status: 'active' },
      });
      made.push(paused.id);
      const pausedEnrollment = await db.enrollment.create({
        data: {
          subscriberId: paused.id,
          program: cfg.program,
          channel: 'sms',
          state: 'paused',
          nextStep: 'w2-d0',
          startedAt: at(-10),
          pausedUntil: at(3),
        },
      });
      const waiting = await db.subscriber.create({
        data: { phone: await freshPhone(db), timezone: 'America/New_York', status: 'active' },
      });
      made.push(waiting.id);
      const waitingEnrollment = await db.enrollment.create({
        data: {
          subscriberId: waiting.id,
          program: cfg.program,
          channel: 'sms',
          state: 'active',
          nextStep: 'w2-d0',
          // Far off, so only the reminder could ever be written for this person.
          nextRunAt: at(400),
          startedAt: at(-10),
        },
      });
      const checkin = await db.checkin.create({
        data: {
          enrollmentId: waitingEnrollment.id,
          messageId: randomUUID(),
          step: 'w1-d6',
          week: 1,
          openedAt: at(-1),
          reminderDueAt: at(1),
          closesAt: at(60),
        },
      });

      const lines = await simulate(cfg, {
        channel: 'sms',
        replies: [],
        tz: 'America/New_York',
        start,
      });
      expect(lines.length).toBeGreaterThan(28);

      const afterCheckin = await db.checkin.findUniqueOrThrow({ where: { id: checkin.id } });
      expect(afterCheckin.reminderSentAt).toBeNull();
      expect(
        await db.message.count({
          where: {
            OR: [
              { subscriberId: { in: [paused.id, waiting.id] } },
              { toAddr: { in: [paused.phone!, waiting.phone!] } },
            ],
          },
        }),
      ).toBe(0);
      expect(
        await db.consentEvent.count({ where: { subscriberId: { in: [paused.id, waiting.id] } } }),
      ).toBe(0);
      const afterPause = await db.enrollment.findUniqueOrThrow({
        where: { id: pausedEnrollment.id },
      });
      expect(afterPause.state).toBe('paused');
      expect(afterPause.pausedUntil).toEqual(at(3));
      expect(afterPause.nextRunAt).toBeNull();
    } finally {
      await db.subscriber.deleteMany({ where: { id: { in: made } } });
      await db.$disconnect();
    }
  }, 120_000);
});
