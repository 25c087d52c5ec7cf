// Delivers one webhook_deliveries row: its event, signed with every active secret of its
// endpoint, POSTed through the SSRF guard within WEBHOOKS_TIMEOUT_MS. A 2xx answer delivers it;
// anything else is a failed attempt: the row records the error and the response code, BullMQ
// retries with exponential backoff (about a day in all), and the last attempt leaves it `dead` (it
// can still be replayed). An endpoint that has failed without a single success for a day is
// disabled and operators are told; its deliveries then wait in the outbox until it is enabled again.
import type { Deps } from '../deps.ts';
import type { Prisma } from '../db/client.ts';
import { metrics } from '../metrics.ts';
import { decryptText } from '../security/crypto.ts';
import { notifyOperatorsOfDisabledWebhook } from '../flows/notify.ts';
import { postJson, PostError } from './post.ts';
import { signatureHeaders } from './signature.ts';

/** A day of failures without one success disables an endpoint. */
export const DISABLE_AFTER_MS = 24 * 3600_000;

export type WebhookOutcome = 'delivered' | 'retry' | 'dead' | 'held' | 'skipped';

/** Thrown to make BullMQ retry the job (with its backoff). */
export class RetryWebhook extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RetryWebhook';
  }
}

type DeliverDeps = Pick<Deps, 'db' | 'clock' | 'config' | 'log' | 'email'>;

/** Secrets that sign now: not expired on the program clock. */
export function activeSecrets(
  deps: Pick<Deps, 'config'>,
  secrets: { secretEnc: string; expiresAt: Date | null }[],
  now: Date,
): string[] {
  return secrets
    .filter((s) => !s.expiresAt || s.expiresAt > now)
    .map((s) => decryptText(deps.config.encryptionKeys, s.secretEnc));
}

/** The body sent: the stored payload, with the full contact added only for an endpoint that
 * asked for it (includeContacts), read from the subscriber at delivery time (gone once erased). */
async function bodyFor(
  deps: Pick<Deps, 'db'>,
  event: { payload: Prisma.JsonValue; subscriberId: string | null },
  includeContacts: boolean,
): Promise<string> {
  const payload = event.payload as { data?: Record<string, unknown> };
  if (!includeContacts || !event.subscriberId) return JSON.stringify(payload);
  const sub = await deps.db.subscriber.findUnique({
    where: { id: event.subscriberId },
    select: { phone: true, email: true },
  });
  const contact = sub?.phone ?? sub?.email;
  if (!contact) return JSON.stringify(payload);
  return JSON.stringify({ ...payload, data: { ...payload.data, contact } });
}

export async function deliverWebhook(
  deps: DeliverDeps,
  deliveryId: string,
  opts: { finalAttempt: boolean },
): Promise<WebhookOutcome> {
  const { db, config } = deps;
  const d = await db.webhookDelivery.findUnique({
    where: { id: deliveryId },
    include: { event: true, endpoint: { include: { secrets: true } } },
  });
  if (!d || d.status === 'delivered' || d.status === 'dead') return 'skipped';
  const now = deps.clock.now();
  if (!d.endpoint.enabled) {
    // Back to the outbox: the relay queues it again once the endpoint is enabled.
    await db.webhookDelivery.updateMany({
      where: { id: d.id, status: 'queued' },
      data: { status: 'pending', queuedAt: null },
    });
    return 'held';
  }
  const body = await bodyFor(deps, d.event, d.endpoint.includeContacts);
  let status: number | null = null;
  let error: string | null = null;
  const started = performance.now();
  try {
    const secrets = activeSecrets(deps, d.endpoint.secrets, now);
    // webhook-timestamp is wall-clock time, whatever the program clock says: receivers compare it
    // with their own clock to refuse replays (Standard Webhooks allows 5 minutes).
    const headers = signatureHeaders(secrets, d.event.id, new Date(), body);
    status = (await postJson(d.endpoint.url, body, headers, config.webhooks)).status;
    if (status < 200 || status > 299) error = `HTTP ${status}`;
  } catch (err) {
    error = err instanceof PostError ? err.message : (err as Error).message || String(err);
    status = err instanceof PostError ? err.status : null;
  }
  metrics.observe('steady_webhook_delivery_seconds', (performance.now() - started) / 1000);
  if (!error) {
    await db.$transaction([
      db.webhookDelivery.update({
        where: { id: d.id },
        data: {
          status: 'delivered',
          attempts: { increment: 1 },
          responseCode: status,
          lastError: null,
          lastAttemptAt: now,
          finishedAt: now,
        },
      }),
      db.webhookEndpoint.updateMany({
        where: { id: d.endpointId, failingSince: { not: null } },
        data: { failingSince: null },
      }),
    ]);
    metrics.inc('steady_webhook_deliveries_total', { outcome: 'delivered' });
    return 'delivered';
  }
  const disabled = await recordEndpointFailure(deps, d.endpointId, now);
  const outcome: WebhookOutcome = disabled ? 'held' : opts.finalAttempt ? 'dead' : 'retry';
  await db.webhookDelivery.update({
    where: { id: d.id },
    data: {
      attempts: { increment: 1 },
      responseCode: status,
      lastError: error.slice(0, 500),
      lastAttemptAt: now,
      ...(outcome === 'dead' ? { status: 'dead', finishedAt: now } : {}),
      ...(outcome === 'held' ? { status: 'pending', queuedAt: null } : {}),
    },
  });
  metrics.inc('steady_webhook_deliveries_total', {
    outcome: outcome === 'held' ? 'failed' : outcome,
  });
  deps.log.info(
    { deliveryId: d.id, endpointId: d.endpointId, status, outcome, attempt: d.attempts + 1 },
    'webhook delivery failed',
  );
  if (outcome === 'retry') throw new RetryWebhook(error);
  return outcome;
}

/**
 * Notes a failed attempt on the endpoint: the first failure since a success starts the clock; a
 * day later the endpoint is disabled (once: the conditional update decides which worker does it),
 * audited and operators are alerted. Returns whether this failure disabled it.
 */
export async function recordEndpointFailure(
  deps: DeliverDeps,
  endpointId: string,
  now: Date,
): Promise<boolean> {
  const { db } = deps;
  await db.webhookEndpoint.updateMany({
    where: { id: endpointId, failingSince: null },
    data: { failingSince: now },
  });
  const reason = 'failing for 24 hours';
  const disabled = await db.$transaction(async (tx) => {
    const r = await tx.webhookEndpoint.updateMany({
      where: {
        id: endpointId,
        enabled: true,
        failingSince: { lte: new Date(now.getTime() - DISABLE_AFTER_MS) },
      },
      data: { enabled: false, disabledAt: now, disabledReason: reason },
    });
    if (r.count === 0) return false;
    await tx.auditEvent.create({
      data: {
        actor: 'system',
        action: 'webhook.disabled',
        target: endpointId,
        detail: { reason },
        at: now,
      },
    });
    return true;
  });
  if (!disabled) return false;
  const ep = await db.webhookEndpoint.findUnique({ where: { id: endpointId } });
  metrics.inc('steady_webhook_endpoints_disabled_total');
  deps.log.warn(
    { endpointId, host: hostOf(ep?.url) },
    'webhook endpoint disabled after a day of failures',
  );
  await notifyOperatorsOfDisabledWebhook(deps, {
    endpointId,
    host: hostOf(ep?.url),
    failingSince: ep?.failingSince ?? now,
    at: now,
  }).catch((err) => deps.log.error({ err: String(err) }, 'operator alert failed'));
  return true;
}

/** Only the host goes into logs and alerts: a URL's path or query may carry a token. */
export function hostOf(url: string | undefined): string {
  try {
    return url ? new URL(url).host : '';
  } catch {
    return '';
  }
}
