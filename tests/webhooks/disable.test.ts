// An endpoint that fails without a single success for a day is disabled, audited, and operators
// are alerted (notify.ts: the operator email here); its deliveries wait in the outbox until it is
// enabled again. Runs deliverWebhook directly (the flow the `events` worker calls) on a fake clock.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.ts';
import { metrics } from '../../src/metrics.ts';
import { deliverWebhook, RetryWebhook } from '../../src/webhooks/deliver.ts';
import { createEndpoint } from '../../src/webhooks/endpoints.ts';
import { emitEvent } from '../../src/webhooks/events.ts';
import { relayOutbox } from '../../src/webhooks/relay.ts';
import { ownDatabase } from '../support/db.ts';
import { harness, waitFor, type Harness } from '../support/harness.ts';
import { startReceiver, type Receiver } from './receiver.ts';

let h: Harness;
let app: FastifyInstance;
let receiver: Receiver;

beforeAll(async () => {
  h = await harness({
    start: '2026-05-04T14:00:00Z',
    workers: false,
    env: {
      DATABASE_URL: await ownDatabase('webhooks_disable'),
      WEBHOOKS_ALLOW_PRIVATE: '1',
      OPERATOR_EMAIL: 'ops@example.com',
    },
  });
  app = await buildApp(h.deps);
  await h.deps.db.webhookEndpoint.deleteMany({});
  receiver = await startReceiver(() => 500);
});
afterAll(async () => {
  await app?.close();
  await h?.close();
  await receiver?.close();
});

async function oneDelivery(endpointId: string) {
  const subscriberId = crypto.randomUUID();
  await h.deps.db.$transaction((tx) =>
    emitEvent(tx, {
      type: 'subscriber.enrolled',
      subscriberId,
      at: h.clock.now(),
      data: { subscriberId },
    }),
  );
  return h.deps.db.webhookDelivery.findFirstOrThrow({
    where: { endpointId, event: { subscriberId } },
  });
}

describe('failing endpoints', () => {
  it('after a day of failures the endpoint is disabled, audited and operators are alerted', async () => {
    const { id } = await createEndpoint(h.deps, { url: receiver.url }, 'test');
    const d = await oneDelivery(id);
    const before = metrics.get('steady_webhook_endpoints_disabled_total');

    await expect(deliverWebhook(h.deps, d.id, { finalAttempt: false })).rejects.toThrow(
      RetryWebhook,
    );
    const start = h.clock.now();
    expect(await h.deps.db.webhookEndpoint.findUniqueOrThrow({ where: { id } })).toMatchObject({
      enabled: true,
      failingSince: start,
    });

    h.clock.advance({ hours: 23, minutes: 59 });
    await expect(deliverWebhook(h.deps, d.id, { finalAttempt: false })).rejects.toThrow(
      RetryWebhook,
    );
    expect((await h.deps.db.webhookEndpoint.findUniqueOrThrow({ where: { id } })).enabled).toBe(
      true,
    );

    h.clock.advance({ minutes: 2 });
    expect(await deliverWebhook(h.deps, d.id, { finalAttempt: false })).toBe('held');
    const ep = await h.deps.db.webhookEndpoint.findUniqueOrThrow({ where: { id } });
    expect(ep).toMatchObject({ enabled: false, disabledReason: 'failing for 24 hours' });
    expect(receiver.received).toHaveLength(3);
    // The delivery is back in the outbox, with its log; nothing is queued while disabled.
    expect(
      await h.deps.db.webhookDelivery.findUniqueOrThrow({ where: { id: d.id } }),
    ).toMatchObject({
      status: 'pending',
      attempts: 3,
      responseCode: 500,
      lastError: 'HTTP 500',
    });
    expect(await relayOutbox(h.deps)).toBe(0);

    const audit = await h.deps.db.auditEvent.findFirst({
      where: { action: 'webhook.disabled', target: id },
    });
    expect(audit).toMatchObject({ actor: 'system' });
    expect(metrics.get('steady_webhook_endpoints_disabled_total')).toBe(before + 1);
    await waitFor(() => h.mailTo('ops@example.com').length > 0);
    const mail = h.mailTo('ops@example.com')[0]!;
    expect(mail.subject).toMatch(/webhook endpoint was disabled/);
    expect(mail.text).toContain(id);
    expect(mail.text).toContain(new URL(receiver.url).host);

    // Enabled again (audited): the waiting delivery is queued by the relay.
    const res = await app.inject({
      method: 'POST',
      url: `/admin/api/webhooks/${id}`,
      headers: { authorization: `Bearer ${h.config.adminToken}` },
      payload: { enabled: true },
    });
    expect(res.statusCode).toBe(200);
    expect(await h.deps.db.webhookEndpoint.findUniqueOrThrow({ where: { id } })).toMatchObject({
      enabled: true,
      failingSince: null,
      disabledAt: null,
    });
    expect(await relayOutbox(h.deps)).toBeGreaterThanOrEqual(1);
    expect(
      (await h.deps.db.webhookDelivery.findUniqueOrThrow({ where: { id: d.id } })).status,
    ).toBe('queued');
    await h.deps.db.webhookEndpoint.delete({ where: { id } });
  });

  it('a success clears the failure record; the last attempt leaves a delivery dead', async () => {
    let code = 500;
    const flaky = await startReceiver(() => code);
    try {
      const { id } = await createEndpoint(h.deps, { url: flaky.url }, 'test');
      const a = await oneDelivery(id);
      await expect(deliverWebhook(h.deps, a.id, { finalAttempt: false })).rejects.toThrow(
        RetryWebhook,
      );
      expect(
        (await h.deps.db.webhookEndpoint.findUniqueOrThrow({ where: { id } })).failingSince,
      ).not.toBeNull();
      code = 204;
      expect(await deliverWebhook(h.deps, a.id, { finalAttempt: false })).toBe('delivered');
      expect(
        (await h.deps.db.webhookEndpoint.findUniqueOrThrow({ where: { id } })).failingSince,
      ).toBeNull();
      // Delivered once: a second run of the same job sends nothing.
      expect(await deliverWebhook(h.deps, a.id, { finalAttempt: false })).toBe('skipped');
      expect(flaky.received).toHaveLength(2);

      code = 503;
      const b = await oneDelivery(id);
      expect(await deliverWebhook(h.deps, b.id, { finalAttempt: true })).toBe('dead');
      expect(
        await h.deps.db.webhookDelivery.findUniqueOrThrow({ where: { id: b.id } }),
      ).toMatchObject({
        status: 'dead',
        responseCode: 503,
      });
      await h.deps.db.webhookEndpoint.delete({ where: { id } });
    } finally {
      await flaky.close();
    }
  });
});
