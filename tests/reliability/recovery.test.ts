// The engine's crash-recovery paths, one fault at a time, as the chaos run found them:
// - a database error after the provider took a message never sends it again;
// - an ambiguous network error leaves a program message unsent-or-unknown, never retried blind;
// - a job that failed for good (it stalled under dying workers) is revived by the sweep;
// - a reply whose job was lost is read after all;
// - a safety message left `sending` goes out again within a minute, not five;
// - a send cut off by a crash is settled by asking the provider (sent, or sent now, once);
// - a connection lost mid-transaction no longer leaks a pool slot.
import { randomBytes } from 'node:crypto';
import { Worker } from 'bullmq';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SendError, type OutgoingSms, type SmsSender } from '../../src/channels/port.ts';
import { twilioSms } from '../../src/channels/twilio.ts';
import { createDb } from '../../src/db/client.ts';
import { deliver, RetryLater } from '../../src/flows/deliver.ts';
import { enroll } from '../../src/flows/enroll.ts';
import { recordInbound } from '../../src/flows/inbound.ts';
import { createOutbound, enqueueSends } from '../../src/flows/outbound.ts';
import { requeueLost, requeueUnreadInbound, settleStaleSending } from '../../src/flows/sweep.ts';
import { inboundJobId, redisConnection, sendJobId } from '../../src/queues.ts';
import { queuePrefix } from '../../src/redis.ts';
import { freshPhone, ownDatabase } from '../support/db.ts';
import { ON_CLUSTER } from '../support/env.ts';
import { harness, type Harness } from '../support/harness.ts';

let h: Harness;

beforeAll(async () => {
  // Its own database: the sweeps here reach across every row, and must not take other files'.
  h = await harness({
    start: '2026-05-04T15:00:00Z',
    env: { DATABASE_URL: await ownDatabase('recovery') },
  });
});
afterAll(async () => {
  await h?.close();
});

/** Runs `fn` with the harness's workers standing by, to set up a fault by hand. */
async function withWorkersPaused<T>(fn: () => Promise<T>): Promise<T> {
  await h.pauseWorkers();
  try {
    return await fn();
  } finally {
    h.resumeWorkers();
  }
}

/** A fresh active subscriber and one queued message for them (a nudge, or a safety message). */
async function queued(template: 'w1-d1' | 'safety_abuse' = 'w1-d1') {
  const phone = await freshPhone(h.deps.db);
  // A daytime zone at the harness's clock: an area-code zone (Hawaii at 05:00) would be held for
  // quiet hours at send time.
  const r = await enroll(h.deps, {
    phone,
    timezone: 'America/New_York',
    confirm: true,
    evidence: { source: 'test' },
  });
  const send = await h.deps.db.$transaction((tx) =>
    createOutbound(
      tx,
      template === 'w1-d1'
        ? {
            subscriberId: r.subscriberId,
            enrollmentId: r.enrollmentId,
            channel: 'sms',
            kind: 'nudge',
            template,
            step: `w1-d1`,
            lane: 'program',
          }
        : {
            subscriberId: r.subscriberId,
            enrollmentId: r.enrollmentId,
            channel: 'sms',
            kind: 'safety',
            template,
            lane: 'priority',
            dedupeKey: `t-${randomBytes(6).toString('hex')}`,
          },
      h.clock.now(),
    ),
  );
  return { phone, id: send!.messageId, send: send! };
}

const statusOf = async (id: string) =>
  (await h.deps.db.message.findUniqueOrThrow({ where: { id } })).status;
const age = (id: string, ms: number) =>
  h.deps.db.message.update({ where: { id }, data: { updatedAt: new Date(Date.now() - ms) } });

describe('recovery', () => {
  it('a database error after the provider took the message does not send it again', async () => {
    const { id } = await queued();
    let failWrites = 0;
    // The database drops the next writes (as a cut connection would) right after the provider call.
    const db = new Proxy(h.deps.db, {
      get(target, prop) {
        if ((prop === '$executeRaw' || prop === '$queryRaw') && failWrites > 0)
          return () => (
            failWrites--,
            Promise.reject(new Error('Connection terminated unexpectedly'))
          );
        const v = Reflect.get(target, prop, target) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    let calls = 0;
    const sms: SmsSender = {
      name: 'flaky-db',
      async send() {
        calls++;
        failWrites = 2;
        return { providerId: 'SMtaken', status: 'queued' };
      },
    };
    expect(await deliver({ ...h.deps, db, sms }, id, { finalAttempt: false })).toBe('sent');
    expect(failWrites).toBe(0); // both failed writes happened, and were retried
    expect(calls).toBe(1);
    expect(await statusOf(id)).toBe('sent');
  });

  it('an ambiguous network error: a program message is not retried blind, a safety message is', async () => {
    const reset: SmsSender = {
      name: 'reset',
      async send() {
        throw new SendError('network', { retryable: true, providerCode: 'ECONNRESET' });
      },
    };
    const nudge = await queued();
    expect(await deliver({ ...h.deps, sms: reset }, nudge.id, { finalAttempt: false })).toBe(
      'failed',
    );
    expect(await statusOf(nudge.id)).toBe('unknown');
    const safety = await queued('safety_abuse');
    await expect(
      deliver({ ...h.deps, sms: reset }, safety.id, { finalAttempt: false }),
    ).rejects.toBeInstanceOf(RetryLater);
    expect(await statusOf(safety.id)).toBe('queued');
    // Refused connections prove nothing was sent: retried.
    const refused: SmsSender = {
      name: 'refused',
      send: async () =>
        Promise.reject(new SendError('network', { retryable: true, providerCode: 'ECONNREFUSED' })),
    };
    const other = await queued();
    await expect(
      deliver({ ...h.deps, sms: refused }, other.id, { finalAttempt: false }),
    ).rejects.toBeInstanceOf(RetryLater);
  });

  // Fails its job by hand with a worker of its own; on a cluster that worker's blocking call
  // stalled the test in 3 of 5 full parallel runs (it passes alone): it runs on a single server
  // only (a known gap, README "Tests"). The sweep's revival itself runs in the chaos and fleet runs.
  it.skipIf(ON_CLUSTER)(
    'a send job that failed for good while its message waits is revived by the sweep',
    async () => {
      const { id, send } = await queued();
      await h.pauseWorkers();
      await enqueueSends(h.deps.queues, [{ ...send }], h.clock.now());
      // Fail it for good, as BullMQ does to a job that stalled more often than allowed.
      const connection = redisConnection(h.config.redisUrl, true);
      const worker = new Worker(
        'sms',
        async () => Promise.reject(new Error('job stalled more than allowable limit')),
        { connection, prefix: queuePrefix(h.config), autorun: false },
      );
      const token = 'test-token';
      const active = await worker.getNextJob(token);
      expect(active?.id).toBe(sendJobId(id));
      await active!.discard();
      await active!.moveToFailed(new Error('job stalled more than allowable limit'), token);
      // Forced, and the connection dropped: nothing of this hand-made worker is waited on (on a
      // cluster a graceful close could wait out a blocking call under load).
      await worker.close(true);
      connection.disconnect();
      expect(await h.deps.queues.sms.getJobState(sendJobId(id))).toBe('failed');
      expect(await requeueLost(h.deps, { staleMs: 0 })).toBeGreaterThanOrEqual(1);
      expect(await h.deps.queues.sms.getJobState(sendJobId(id))).toMatch(
        /waiting|prioritized|delayed/,
      );
      h.resumeWorkers();
      await h.settle();
      expect(await statusOf(id)).toBe('sent');
    },
  );

  it('a reply whose job was lost is read after all (the sweep queues it again)', async () => {
    const phone = await freshPhone(h.deps.db);
    const r = await withWorkersPaused(async () => {
      const r = await recordInbound(h.deps, {
        channel: 'sms',
        from: phone,
        text: 'JOIN',
        providerId: `SM${randomBytes(16).toString('hex')}`,
      });
      await h.deps.queues.inbound.remove(inboundJobId(r.messageId));
      return r;
    });
    await age(r.messageId, 60_000);
    expect(await requeueUnreadInbound(h.deps)).toBeGreaterThanOrEqual(1);
    await h.settle();
    expect(
      (await h.deps.db.message.findUniqueOrThrow({ where: { id: r.messageId } })).processedAt,
    ).not.toBeNull();
    expect(h.smsTo(phone)).toHaveLength(1);
  });

  it('Twilio unreachable: a safety message left `sending` goes out again after a minute; a nudge is left for five', async () => {
    const safety = await queued('safety_abuse');
    const nudge = await queued();
    for (const m of [safety, nudge]) {
      await h.deps.db.message.update({ where: { id: m.id }, data: { status: 'sending' } });
      await age(m.id, 90_000);
    }
    // The sweep cannot ask the provider: the real SDK against a port nobody listens on.
    const unreachable = twilioSms({
      accountSid: h.twilio.accountSid,
      authToken: h.twilio.authToken,
      from: '+12025550100',
      apiBase: 'http://127.0.0.1:9',
    });
    const r = await withWorkersPaused(() => settleStaleSending({ ...h.deps, sms: unreachable }));
    await unreachable.close?.();
    expect(r.retried).toBeGreaterThanOrEqual(1);
    expect(await statusOf(safety.id)).toBe('queued');
    expect(await statusOf(nudge.id)).toBe('sending');
    await h.settle();
    const sent = await h.deps.db.message.findUniqueOrThrow({ where: { id: safety.id } });
    expect(sent.status).toBe('sent');
    expect(h.smsTo(safety.phone).filter((m) => m.sid === sent.providerId)).toHaveLength(1);
    expect(await statusOf(nudge.id)).toBe('sending');
  });

  it('a send cut off by a crash is settled by asking the provider: found -> sent, missing -> sent now, once', async () => {
    const fake = h.twilio;
    const sms = h.deps.sms;
    // A: the provider took it before the worker died.
    const took = await queued();
    const sub = await h.deps.db.subscriber.findFirstOrThrow({ where: { phone: took.phone } });
    const row = await h.deps.db.message.findUniqueOrThrow({ where: { id: took.id } });
    const { composeSms } = await import('../../src/flows/compose.ts');
    const out: OutgoingSms = composeSms(h.config, h.deps.content, h.deps.programs.default, {
      message: row,
      subscriber: sub,
    });
    const accepted = await sms.send(out);
    // B: the worker died before the request left.
    const lost = await queued();
    for (const m of [took, lost]) {
      await h.deps.db.message.update({ where: { id: m.id }, data: { status: 'sending' } });
      await age(m.id, 90_000);
    }
    await h.settle(); // the welcomes enroll queued
    const before = fake.messages.length;
    const r = await withWorkersPaused(() => settleStaleSending(h.deps));
    expect(r.reconciled).toBeGreaterThanOrEqual(1);
    expect(r.resent).toBeGreaterThanOrEqual(1);
    const a = await h.deps.db.message.findUniqueOrThrow({ where: { id: took.id } });
    expect(a.status).toBe('sent');
    expect(a.providerId).toBe(accepted.providerId);
    expect(await statusOf(lost.id)).toBe('queued');
    await h.settle(); // the worker sends it now, its first and only copy
    expect(await statusOf(lost.id)).toBe('sent');
    expect(fake.messages.slice(before).filter((m) => m.to === lost.phone)).toHaveLength(1);
    expect(fake.messages.filter((m) => m.to === took.phone && m.body === out.body)).toHaveLength(1);
  });

  it('a connection lost in the middle of a transaction is given back to the pool', async () => {
    const name = `steady-recovery-${randomBytes(4).toString('hex')}`;
    const url = new URL(h.config.databaseUrl);
    url.searchParams.set('application_name', name);
    const db = createDb(url.toString(), { max: 1 });
    const admin = new pg.Client({ connectionString: h.config.databaseUrl });
    await admin.connect();
    try {
      const tx = db.$transaction(async (t) => {
        await t.$queryRaw`SELECT 1`;
        await new Promise((r) => setTimeout(r, 500));
        await t.$queryRaw`SELECT 2`;
      });
      await new Promise((r) => setTimeout(r, 200));
      await admin.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1',
        [name],
      );
      await expect(tx).rejects.toThrow();
      // With one slot in the pool, a leaked connection would make this wait forever.
      const next = await Promise.race([
        db.$queryRaw<{ x: number }[]>`SELECT 3 AS x`,
        new Promise((_, reject) => setTimeout(() => reject(new Error('pool slot leaked')), 5000)),
      ]);
      expect(next).toEqual([{ x: 3 }]);
    } finally {
      await admin.end();
      await db.$disconnect();
    }
  });
});
