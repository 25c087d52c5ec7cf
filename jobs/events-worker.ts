// The `events` queue's workers: webhook deliveries (src/webhooks/deliver.ts), with the outbox relay
// (src/webhooks/relay.ts) running beside them. They never slow a send or a safety message:
//  - their own BullMQ workers, at WEBHOOKS_CONCURRENCY (4) per process, beside the send workers;
//  - they are shed first under load: while the program send queues hold more than
//    WEBHOOKS_SHED_BACKLOG jobs (read at most once a second), the relay queues nothing new and a
//    delivery job about to start is put back for 5 s without using an attempt. Nothing is lost:
//    the events wait in webhook_deliveries (and the delayed set) until the backlog clears.
import { DelayedError, Worker, type Job, type WorkerOptions } from 'bullmq';
import type { Deps } from '../src/deps.ts';
import { metrics } from '../src/metrics.ts';
import type { EventJob } from '../src/queues.ts';
import { deliverWebhook } from '../src/webhooks/deliver.ts';
import { relayOutbox } from '../src/webhooks/relay.ts';

/** How often the relay looks at the outbox when nothing wakes it. */
const RELAY_INTERVAL_MS = 250;
/** How long a shed delivery waits before it looks again. */
const SHED_DELAY_MS = 5000;

/** Whether the send queues are backlogged past WEBHOOKS_SHED_BACKLOG (cached for a second). */
export function backlogGauge(deps: Pick<Deps, 'queues' | 'config'>) {
  let until = 0;
  let last = false;
  return async (): Promise<boolean> => {
    const limit = deps.config.webhooks.shedBacklog;
    if (limit <= 0) return false;
    if (Date.now() < until) return last;
    until = Date.now() + 1000;
    const counts = await Promise.all(
      [deps.queues.sms, deps.queues.email, deps.queues.priority].map((q) =>
        q.getJobCounts('wait', 'prioritized'),
      ),
    );
    last = counts.reduce((n, c) => n + (c.wait ?? 0) + (c.prioritized ?? 0), 0) > limit;
    return last;
  };
}

export function startEventWorker(
  deps: Deps,
  common: Omit<WorkerOptions, 'concurrency'>,
): { worker: Worker; stop(): Promise<void> } {
  const shed = backlogGauge(deps);
  let wake: (() => void) | null = null;
  const kick = () => wake?.();
  const worker = new Worker<EventJob>(
    'events',
    async (job: Job<EventJob>, token?: string) => {
      if (await shed()) {
        metrics.inc('steady_webhook_shed_total');
        await job.moveToDelayed(Date.now() + SHED_DELAY_MS, token);
        throw new DelayedError();
      }
      const finalAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      try {
        return await deliverWebhook(deps, job.data.deliveryId, { finalAttempt });
      } finally {
        // The next delivery for the same subscriber may go now.
        kick();
      }
    },
    { ...common, concurrency: deps.config.webhooks.concurrency },
  );
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        if (!(await shed())) {
          const n = await relayOutbox(deps);
          if (n) continue;
        }
      } catch (err) {
        deps.log.error({ err: String(err) }, 'webhook relay failed; retrying');
      }
      if (!running) break;
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, RELAY_INTERVAL_MS).unref();
      });
      wake = null;
    }
  })();
  return {
    worker,
    async stop() {
      running = false;
      kick();
      await loop;
    },
  };
}
