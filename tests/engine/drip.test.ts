// The drip engine against real PostgreSQL and Redis: enrolment, claiming, the one-message-a-day
// rule, suppression, provider errors and the sweep after Redis loses its jobs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SendError, type OutgoingSms, type SmsSender } from '../../src/channels/port.ts';
import { claimDueSteps } from '../../src/flows/claim-due.ts';
import { deliver, RetryLater } from '../../src/flows/deliver.ts';
import { enroll } from '../../src/flows/enroll.ts';
import { recordOptOut } from '../../src/flows/consent.ts';
import { requeueLost, settleStaleSending } from '../../src/flows/sweep.ts';
import { freshEmail, freshPhone, ownDatabase } from '../support/db.ts';
import { harness, type Harness } from '../support/harness.ts';

let h: Harness;
beforeAll(async () => {
  // Monday 2026-05-04 09:00 in New York.
  h = await harness({
    start: '2026-05-04T13:00:00Z',
    env: { DATABASE_URL: await ownDatabase('drip') },
  });
});
afterAll(async () => h?.close());

async function enrolled(tz = 'America/New_York') {
  const phone = await freshPhone(h.deps.db);
  const r = await enroll(h.deps, {
    phone,
    timezone: tz,
    confirm: true,
    evidence: { source: 'test' },
  });
  return { ...r, phone };
}

describe('enrolment', () => {
  it('starts the program: a welcome now, the first step planned at its local time', async () => {
    const r = await enrolled();
    expect(r.state).toBe('active');
    const e = await h.deps.db.enrollment.findUniqueOrThrow({ where: { id: r.enrollmentId } });
    const first = [...h.deps.program.steps].sort(
      (a, b) => a.day - b.day || a.at.localeCompare(b.at),
    )[0]!;
    expect(e.nextStep).toBe(first.key);
    expect(e.nextRunAt!.getTime()).toBeGreaterThan(h.clock.now().getTime());
    await h.drain();
    const welcome = h.sms.sent.filter((m) => m.to === r.phone);
    expect(welcome).toHaveLength(1);
    expect(welcome[0]!.kind).toBe('system');
  });

  it('refuses a premium-rate number and a bad time zone with clear errors', async () => {
    await expect(
      enroll(h.deps, { phone: '+19005550123', confirm: true, evidence: { source: 'test' } }),
    ).rejects.toThrow(/premium-rate/);
    await expect(
      enroll(h.deps, {
        email: freshEmail(),
        timezone: 'Mars/Base',
        confirm: true,
        evidence: { source: 'test' },
      }),
    ).rejects.toThrow(/time zone/);
  });
});

describe('claiming due steps', () => {
  it('sends each step once, one program message per local day, and advances the enrollment', async () => {
    const r = await enrolled();
    await h.drain();
    const seen: string[] = [];
    for (let i = 0; i < 6; i++) {
      const e = await h.deps.db.enrollment.findUniqueOrThrow({ where: { id: r.enrollmentId } });
      h.clock.set(e.nextRunAt!);
      await claimDueSteps(h.deps);
      await h.drain();
      const msgs = await h.deps.db.message.findMany({
        where: { enrollmentId: r.enrollmentId, step: { not: null } },
        orderBy: { createdAt: 'asc' },
      });
      seen.push(...msgs.map((m) => m.step!).filter((s) => !seen.includes(s)));
    }
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.length).toBe(6);
    const sent = await h.deps.db.message.findMany({
      where: { enrollmentId: r.enrollmentId, step: { not: null } },
    });
    const days = sent.map((m) =>
      m.sentAt!.toLocaleDateString('en-CA', { timeZone: 'America/New_York' }),
    );
    expect(new Set(days).size).toBe(days.length); // never two program messages on one local day
    for (const m of sent) {
      const hour = Number(
        m.sentAt!.toLocaleString('en-US', {
          timeZone: 'America/New_York',
          hour: 'numeric',
          hourCycle: 'h23',
        }),
      );
      expect(hour).toBeGreaterThanOrEqual(8);
      expect(hour).toBeLessThan(21);
    }
  });

  it('a claim that finds nothing due changes nothing', async () => {
    const r = await enrolled();
    const before = await h.deps.db.enrollment.findUniqueOrThrow({ where: { id: r.enrollmentId } });
    h.clock.set(new Date(before.nextRunAt!.getTime() - 60_000));
    await claimDueSteps(h.deps);
    const after = await h.deps.db.enrollment.findUniqueOrThrow({ where: { id: r.enrollmentId } });
    expect(after.nextStep).toBe(before.nextStep);
    expect(
      await h.deps.db.message.count({
        where: { enrollmentId: r.enrollmentId, step: { not: null } },
      }),
    ).toBe(0);
  });

  it('after downtime, a step many hours late waits for its time the next day instead of bursting', async () => {
    const r = await enrolled();
    await h.drain();
    const e = await h.deps.db.enrollment.findUniqueOrThrow({ where: { id: r.enrollmentId } });
    h.clock.set(new Date(e.nextRunAt!.getTime() + 30 * 3600_000)); // down for more than a day
    const tick = await claimDueSteps(h.deps);
    expect(tick.deferred).toBeGreaterThanOrEqual(1);
    const after = await h.deps.db.enrollment.findUniqueOrThrow({ where: { id: r.enrollmentId } });
    expect(after.nextStep).toBe(e.nextStep);
    expect(after.nextRunAt!.getTime()).toBeGreaterThan(h.clock.now().getTime());
    expect(
      await h.deps.db.message.count({
        where: { enrollmentId: r.enrollmentId, step: { not: null } },
      }),
    ).toBe(0);
  });
});

describe('delivery', () => {
  it('suppresses a queued nudge for a subscriber who stopped before it went out', async () => {
    const r = await enrolled();
    await h.drain();
    const e = await h.deps.db.enrollment.findUniqueOrThrow({ where: { id: r.enrollmentId } });
    h.clock.set(e.nextRunAt!);
    await claimDueSteps(h.deps);
    const m = await h.deps.db.message.findFirstOrThrow({
      where: { enrollmentId: r.enrollmentId, step: { not: null } },
    });
    // STOP arrives between queueing and sending: mark the row queued again to model the race.
    await h.deps.db.$transaction((tx) =>
      recordOptOut(tx, r.subscriberId, 'sms', { source: 'test' }, h.clock.now()),
    );
    await h.deps.db.message.update({ where: { id: m.id }, data: { status: 'queued' } });
    const before = h.sms.sent.length;
    expect(await deliver(h.deps, m.id)).toBe('suppressed');
    expect(h.sms.sent.length).toBe(before);
    expect((await h.deps.db.message.findUniqueOrThrow({ where: { id: m.id } })).status).toBe(
      'suppressed',
    );
  });

  it('retries a provider 500 and sends once it recovers; a permanent error is not retried', async () => {
    let failures = 2;
    const flaky: SmsSender = {
      name: 'flaky',
      async send(m: OutgoingSms) {
        if (m.body.length > 0 && failures-- > 0)
          throw new SendError('provider_down', { retryable: true, providerCode: 500 });
        return { providerId: 'SMok', status: 'queued' };
      },
    };
    const r = await enrolled();
    const welcome = await h.deps.db.message.findFirstOrThrow({
      where: { subscriberId: r.subscriberId, template: 'welcome' },
    });
    const deps = { ...h.deps, sms: flaky };
    await expect(deliver(deps, welcome.id, { finalAttempt: false })).rejects.toBeInstanceOf(
      RetryLater,
    );
    expect((await h.deps.db.message.findUniqueOrThrow({ where: { id: welcome.id } })).status).toBe(
      'queued',
    );
    await expect(deliver(deps, welcome.id, { finalAttempt: false })).rejects.toBeInstanceOf(
      RetryLater,
    );
    expect(await deliver(deps, welcome.id, { finalAttempt: false })).toBe('sent');
    const row = await h.deps.db.message.findUniqueOrThrow({ where: { id: welcome.id } });
    expect(row.status).toBe('sent');
    expect(row.attempts).toBe(3);

    const r2 = await enrolled();
    const w2 = await h.deps.db.message.findFirstOrThrow({
      where: { subscriberId: r2.subscriberId, template: 'welcome' },
    });
    let calls = 0;
    const invalid: SmsSender = {
      name: 'invalid',
      async send() {
        calls++;
        throw new SendError('invalid_recipient', { retryable: false, providerCode: 21211 });
      },
    };
    expect(await deliver({ ...h.deps, sms: invalid }, w2.id, { finalAttempt: false })).toBe(
      'failed',
    );
    expect(await deliver({ ...h.deps, sms: invalid }, w2.id, { finalAttempt: false })).toBe(
      'skipped',
    );
    expect(calls).toBe(1);
  });

  it('a carrier opt-out (21610) stops the subscriber', async () => {
    const r = await enrolled();
    const w = await h.deps.db.message.findFirstOrThrow({
      where: { subscriberId: r.subscriberId, template: 'welcome' },
    });
    const optedOut: SmsSender = {
      name: 'opted-out',
      async send() {
        throw new SendError('opted_out', { retryable: false, providerCode: 21610 });
      },
    };
    expect(await deliver({ ...h.deps, sms: optedOut }, w.id)).toBe('failed');
    const s = await h.deps.db.subscriber.findUniqueOrThrow({
      where: { id: r.subscriberId },
      include: { enrollments: true, consents: true },
    });
    expect(s.status).toBe('stopped');
    expect(s.enrollments[0]!.state).toBe('stopped');
    expect(s.consents.some((c) => c.kind === 'opt_out' && c.source === 'carrier')).toBe(true);
  });

  it('loses nothing when Redis loses its jobs: the sweep queues them again', async () => {
    const subs = await Promise.all([enrolled(), enrolled(), enrolled()]);
    // Throw away every job under this test's prefix, as a Redis restart without persistence would.
    const keys = await h.deps.redis.keys(`${h.config.redisPrefix}:*`);
    if (keys.length) await h.deps.redis.del(...keys);
    expect(await h.drain()).toBe(0);
    expect(await requeueLost(h.deps, { staleMs: 0 })).toBeGreaterThanOrEqual(3);
    await h.drain();
    for (const s of subs) expect(h.sms.sent.filter((m) => m.to === s.phone)).toHaveLength(1);
  });

  it('a message left "sending" by a dead worker becomes unknown and is not resent', async () => {
    const r = await enrolled();
    const w = await h.deps.db.message.findFirstOrThrow({
      where: { subscriberId: r.subscriberId, template: 'welcome' },
    });
    await h.deps.db.message.update({ where: { id: w.id }, data: { status: 'sending' } });
    await h.deps.db.message.update({
      where: { id: w.id },
      data: { updatedAt: new Date(Date.now() - 6 * 60_000) },
    });
    const settled = await settleStaleSending(h.deps);
    expect(settled.unknown).toBeGreaterThanOrEqual(1);
    expect((await h.deps.db.message.findUniqueOrThrow({ where: { id: w.id } })).status).toBe(
      'unknown',
    );
    expect(await deliver(h.deps, w.id)).toBe('skipped');
  });
});
