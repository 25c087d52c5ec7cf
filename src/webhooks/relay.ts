// The outbox relay: moves deliveries from webhook_deliveries into the `events` queue, one at a time
// per (endpoint, subscriber). For each such pair only the oldest unfinished delivery (by seq) is
// ever queued, so a subscriber's events reach an endpoint in the order they happened: the next
// waits until the one before it is delivered or dead. Deliveries of a disabled endpoint stay in the
// outbox. Any number of relays may run (one per `work` process): the conditional update lets one
// of them queue each row.
import type { JobsOptions } from 'bullmq';
import type { Deps } from '../deps.ts';
import { eventJobId } from '../queues.ts';

/** Retries: exponential from WEBHOOKS_RETRY_BASE_MS; 15 attempts from 5 s span about a day. */
export const EVENT_JOB_ATTEMPTS = 15;

export function eventJobOptions(config: Deps['config']): JobsOptions {
  return {
    attempts: EVENT_JOB_ATTEMPTS,
    backoff: { type: 'exponential', delay: config.webhooks.retryBaseMs },
    removeOnComplete: true,
    removeOnFail: { age: 7 * 24 * 3600 },
  };
}

export async function queueDeliveries(
  deps: Pick<Deps, 'queues' | 'config'>,
  ids: string[],
): Promise<void> {
  if (!ids.length) return;
  const opts = eventJobOptions(deps.config);
  await deps.queues.events.addBulk(
    ids.map((deliveryId) => ({
      name: 'deliver',
      data: { deliveryId },
      opts: { ...opts, jobId: eventJobId(deliveryId) },
    })),
  );
}

/** One pass: queues every (endpoint, subscriber) whose head delivery waits in the outbox. */
export async function relayOutbox(
  deps: Pick<Deps, 'db' | 'queues' | 'config' | 'clock'>,
  opts: { batch?: number } = {},
): Promise<number> {
  const now = deps.clock.now();
  const rows = await deps.db.$queryRaw<{ id: string }[]>`
    WITH heads AS (
      SELECT DISTINCT ON (d."endpointId", d."orderKey") d.id, d.status
      FROM webhook_deliveries d
      WHERE d.status IN ('pending', 'queued')
      ORDER BY d."endpointId", d."orderKey", d.seq
    )
    UPDATE webhook_deliveries d SET status = 'queued', "queuedAt" = ${now}
    FROM (
      SELECT h.id FROM heads h JOIN webhook_deliveries x ON x.id = h.id
      JOIN webhook_endpoints ep ON ep.id = x."endpointId" AND ep.enabled
      WHERE h.status = 'pending' LIMIT ${opts.batch ?? 500}
    ) pick
    WHERE d.id = pick.id AND d.status = 'pending'
    RETURNING d.id`;
  // Queued in Postgres first: if this add fails (Redis away), requeueLostDeliveries puts it back.
  await queueDeliveries(
    deps,
    rows.map((r) => r.id),
  );
  return rows.length;
}

/** Rows marked queued whose job Redis no longer has (lost, or the add failed): queued again.
 * Run by the cron; a job that still exists is left as it is (same jobId). */
export async function requeueLostDeliveries(
  deps: Pick<Deps, 'db' | 'queues' | 'config' | 'clock'>,
  opts: { staleMs?: number } = {},
): Promise<number> {
  const before = new Date(deps.clock.now().getTime() - (opts.staleMs ?? 60_000));
  const rows = await deps.db.webhookDelivery.findMany({
    where: { status: 'queued', queuedAt: { lt: before } },
    select: { id: true },
    take: 500,
  });
  const lost: string[] = [];
  for (const r of rows) if (!(await deps.queues.events.getJob(eventJobId(r.id)))) lost.push(r.id);
  await queueDeliveries(deps, lost);
  return lost.length;
}

/** The delivery log is kept 30 days; events without deliveries left go with it, and rotated
 * secrets once they have expired. */
export const DELIVERY_LOG_DAYS = 30;

export async function purgeWebhookLog(deps: Pick<Deps, 'db' | 'clock'>): Promise<number> {
  const now = deps.clock.now();
  const before = new Date(now.getTime() - DELIVERY_LOG_DAYS * 86400_000);
  const r = await deps.db.webhookDelivery.deleteMany({
    where: { status: { in: ['delivered', 'dead'] }, finishedAt: { lt: before } },
  });
  await deps.db.$executeRaw`
    DELETE FROM webhook_events e WHERE e."createdAt" < ${before}
      AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d."eventId" = e.id)`;
  await deps.db.webhookSecret.deleteMany({ where: { expiresAt: { lt: now } } });
  return r.count;
}
