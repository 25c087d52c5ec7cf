// Delivery status is forward-only (src/core/message-status.ts): the worker recording a send and
// Twilio's status callbacks race for the same row, and the end state must not depend on who wins.
// Every ordering of the four writers is applied to a fresh row, through the real status route
// (signed as Twilio signs it) and the real batched store, and every ordering must end the same.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkinWindow } from '../../src/flows/deliver.ts';
import { deliveryStore } from '../../src/flows/delivery-store.ts';
import { enroll } from '../../src/flows/enroll.ts';
import { buildApp } from '../../src/http/app.ts';
import { routeModules } from '../../src/http/modules.ts';
import { freshPhone } from '../support/db.ts';
import { harness, type Harness } from '../support/harness.ts';
import { postToTwilioWebhook } from '../support/twilio-post.ts';

let h: Harness;
let app: FastifyInstance;

beforeAll(async () => {
  h = await harness({ start: '2026-05-04T16:00:00Z' });
  app = await buildApp(h.deps, { modules: routeModules });
});
afterAll(async () => {
  await app?.close();
  await h?.close();
});

type Event = 'worker sent' | 'callback sent' | 'callback delivered' | 'callback failed';
const EVENTS: Event[] = ['worker sent', 'callback sent', 'callback delivered', 'callback failed'];

function permutations<T>(xs: T[]): T[][] {
  if (xs.length <= 1) return [xs];
  return xs.flatMap((x, i) =>
    permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((rest) => [x, ...rest]),
  );
}

async function callback(messageId: string, sid: string, status: string, errorCode?: string) {
  const path = `/webhooks/twilio/status?m=${messageId}`;
  const params: Record<string, string> = { MessageSid: sid, MessageStatus: status };
  if (errorCode) params.ErrorCode = errorCode;
  const res = await postToTwilioWebhook(app, h.config, path, params);
  expect(res.statusCode).toBe(204);
}

/** A message a worker has claimed (`sending`), as it is while the provider call is under way. */
async function claimedMessage(data: { enrollmentId?: string; step?: string } = {}) {
  const to = await freshPhone(h.deps.db);
  const m = await h.deps.db.message.create({
    data: {
      channel: 'sms',
      direction: 'out',
      kind: data.step ? 'checkin' : 'system',
      template: data.step ?? 'help',
      status: 'queued',
      toAddr: to,
      ...data,
    },
  });
  expect(await deliveryStore(h.deps.db).claim(m.id)).toBe(true);
  return { id: m.id, to, sid: `SM${randomBytes(16).toString('hex')}` };
}

async function apply(e: Event, m: { id: string; to: string; sid: string }) {
  if (e === 'worker sent')
    return deliveryStore(h.deps.db).recordSent({
      id: m.id,
      providerId: m.sid,
      sentAt: h.clock.now(),
      body: 'Steady help: reply STOP to stop.',
      subject: null,
      toAddr: m.to,
    });
  if (e === 'callback failed') return callback(m.id, m.sid, 'failed', '30003');
  return callback(m.id, m.sid, e === 'callback sent' ? 'sent' : 'delivered');
}

async function endState(id: string) {
  const m = await h.deps.db.message.findUniqueOrThrow({ where: { id } });
  return {
    status: m.status,
    providerId: m.providerId,
    sentAt: m.sentAt?.toISOString(),
    deliveredAt: m.deliveredAt?.toISOString(),
    body: m.body,
    error: m.error,
  };
}

describe('delivery status is forward-only', () => {
  it('ends the same for every ordering of the worker and the three callbacks', async () => {
    const orders = permutations(EVENTS);
    expect(orders).toHaveLength(24);
    const ends = new Map<string, unknown>();
    for (const order of orders) {
      const m = await claimedMessage();
      for (const e of order) await apply(e, m);
      const end = await endState(m.id);
      // providerId is per row; the rest must be the same whatever the order.
      expect(end.providerId).toBe(m.sid);
      ends.set(order.join(' > '), { ...end, providerId: 'SM…' });
    }
    const expected = {
      status: 'failed', // the failure report outranks the delivery receipt
      providerId: 'SM…',
      sentAt: h.clock.now().toISOString(),
      deliveredAt: h.clock.now().toISOString(), // the receipt's time is kept
      body: 'Steady help: reply STOP to stop.',
      error: 'provider:30003',
    };
    for (const [order, end] of ends) expect({ order, end }).toEqual({ order, end: expected });
  });

  it('a check-in whose delivery receipt came first still opens when the worker records it', async () => {
    const phone = await freshPhone(h.deps.db);
    const e = await enroll(h.deps, {
      phone,
      timezone: 'America/New_York',
      confirm: true,
      evidence: { source: 'test' },
    });
    const m = await claimedMessage({ enrollmentId: e.enrollmentId, step: 'w1-checkin' });
    await callback(m.id, m.sid, 'delivered');
    await deliveryStore(h.deps.db).recordSent({
      id: m.id,
      providerId: m.sid,
      sentAt: h.clock.now(),
      body: 'How was your week?',
      subject: null,
      toAddr: m.to,
      checkin: checkinWindow(h.deps, h.deps.programs.default, 'w1-checkin', h.clock.now()),
    });
    expect(await endState(m.id)).toMatchObject({ status: 'delivered', body: 'How was your week?' });
    expect(await h.deps.db.checkin.count({ where: { messageId: m.id } })).toBe(1);
  });
});
