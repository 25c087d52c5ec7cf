// Webhook deliveries are shed first under load: while the send queues hold more than
// WEBHOOKS_SHED_BACKLOG jobs, the events worker queues nothing new from the outbox (the event
// waits there, not lost) and goes on once the backlog clears.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorkers, type WorkerPool } from '../../jobs/workers.ts';
import { metrics } from '../../src/metrics.ts';
import { createEndpoint } from '../../src/webhooks/endpoints.ts';
import { emitEvent } from '../../src/webhooks/events.ts';
import { ownDatabase } from '../support/db.ts';
import { harness, waitFor, type Harness } from '../support/harness.ts';
import { startReceiver, type Receiver } from './receiver.ts';

let h: Harness;
let receiver: Receiver;
let events: WorkerPool | undefined;

beforeAll(async () => {
  h = await harness({
    workers: false,
    env: {
      DATABASE_URL: await ownDatabase('webhooks_shed'),
      WEBHOOKS_ALLOW_PRIVATE: '1',
      WEBHOOKS_SHED_BACKLOG: '2',
    },
  });
  await h.deps.db.webhookEndpoint.deleteMany({});
  receiver = await startReceiver();
});
afterAll(async () => {
  await events?.close(1000);
  await h?.close();
  await receiver?.close();
});

describe('shedding', () => {
  it('waits in the outbox while the send queues are backlogged, then goes out', async () => {
    await createEndpoint(h.deps, { url: receiver.url }, 'test');
    // A backlog of program sends nobody works on (only the events worker runs here).
    for (let i = 0; i < 3; i++)
      await h.deps.queues.sms.add('send', { messageId: randomUUID() }, { jobId: `shed-${i}` });
    const subscriberId = randomUUID();
    await h.deps.db.$transaction((tx) =>
      emitEvent(tx, {
        type: 'subscriber.enrolled',
        subscriberId,
        at: h.clock.now(),
        data: { subscriberId },
      }),
    );
    events = startWorkers(h.deps, { queues: ['events'] });
    await new Promise((r) => setTimeout(r, 1500));
    expect(receiver.received).toHaveLength(0);
    const row = await h.deps.db.webhookDelivery.findFirstOrThrow({
      where: { event: { subscriberId } },
    });
    expect(row.status).toBe('pending');

    await h.deps.queues.sms.obliterate({ force: true });
    await waitFor(() => receiver.accepted().length === 1, { timeout: 10_000 });
    await waitFor(
      async () =>
        (await h.deps.db.webhookDelivery.findUniqueOrThrow({ where: { id: row.id } })).status ===
        'delivered',
    );
    expect(
      metrics.get('steady_webhook_deliveries_total', { outcome: 'delivered' }),
    ).toBeGreaterThan(0);
  });
});
