// Erasure and retention. `erase` removes a person's rows and queued jobs, by whichever of their
// contact points it is given, and keeps only a suppression entry per contact point (a keyed hash,
// not the contact), so a later JOIN from that number gets nothing; their audit events name only a
// keyed hash, without operators' notes. A job it cannot remove is named and the CLI exits non-zero.
// Reply text older than RETENTION_DAYS is purged, the rest of the row (that a reply came, when)
// stays.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signTwilioRequest } from '../../src/channels/twilio-webhook.ts';
import { Worker } from 'bullmq';
import {
  erasedSubjectHash,
  eraseContact,
  isSuppressed,
  suppressionHash,
} from '../../src/flows/erase.ts';
import { operatorAction } from '../../src/flows/operator.ts';
import { purgeOldReplies } from '../../src/flows/sweep.ts';
import { buildApp } from '../../src/http/app.ts';
import { revealMessage } from '../../src/http/admin/reveal.ts';
import {
  closeQueues,
  createQueues,
  inboundJobId,
  QUEUE_NAMES,
  redisConnection,
  sendJobId,
} from '../../src/queues.ts';
import { queuePrefix } from '../../src/redis.ts';
import { startCli } from '../support/cli-process.ts';
import { freshEmail, freshPhone, ownDatabase } from '../support/db.ts';
import { harness, type Harness } from '../support/harness.ts';

let h: Harness;
let app: FastifyInstance;

beforeAll(async () => {
  // Its own database: the retention purge reaches every reply in it.
  h = await harness({
    start: '2026-05-04T14:00:00Z',
    env: { RETENTION_DAYS: '30', DATABASE_URL: await ownDatabase('erasure') },
  });
  app = await buildApp(h.deps);
});
afterAll(async () => {
  await app?.close();
  await h?.close();
});

async function sms(phone: string, body: string) {
  const params = {
    MessageSid: `SM${randomBytes(16).toString('hex')}`,
    From: phone,
    To: '+12025550100',
    Body: body,
  };
  const url = `${h.config.publicUrl}/webhooks/twilio/sms`;
  await app.inject({
    method: 'POST',
    url: '/webhooks/twilio/sms',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': signTwilioRequest(h.config.sms.authToken, url, params),
    },
    payload: new URLSearchParams(params).toString(),
  });
}

async function jobsFor(messageIds: string[]): Promise<number> {
  let n = 0;
  for (const id of messageIds)
    for (const q of QUEUE_NAMES)
      if (await h.deps.queues[q].getJob(q === 'inbound' ? inboundJobId(id) : sendJobId(id))) n++;
  return n;
}

describe('erase', () => {
  it('removes the rows and the queued jobs, keeps a suppression entry, and a new JOIN gets nothing', async () => {
    const phone = await freshPhone(h.deps.db);
    await sms(phone, 'JOIN');
    await h.settle();
    // The workers stand by, so the next replies' jobs are still waiting in Redis when erase runs.
    await h.pauseWorkers();
    await sms(phone, 'YES');
    await sms(phone, 'he hit me last night');
    const sub = await h.deps.db.subscriber.findFirstOrThrow({ where: { phone } });
    const messageIds = (
      await h.deps.db.message.findMany({
        where: { OR: [{ subscriberId: sub.id }, { fromAddr: phone }, { toAddr: phone }] },
      })
    ).map((m) => m.id);
    expect(await jobsFor(messageIds)).toBeGreaterThan(0);

    const r = await eraseContact(h.deps, { phone });
    expect(r.found).toBe(true);
    expect(await h.deps.db.subscriber.count({ where: { phone } })).toBe(0);
    expect(
      await h.deps.db.message.count({
        where: { OR: [{ id: { in: messageIds } }, { fromAddr: phone }, { toAddr: phone }] },
      }),
    ).toBe(0);
    expect(await h.deps.db.consentEvent.count({ where: { subscriberId: sub.id } })).toBe(0);
    expect(await h.deps.db.enrollment.count({ where: { subscriberId: sub.id } })).toBe(0);
    expect(await h.deps.db.safetyFlag.count({ where: { subscriberId: sub.id } })).toBe(0);
    expect(await h.deps.db.outboxItem.count({ where: { to: phone } })).toBe(0);
    expect(await jobsFor(messageIds)).toBe(0);
    h.resumeWorkers();
    // What is kept: a keyed hash, never the number itself.
    const kept = await h.deps.db.suppression.findUniqueOrThrow({
      where: { hash: suppressionHash(h.config.appSecret, phone) },
    });
    expect(kept.hash).not.toContain(phone.slice(2));
    expect(await isSuppressed(h.deps, phone)).toBe(true);
    // After an APP_SECRET rotation (new key first, old one kept) the person stays suppressed.
    const newKey = 'rotated-key-'.padEnd(40, 'x');
    const rotated = (keys: string[]) => ({
      ...h.deps,
      config: { ...h.config, appSecret: keys[0]!, appSecrets: keys },
    });
    expect(await isSuppressed(rotated([newKey, h.config.appSecret]), phone)).toBe(true);
    expect(await isSuppressed(rotated([newKey]), phone)).toBe(false);
    const audit = await h.deps.db.auditEvent.findFirstOrThrow({
      where: { action: 'subscriber.erase' },
      orderBy: { at: 'desc' },
    });
    expect(JSON.stringify(audit)).not.toContain(phone);

    const sentBefore = h.smsTo(phone).length;
    await sms(phone, 'JOIN');
    await h.settle();
    expect(h.smsTo(phone).length).toBe(sentBefore);
    expect(await h.deps.db.subscriber.count({ where: { phone } })).toBe(0);
  });

  it('`npm run cli -- erase --phone` does it from the command line', async () => {
    const phone = await freshPhone(h.deps.db);
    await sms(phone, 'JOIN');
    await h.settle();
    const cli = startCli(['erase', '--phone', phone], {
      NODE_ENV: 'test',
      DATABASE_URL: h.config.databaseUrl,
      REDIS_URL: h.config.redisUrl,
      REDIS_PREFIX: h.config.redisPrefix,
      LOG_LEVEL: 'silent',
    });
    const exit = await cli.exited;
    expect(exit.code).toBe(0);
    expect(cli.lines.join('\n')).toMatch(/erased: 1 subscriber/);
    expect(await h.deps.db.subscriber.count({ where: { phone } })).toBe(0);
    expect(await isSuppressed(h.deps, phone)).toBe(true);
  }, 60_000);
});

describe('erase: every trace of the person', () => {
  it('erases every contact point of the person and scrubs their audit trail', async () => {
    const phone = await freshPhone(h.deps.db);
    await sms(phone, 'JOIN');
    await h.settle();
    await sms(phone, 'YES');
    await h.settle();
    // The same person also gave an email address: one row, two contact points.
    const email = freshEmail('erase-both');
    const sub = await h.deps.db.subscriber.update({
      where: { phone },
      data: { email },
    });
    await h.deps.db.outboxItem.create({
      data: { channel: 'email', to: email, from: 'steady@example.com', kind: 'nudge', body: 'hi' },
    });
    const reply = await h.deps.db.message.findFirstOrThrow({
      where: { direction: 'in', fromAddr: phone },
    });
    const flag = await h.deps.db.safetyFlag.create({
      data: {
        subscriberId: sub.id,
        messageId: reply.id,
        category: 'abuse',
        matched: ['hit'],
        whyEnc: 'v1.k.iv.tag.ct',
        note: 'Flag note naming her sister Maria',
      },
    });
    // What operators did about this person, as the console records it.
    await operatorAction(h.deps, sub.id, 'pause', {
      actor: 'op-ana',
      note: 'Spoke to her sister Maria',
    });
    await h.deps.db.auditEvent.create({
      data: {
        actor: 'op-ana',
        action: 'flag.acknowledge',
        target: flag.id,
        detail: { note: 'Lives at 12 Elm St with him' },
      },
    });
    const revealed = await revealMessage(h.deps, reply.id, {
      actor: 'op-ana',
      action: 'message.reveal',
      target: reply.id,
    });
    expect(revealed.ok).toBe(true);
    const mine = await h.deps.db.auditEvent.findMany({
      where: { target: { in: [sub.id, flag.id, reply.id] } },
    });
    expect(mine).toHaveLength(3);
    const other = await h.deps.db.auditEvent.create({
      data: { actor: 'op-ana', action: 'console.sign_in', target: 'console', detail: { ip: 'x' } },
    });

    // Erased by the email address: the phone number on the same row goes too.
    const r = await eraseContact(h.deps, { email });
    expect(r.found).toBe(true);
    expect(r.notRemoved).toEqual([]);
    expect(
      await h.deps.db.subscriber.count({ where: { OR: [{ phone }, { email }, { id: sub.id }] } }),
    ).toBe(0);
    expect(
      await h.deps.db.message.count({
        where: { OR: [{ subscriberId: sub.id }, { toAddr: phone }, { fromAddr: phone }] },
      }),
    ).toBe(0);
    expect(await h.deps.db.outboxItem.count({ where: { to: { in: [phone, email] } } })).toBe(0);
    expect(await h.deps.db.safetyFlag.count({ where: { id: flag.id } })).toBe(0);
    expect(await isSuppressed(h.deps, phone)).toBe(true);
    expect(await isSuppressed(h.deps, email)).toBe(true);

    // Their audit rows stay (what was done, when, by whom) but name only a keyed hash of the id.
    const subject = erasedSubjectHash(h.config.appSecret, sub.id);
    const after = await h.deps.db.auditEvent.findMany({
      where: { id: { in: mine.map((a) => a.id) } },
    });
    expect(after).toHaveLength(3);
    for (const a of after) {
      expect(a.target).toBe(subject);
      const text = JSON.stringify(a);
      for (const secret of [sub.id, flag.id, reply.id, phone, email, 'Maria', 'Elm St'])
        expect(text).not.toContain(secret);
    }
    expect(await h.deps.db.auditEvent.findUniqueOrThrow({ where: { id: other.id } })).toEqual(
      other,
    );
  });

  it('exits non-zero and names a job it could not remove', async () => {
    const phone = await freshPhone(h.deps.db);
    await sms(phone, 'JOIN');
    await h.settle();
    await h.pauseWorkers();
    await sms(phone, 'YES');
    const yes = await h.deps.db.message.findFirstOrThrow({
      where: { direction: 'in', fromAddr: phone, processedAt: null },
    });
    // A worker elsewhere holds the reply's job (active, locked): BullMQ will not remove it.
    const connection = redisConnection(h.config.redisUrl, true);
    const holder = new Worker('inbound', null, {
      connection,
      prefix: queuePrefix(h.config),
      lockDuration: 120_000,
    });
    const token = 'erasure-test';
    let job: Awaited<ReturnType<typeof holder.getNextJob>>;
    try {
      job = await holder.getNextJob(token);
      expect(job?.id).toBe(inboundJobId(yes.id));
      const cli = startCli(['erase', '--phone', phone], {
        NODE_ENV: 'test',
        DATABASE_URL: h.config.databaseUrl,
        REDIS_URL: h.config.redisUrl,
        REDIS_PREFIX: h.config.redisPrefix,
        LOG_LEVEL: 'silent',
      });
      const exit = await cli.exited;
      const out = cli.lines.join('\n');
      expect(exit.code, out).not.toBe(0);
      expect(out).toContain(`inbound job ${inboundJobId(yes.id)}`);
      expect(out).toMatch(/could not remove/i);
      // Everything else is gone all the same.
      expect(await h.deps.db.subscriber.count({ where: { phone } })).toBe(0);
      expect(await h.deps.db.message.count({ where: { id: yes.id } })).toBe(0);
      expect(await isSuppressed(h.deps, phone)).toBe(true);
    } finally {
      // Let go of the job, as its worker would when done (it is removed on completion).
      await job?.moveToCompleted('done', token, false);
      await holder.close();
      connection.disconnect();
      h.resumeWorkers();
    }
  }, 60_000);
});

describe('erase when Redis does not answer', () => {
  it('erases the rows and names every job it could not reach', async () => {
    const phone = await freshPhone(h.deps.db);
    await sms(phone, 'JOIN');
    await h.settle();
    await h.pauseWorkers();
    await sms(phone, 'YES');
    const yes = await h.deps.db.message.findFirstOrThrow({
      where: { direction: 'in', fromAddr: phone, processedAt: null },
    });
    const sentBefore = h.smsTo(phone).length;
    // The same queues over a connection that has gone away.
    const connection = redisConnection(h.config.redisUrl);
    const queues = createQueues(connection, queuePrefix(h.config));
    await queues.inbound.waitUntilReady();
    connection.disconnect();
    try {
      const r = await eraseContact({ ...h.deps, queues }, { phone });
      expect(r.notRemoved.join('\n')).toContain(`inbound job ${inboundJobId(yes.id)} (Redis:`);
      expect(await h.deps.db.subscriber.count({ where: { phone } })).toBe(0);
      expect(await isSuppressed(h.deps, phone)).toBe(true);
    } finally {
      await closeQueues(queues).catch(() => {});
      h.resumeWorkers();
    }
    // The job left behind finds its message gone and does nothing.
    await h.settle();
    expect(h.smsTo(phone)).toHaveLength(sentBefore);
  });
});

describe('retention', () => {
  it(`purges reply text older than RETENTION_DAYS and keeps newer text and the rows`, async () => {
    const phone = await freshPhone(h.deps.db);
    await sms(phone, 'JOIN');
    await h.settle();
    const old = await h.deps.db.message.findFirstOrThrow({
      where: { direction: 'in', fromAddr: phone },
    });
    h.clock.advance({ days: 20 });
    await sms(phone, 'a newer reply');
    const newer = await h.deps.db.message.findFirstOrThrow({
      where: { direction: 'in', fromAddr: phone, id: { not: old.id } },
    });
    h.clock.advance({ days: 15 }); // the first is 35 days old, the second 15
    expect(await purgeOldReplies(h.deps)).toBeGreaterThanOrEqual(1);
    const [a, b] = await Promise.all([
      h.deps.db.message.findUniqueOrThrow({ where: { id: old.id } }),
      h.deps.db.message.findUniqueOrThrow({ where: { id: newer.id } }),
    ]);
    expect(a.bodyEnc).toBeNull();
    expect(a.createdAt).toEqual(old.createdAt); // the row itself stays
    expect(b.bodyEnc).not.toBeNull();
  });
});
