// A receiver that answers 500 for a minute (on the injected clock) and then 200 still gets every
// event, each exactly once per webhook-id, in order: the failed attempts are retried with
// exponential backoff (short here: WEBHOOKS_RETRY_BASE_MS), and the subscriber's later events wait
// behind the failing one.
import type { FastifyInstance } from 'fastify';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.ts';
import { freshPhone, ownDatabase } from '../support/db.ts';
import { harness, waitFor, type Harness } from '../support/harness.ts';
import { textViaWebhook } from '../support/twilio-post.ts';
import { dataOf, startReceiver, type Receiver } from './receiver.ts';

let h: Harness;
let app: FastifyInstance;
let receiver: Receiver;
let secret: string;

beforeAll(async () => {
  h = await harness({
    start: '2026-05-04T14:00:00Z',
    env: {
      DATABASE_URL: await ownDatabase('webhooks_retry'),
      WEBHOOKS_ALLOW_PRIVATE: '1',
      WEBHOOKS_RETRY_BASE_MS: '100',
    },
  });
  app = await buildApp(h.deps);
  await h.deps.db.webhookEndpoint.deleteMany({});
  const failUntil = h.clock.now().getTime() + 60_000;
  receiver = await startReceiver(() => (h.clock.now().getTime() < failUntil ? 500 : 200));
  const res = await app.inject({
    method: 'POST',
    url: '/admin/api/webhooks',
    headers: { authorization: `Bearer ${h.config.adminToken}` },
    payload: {
      url: receiver.url,
      events: ['subscriber.enrolled', 'reply.received', 'message.sent', 'subscriber.confirmed'],
    },
  });
  expect(res.statusCode).toBe(201);
  secret = res.json<{ secret: string }>().secret;
});
afterAll(async () => {
  await app?.close();
  await h?.close();
  await receiver?.close();
});

describe('retries', () => {
  it('500 for a minute, then 200: every event arrives once per webhook-id, in order', async () => {
    const phone = await freshPhone(h.deps.db);
    await textViaWebhook(h, app, phone, 'JOIN');
    await textViaWebhook(h, app, phone, 'YES');
    const sub = await h.deps.db.subscriber.findFirstOrThrow({ where: { phone } });
    const events = await h.deps.db.webhookEvent.findMany({
      where: { subscriberId: sub.id },
      orderBy: { seq: 'asc' },
    });
    expect(events.length).toBeGreaterThanOrEqual(6);

    // The minute passes on the program clock while the worker retries (each answered 500).
    await waitFor(() => receiver.received.filter((r) => r.answered === 500).length >= 3, {
      timeout: 10_000,
    });
    for (let s = 0; s < 6; s++) {
      h.clock.advance({ seconds: 10 });
      await new Promise((r) => setTimeout(r, 150));
    }
    const mine = () => receiver.accepted().filter((r) => dataOf(r).subscriberId === sub.id);
    await waitFor(() => mine().length >= events.length, {
      timeout: 15_000,
      message: () => `receiver accepted ${mine().length} of ${events.length}`,
    });
    await new Promise((r) => setTimeout(r, 300)); // anything extra would arrive now

    const ids = mine().map((r) => r.headers['webhook-id']);
    expect(ids).toEqual(events.map((e) => e.id)); // each once, in order
    expect(new Set(ids).size).toBe(ids.length);
    // Only the first event was ever refused: the later ones waited behind it.
    const refused = new Set(
      receiver.received.filter((r) => r.answered === 500).map((r) => r.headers['webhook-id']),
    );
    expect([...refused]).toEqual([events[0]!.id]);
    const wh = new Webhook(secret);
    for (const r of mine())
      expect(() => wh.verify(r.body, r.headers as Record<string, string>)).not.toThrow();

    const first = await h.deps.db.webhookDelivery.findFirstOrThrow({
      where: { eventId: events[0]!.id },
    });
    await waitFor(
      async () =>
        (await h.deps.db.webhookDelivery.findUniqueOrThrow({ where: { id: first.id } })).status ===
        'delivered',
    );
    const row = await h.deps.db.webhookDelivery.findUniqueOrThrow({ where: { id: first.id } });
    expect(row.attempts).toBe(
      receiver.received.filter((r) => r.headers['webhook-id'] === events[0]!.id).length,
    );
    expect(row.attempts).toBeGreaterThan(3);
    expect(row.responseCode).toBe(200);
    // A minute of failures is not a day: the endpoint stays enabled, its failure record cleared.
    const ep = await h.deps.db.webhookEndpoint.findUniqueOrThrow({ where: { id: row.endpointId } });
    expect(ep).toMatchObject({ enabled: true, failingSince: null });
  });
});
