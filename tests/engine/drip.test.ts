// The drip engine against real PostgreSQL and Redis, sent by the real workers through the real
// Twilio SDK to the local fake Twilio API: enrolment, claiming, the one-message-a-day rule,
// suppression, provider errors as Twilio answers them, and the sweep after Redis loses its jobs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimDueSteps } from '../../src/flows/claim-due.ts';
import { deliver } from '../../src/flows/deliver.ts';
import { enroll } from '../../src/flows/enroll.ts';
import { recordOptOut } from '../../src/flows/consent.ts';
import { requeueLost, settleStaleSending } from '../../src/flows/sweep.ts';
import { freshEmail, ownDatabase } from '../support/db.ts';
import { enrolledByPhone, harness, type Harness } from '../support/harness.ts';

let h: Harness;
beforeAll(async () => {
  // Monday 2026-05-04 09:00 in New York.
  h = await harness({
    start: '2026-05-04T13:00:00Z',
    env: { DATABASE_URL: await ownDatabase('drip') },
  });
});
afterAll(async () => h?.close());

const enrolled = (tz?: string) => enrolledByPhone(h, tz);

describe('enrolment', () => {
  it('starts the program: a welcome now, the first step planned at its local time', async () => {
    const r = await enrolled();
    expect(r.state).toBe('active');
    const e = await h.deps.db.enrollment.findUniqueOrThrow({ where: { id: r.enrollmentId } });
    const first = [...h.deps.programs.default.steps].sort(
      (a, b) => a.day - b.day || a.at.localeCompare(b.at),
    )[0]!;
    expect(e.nextStep).toBe(first.key);
    expect(e.nextRunAt!.getTime()).toBeGreaterThan(h.clock.now().getTime());
    await h.settle();
    const welcome = h.smsTo(r.phone);
    expect(welcome).toHaveLength(1);
    const row = await h.deps.db.message.findFirstOrThrow({
      where: { providerId: welcome[0]!.sid },
    });
    expect(row).toMatchObject({ kind: 'system', template: 'welcome', status: 'sent' });
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
    await h.settle();
    const seen: string[] = [];
    for (let i = 0; i < 6; i++) {
      const e = await h.deps.db.enrollment.findUniqueOrThrow({ where: { id: r.enrollmentId } });
      h.clock.set(e.nextRunAt!);
      await claimDueSteps(h.deps);
      await h.settle();
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
    await h.settle();
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
    await h.settle();
    const e = await h.deps.db.enrollment.findUniqueOrThrow({ where: { id: r.enrollmentId } });
    h.clock.set(e.nextRunAt!);
    // STOP arrives between queueing and sending: the workers stand by until it is recorded.
    await h.pauseWorkers();
    try {
      await claimDueSteps(h.deps);
      await h.deps.db.$transaction((tx) =>
        recordOptOut(tx, r.subscriberId, 'sms', { source: 'test' }, h.clock.now()),
      );
    } finally {
      h.resumeWorkers();
    }
    const m = await h.deps.db.message.findFirstOrThrow({
      where: { enrollmentId: r.enrollmentId, step: { not: null } },
    });
    await h.settle();
    expect(h.smsTo(r.phone)).toHaveLength(1); // the welcome only
    expect((await h.deps.db.message.findUniqueOrThrow({ where: { id: m.id } })).status).toBe(
      'suppressed',
    );
  });

  it('retries a provider 500 and sends once it recovers; a permanent error is not retried', async () => {
    h.twilio.failNext(500, 2);
    const r = await enrolled();
    await h.settle();
    const welcome = await h.deps.db.message.findFirstOrThrow({
      where: { subscriberId: r.subscriberId, template: 'welcome' },
    });
    expect(welcome).toMatchObject({ status: 'sent', attempts: 3 });
    expect(h.smsTo(r.phone)).toHaveLength(1);

    const before = h.twilio.stats.requests;
    h.twilio.failNext(21211);
    const r2 = await enrolled();
    await h.settle();
    const w2 = await h.deps.db.message.findFirstOrThrow({
      where: { subscriberId: r2.subscriberId, template: 'welcome' },
    });
    expect(w2).toMatchObject({ status: 'failed', error: 'invalid_recipient', attempts: 1 });
    expect(h.twilio.stats.requests - before).toBe(1);
    expect(await deliver(h.deps, w2.id)).toBe('skipped');
  });

  it('a carrier opt-out (21610) stops the subscriber', async () => {
    h.twilio.failNext(21610);
    const r = await enrolled();
    await h.settle();
    const s = await h.deps.db.subscriber.findUniqueOrThrow({
      where: { id: r.subscriberId },
      include: { enrollments: true, consents: true },
    });
    expect(s.status).toBe('stopped');
    expect(s.enrollments[0]!.state).toBe('stopped');
    expect(s.consents.some((c) => c.kind === 'opt_out' && c.source === 'carrier')).toBe(true);
    expect(h.smsTo(r.phone)).toHaveLength(0);
  });

  it('loses nothing when Redis loses its jobs: the sweep queues them again', async () => {
    await h.pauseWorkers();
    let subs;
    try {
      subs = await Promise.all([enrolled(), enrolled(), enrolled()]);
      // Throw away every job under this test's prefix, as a Redis restart without persistence would.
      await h.loseRedisKeys();
    } finally {
      h.resumeWorkers();
    }
    await h.settle();
    for (const s of subs) expect(h.smsTo(s.phone)).toHaveLength(0);
    expect(await requeueLost(h.deps, { staleMs: 0 })).toBeGreaterThanOrEqual(3);
    await h.settle();
    for (const s of subs) expect(h.smsTo(s.phone)).toHaveLength(1);
  });

  // SMS left `sending` is settled from Twilio's own message list (tests/reliability/recovery.test.ts).
  it('an email left "sending" by a dead worker becomes unknown and is not resent', async () => {
    const email = freshEmail('dead-worker');
    await h.pauseWorkers();
    let w;
    try {
      const r = await enroll(h.deps, {
        email,
        timezone: 'America/New_York',
        confirm: true,
        evidence: { source: 'test' },
      });
      w = await h.deps.db.message.findFirstOrThrow({
        where: { subscriberId: r.subscriberId, template: 'welcome' },
      });
      // The worker that claimed it died during the provider call.
      await h.deps.db.message.update({ where: { id: w.id }, data: { status: 'sending' } });
    } finally {
      h.resumeWorkers();
    }
    await h.deps.db.message.update({
      where: { id: w.id },
      data: { updatedAt: new Date(Date.now() - 6 * 60_000) },
    });
    const settled = await settleStaleSending(h.deps);
    expect(settled.unknown).toBeGreaterThanOrEqual(1);
    expect((await h.deps.db.message.findUniqueOrThrow({ where: { id: w.id } })).status).toBe(
      'unknown',
    );
    await h.settle();
    expect(h.mailTo(email)).toHaveLength(0);
  });
});
