// Erasure and retention. `erase` removes a person's rows and queued jobs and keeps only a
// suppression entry (a keyed hash, not the contact), so a later JOIN from that number gets
// nothing; the CLI command does the same. Reply text older than RETENTION_DAYS is purged, the
// rest of the row (that a reply came, when) stays.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signTwilioRequest } from '../../src/channels/twilio-webhook.ts';
import { eraseContact, isSuppressed, suppressionHash } from '../../src/flows/erase.ts';
import { purgeOldReplies } from '../../src/flows/sweep.ts';
import { buildApp } from '../../src/http/app.ts';
import { inboundJobId, QUEUE_NAMES, sendJobId } from '../../src/queues.ts';
import { startCli } from '../support/cli-process.ts';
import { freshPhone, ownDatabase } from '../support/db.ts';
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
    await h.drain();
    await sms(phone, 'YES');
    await sms(phone, 'he hit me last night'); // a flag, and jobs still waiting in Redis
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
    // What is kept: a keyed hash, never the number itself.
    const kept = await h.deps.db.suppression.findUniqueOrThrow({
      where: { hash: suppressionHash(h.config.appSecret, phone) },
    });
    expect(kept.hash).not.toContain(phone.slice(2));
    expect(await isSuppressed(h.deps, phone)).toBe(true);
    const audit = await h.deps.db.auditEvent.findFirstOrThrow({
      where: { action: 'subscriber.erase' },
      orderBy: { at: 'desc' },
    });
    expect(JSON.stringify(audit)).not.toContain(phone);

    const sentBefore = h.sms.sent.filter((m) => m.to === phone).length;
    await sms(phone, 'JOIN');
    await h.drain();
    expect(h.sms.sent.filter((m) => m.to === phone).length).toBe(sentBefore);
    expect(await h.deps.db.subscriber.count({ where: { phone } })).toBe(0);
  });

  it('`npm run cli -- erase --phone` does it from the command line', async () => {
    const phone = await freshPhone(h.deps.db);
    await sms(phone, 'JOIN');
    await h.drain();
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

describe('retention', () => {
  it(`purges reply text older than RETENTION_DAYS and keeps newer text and the rows`, async () => {
    const phone = await freshPhone(h.deps.db);
    await sms(phone, 'JOIN');
    await h.drain();
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
