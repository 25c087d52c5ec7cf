// Event webhooks end to end: a local receiver registered through the admin API gets the events of
// JOIN, YES, a check-in rating and a disclosure (texted through the signed Twilio webhook and
// handled by the real workers, the `events` queue's included), in order, signed so that the
// standardwebhooks library verifies them.
import type { FastifyInstance } from 'fastify';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimDueSteps } from '../../src/flows/claim-due.ts';
import { buildApp } from '../../src/http/app.ts';
import { freshPhone, ownDatabase } from '../support/db.ts';
import { harness, waitFor, type Harness } from '../support/harness.ts';
import { postToTwilioWebhook, textViaWebhook } from '../support/twilio-post.ts';
import { dataOf, startReceiver, typeOf, type Receiver } from './receiver.ts';

let h: Harness;
let app: FastifyInstance;
let receiver: Receiver;
let secret: string;
let endpointId: string;

beforeAll(async () => {
  // A database of its own: an endpoint subscribes to every subscriber's events, other files' too.
  h = await harness({
    start: '2026-05-04T14:00:00Z',
    env: { DATABASE_URL: await ownDatabase('webhooks_flow'), WEBHOOKS_ALLOW_PRIVATE: '1' },
  });
  app = await buildApp(h.deps);
  receiver = await startReceiver();
  // Endpoints left by an earlier run would receive this run's events too.
  await h.deps.db.webhookEndpoint.deleteMany({});
  const res = await app.inject({
    method: 'POST',
    url: '/admin/api/webhooks',
    headers: { authorization: `Bearer ${h.config.adminToken}` },
    payload: { url: receiver.url },
  });
  expect(res.statusCode).toBe(201);
  ({ id: endpointId, secret } = res.json<{ id: string; secret: string }>());
  expect(secret).toMatch(/^whsec_[A-Za-z0-9+/=]+$/);
});
afterAll(async () => {
  await app?.close();
  await h?.close();
  await receiver?.close();
});

describe('event webhooks end to end', () => {
  it('JOIN, YES, a rating and a disclosure reach the receiver in order, verifiably signed', async () => {
    const phone = await freshPhone(h.deps.db);
    await textViaWebhook(h, app, phone, 'JOIN');
    await textViaWebhook(h, app, phone, 'YES');
    const sub = await h.deps.db.subscriber.findFirstOrThrow({
      where: { phone },
      include: { enrollments: true },
    });
    // Open a check-in now (the zone pinned so the harness clock is not quiet hours there).
    await h.deps.db.subscriber.update({
      where: { id: sub.id },
      data: { timezone: 'America/New_York' },
    });
    const checkin = Object.values(h.deps.content.programs)
      .flatMap((p) => p.steps)
      .find((s) => s.kind === 'checkin')!;
    await h.deps.db.enrollment.update({
      where: { id: sub.enrollments[0]!.id },
      data: { nextStep: checkin.key, nextRunAt: h.clock.now(), lastSentDay: null },
    });
    await claimDueSteps(h.deps);
    await h.settle();
    await textViaWebhook(h, app, phone, '4');
    await textViaWebhook(
      h,
      app,
      phone,
      "he took my phone again and said he'd hurt me if I text you",
    );

    const events = await h.deps.db.webhookEvent.findMany({
      where: { subscriberId: sub.id },
      orderBy: { seq: 'asc' },
    });
    const mine = () => receiver.accepted().filter((r) => dataOf(r).subscriberId === sub.id);
    await waitFor(() => mine().length >= events.length && events.length > 0, {
      timeout: 15_000,
      message: () => `receiver has ${mine().length} of ${events.length} events`,
    });

    // In the order they were written, each once.
    const got = mine();
    expect(got.map((r) => r.headers['webhook-id'])).toEqual(events.map((e) => e.id));
    const types = got.map(typeOf);
    const expected = [
      'subscriber.enrolled',
      'reply.received',
      'message.sent', // the opt-in question
      'reply.received', // YES
      'subscriber.confirmed',
      'message.sent', // welcome
      'message.sent', // the check-in
      'reply.received', // 4
      'checkin.answered',
      'reply.received', // the disclosure
      'safety.flagged',
    ];
    let at = -1;
    for (const t of expected) {
      const next = types.indexOf(t, at + 1);
      expect(next, `${t} after position ${at} in ${types.join(', ')}`).toBeGreaterThan(at);
      at = next;
    }

    // Verified by a Standard Webhooks implementation, not ours.
    const wh = new Webhook(secret);
    for (const r of got) {
      const payload = wh.verify(r.body, r.headers as Record<string, string>) as {
        type: string;
        timestamp: string;
        data: Record<string, unknown>;
      };
      expect(payload.type).toBe(typeOf(r));
      expect(payload.timestamp).toMatch(/^\d{4}-\d\d-\d\dT/);
    }
    const wrong = new Webhook('whsec_' + Buffer.alloc(24, 1).toString('base64'));
    expect(() => wrong.verify(got[0]!.body, got[0]!.headers as Record<string, string>)).toThrow();

    // What the payloads carry: ids, step, rating, intent, category, band; masked contacts only.
    const answered = dataOf(got.find((r) => typeOf(r) === 'checkin.answered')!);
    expect(answered).toMatchObject({ step: checkin.key, rating: 4, subscriberId: sub.id });
    const flagged = dataOf(got.find((r) => typeOf(r) === 'safety.flagged')!);
    expect(flagged).toMatchObject({
      category: 'abuse',
      band: 'act',
      enrollmentState: 'safety_hold',
    });
    const replies = got.filter((r) => typeOf(r) === 'reply.received').map(dataOf);
    expect(replies.map((d) => d.intent)).toContain('join');
    for (const r of got) {
      expect(r.body).not.toContain(phone);
      expect(r.body).not.toContain(phone.slice(2));
      expect(r.body).not.toMatch(/hurt me|took my phone/);
    }
    expect(dataOf(got[0]!).contact).toMatch(/^\+1\*+\d\d$/);

    // The delivery log says so too.
    const log = () =>
      h.deps.db.webhookDelivery.findMany({
        where: { endpointId, event: { subscriberId: sub.id } },
      });
    await waitFor(async () => (await log()).every((d) => d.status === 'delivered'));
    expect((await log()).map((d) => [d.status, d.responseCode, d.attempts])).toEqual(
      events.map(() => ['delivered', 200, 1]),
    );
  });

  it('an endpoint configured with includeContacts gets the full number; the list shows no secret', async () => {
    const full = await startReceiver();
    try {
      const res = await app.inject({
        method: 'POST',
        url: '/admin/api/webhooks',
        headers: { authorization: `Bearer ${h.config.adminToken}` },
        payload: { url: full.url, events: ['subscriber.enrolled'], includeContacts: true },
      });
      expect(res.statusCode).toBe(201);
      const { id } = res.json<{ id: string; secret: string }>();
      const phone = await freshPhone(h.deps.db);
      await textViaWebhook(h, app, phone, 'JOIN');
      await waitFor(() => full.accepted().length >= 1, { timeout: 10_000 });
      expect(full.accepted().map(typeOf)).toEqual(['subscriber.enrolled']);
      expect(dataOf(full.accepted()[0]!).contact).toBe(phone);

      const list = await app.inject({
        method: 'GET',
        url: '/admin/api/webhooks',
        headers: { authorization: `Bearer ${h.config.adminToken}` },
      });
      expect(list.statusCode).toBe(200);
      expect(list.body).not.toMatch(/whsec_/);
      expect(
        list.json<{ endpoints: { id: string; includeContacts: boolean }[] }>().endpoints,
      ).toContainEqual(expect.objectContaining({ id, includeContacts: true }));
      await h.deps.db.webhookEndpoint.delete({ where: { id } });
    } finally {
      await full.close();
    }
  });

  it('a delivery receipt and a provider failure become message.delivered and message.failed', async () => {
    const phone = await freshPhone(h.deps.db);
    await textViaWebhook(h, app, phone, 'JOIN');
    const sub = await h.deps.db.subscriber.findFirstOrThrow({ where: { phone } });
    const optin = await h.deps.db.message.findFirstOrThrow({
      where: { subscriberId: sub.id, direction: 'out', status: 'sent' },
    });
    const status = await postToTwilioWebhook(
      app,
      h.config,
      `/webhooks/twilio/status?m=${optin.id}`,
      {
        MessageSid: optin.providerId!,
        MessageStatus: 'delivered',
        To: phone,
        From: '+12025550100',
      },
    );
    expect(status.statusCode).toBe(204);
    // YES: the welcome is refused by the provider for good (21211: not a valid number).
    h.twilio.failNext(21211);
    await textViaWebhook(h, app, phone, 'YES');
    const of = (type: string) =>
      receiver.accepted().filter((r) => typeOf(r) === type && dataOf(r).subscriberId === sub.id);
    await waitFor(() => of('message.delivered').length === 1 && of('message.failed').length === 1, {
      timeout: 15_000,
    });
    expect(dataOf(of('message.delivered')[0]!)).toMatchObject({
      messageId: optin.id,
      status: 'delivered',
    });
    const failed = await h.deps.db.message.findFirstOrThrow({
      where: { subscriberId: sub.id, status: 'failed' },
    });
    expect(dataOf(of('message.failed')[0]!)).toMatchObject({
      messageId: failed.id,
      status: 'failed',
      errorCode: failed.error,
    });
  });
});
