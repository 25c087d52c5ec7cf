// Managing webhook endpoints, for the admin API and the console alike: register (the secret is
// returned once), list (never a secret), update, delete, rotate secrets, replay a delivery. Every
// change leaves an audit event, written in the same transaction as the change.
import type { Deps } from '../deps.ts';
import type { Prisma } from '../db/client.ts';
import { encryptText } from '../security/crypto.ts';
import { EVENT_TYPES, isEventType, type EventType } from './events.ts';
import { generateSecret } from './signature.ts';
import { checkEndpointUrl, UnsafeUrlError } from './ssrf.ts';

export class WebhookError extends Error {
  constructor(
    public readonly status: number,
    public readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'WebhookError';
  }
}

type Tx = Prisma.TransactionClient;
type MgmtDeps = Pick<Deps, 'db' | 'clock' | 'config'>;

/** How long a replaced secret keeps signing after a rotation (unless asked otherwise). */
export const ROTATION_OVERLAP_MS = 24 * 3600_000;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function checkEvents(events: readonly string[] | undefined): EventType[] {
  if (events === undefined) return [...EVENT_TYPES];
  if (!events.length)
    throw new WebhookError(
      400,
      'invalid_events',
      'Give at least one event type, or leave events out for all of them',
    );
  const unknown = events.filter((e) => !isEventType(e));
  if (unknown.length)
    throw new WebhookError(
      400,
      'unknown_event',
      `Unknown event type${unknown.length > 1 ? 's' : ''} ${unknown.map((e) => `"${e}"`).join(', ')}; known: ${EVENT_TYPES.join(', ')}`,
    );
  return [...new Set(events)] as EventType[];
}

async function checkUrl(deps: Pick<Deps, 'config'>, url: string): Promise<string> {
  try {
    return (await checkEndpointUrl(url, deps.config.webhooks)).toString();
  } catch (err) {
    if (err instanceof UnsafeUrlError)
      throw new WebhookError(400, 'invalid_url', `Endpoint URL refused: ${err.message}`);
    throw err;
  }
}

async function audit(
  tx: Tx,
  actor: string,
  action: string,
  target: string,
  detail: object,
  at: Date,
) {
  await tx.auditEvent.create({
    data: { actor, action, target, detail: detail as Prisma.InputJsonValue, at },
  });
}

export interface NewEndpoint {
  url: string;
  events?: readonly string[];
  includeContacts?: boolean;
}

export async function createEndpoint(
  deps: MgmtDeps,
  input: NewEndpoint,
  actor: string,
): Promise<{ id: string; secret: string }> {
  const events = checkEvents(input.events);
  const url = await checkUrl(deps, input.url);
  const now = deps.clock.now();
  const secret = generateSecret();
  return deps.db.$transaction(async (tx) => {
    const ep = await tx.webhookEndpoint.create({
      data: {
        url,
        events,
        includeContacts: input.includeContacts ?? false,
        createdAt: now,
        secrets: {
          create: { secretEnc: encryptText(deps.config.encryptionKeys, secret), createdAt: now },
        },
      },
    });
    await audit(
      tx,
      actor,
      'webhook.create',
      ep.id,
      { host: new URL(url).host, events, includeContacts: ep.includeContacts },
      now,
    );
    return { id: ep.id, secret };
  });
}

export interface EndpointView {
  id: string;
  url: string;
  events: string[];
  enabled: boolean;
  includeContacts: boolean;
  failingSince: Date | null;
  disabledAt: Date | null;
  disabledReason: string | null;
  createdAt: Date;
  secrets: { id: string; createdAt: Date; expiresAt: Date | null }[];
}

export async function listEndpoints(deps: Pick<Deps, 'db'>): Promise<EndpointView[]> {
  const rows = await deps.db.webhookEndpoint.findMany({
    orderBy: { createdAt: 'asc' },
    include: { secrets: { orderBy: { createdAt: 'asc' } } },
  });
  return rows.map((r) => ({
    id: r.id,
    url: r.url,
    events: r.events,
    enabled: r.enabled,
    includeContacts: r.includeContacts,
    failingSince: r.failingSince,
    disabledAt: r.disabledAt,
    disabledReason: r.disabledReason,
    createdAt: r.createdAt,
    // Never the secret itself: it was shown once, when it was made.
    secrets: r.secrets.map((s) => ({ id: s.id, createdAt: s.createdAt, expiresAt: s.expiresAt })),
  }));
}

function notFound(): WebhookError {
  return new WebhookError(404, 'not_found', 'No webhook endpoint with that id');
}

export async function updateEndpoint(
  deps: MgmtDeps,
  id: string,
  change: { enabled?: boolean; includeContacts?: boolean; events?: readonly string[] },
  actor: string,
): Promise<void> {
  if (!UUID.test(id)) throw notFound();
  const events = change.events === undefined ? undefined : checkEvents(change.events);
  const now = deps.clock.now();
  await deps.db.$transaction(async (tx) => {
    const r = await tx.webhookEndpoint.updateMany({
      where: { id },
      data: {
        ...(change.enabled !== undefined
          ? change.enabled
            ? { enabled: true, disabledAt: null, disabledReason: null, failingSince: null }
            : { enabled: false, disabledAt: now, disabledReason: `disabled by ${actor}` }
          : {}),
        ...(change.includeContacts !== undefined
          ? { includeContacts: change.includeContacts }
          : {}),
        ...(events ? { events } : {}),
      },
    });
    if (!r.count) throw notFound();
    await audit(tx, actor, 'webhook.update', id, { ...change, ...(events ? { events } : {}) }, now);
  });
}

export async function deleteEndpoint(deps: MgmtDeps, id: string, actor: string): Promise<void> {
  if (!UUID.test(id)) throw notFound();
  const now = deps.clock.now();
  await deps.db.$transaction(async (tx) => {
    const r = await tx.webhookEndpoint.deleteMany({ where: { id } });
    if (!r.count) throw notFound();
    await audit(tx, actor, 'webhook.delete', id, {}, now);
  });
}

/**
 * Adds a new secret (returned once). The secrets it replaces keep signing for `overlapSeconds`
 * (24 h by default; 0 ends them now), so the receiver can switch without missing a delivery.
 */
export async function rotateSecret(
  deps: MgmtDeps,
  id: string,
  actor: string,
  opts: { overlapSeconds?: number } = {},
): Promise<{ id: string; secret: string; previousExpireAt: Date }> {
  if (!UUID.test(id)) throw notFound();
  const now = deps.clock.now();
  const overlap =
    opts.overlapSeconds === undefined ? ROTATION_OVERLAP_MS : opts.overlapSeconds * 1000;
  const expireAt = new Date(now.getTime() + overlap);
  const secret = generateSecret();
  return deps.db.$transaction(async (tx) => {
    const ep = await tx.webhookEndpoint.findUnique({ where: { id }, select: { id: true } });
    if (!ep) throw notFound();
    // Only shorten a secret's life, never lengthen one already set to end sooner.
    await tx.webhookSecret.updateMany({
      where: { endpointId: id, OR: [{ expiresAt: null }, { expiresAt: { gt: expireAt } }] },
      data: { expiresAt: expireAt },
    });
    const s = await tx.webhookSecret.create({
      data: {
        endpointId: id,
        secretEnc: encryptText(deps.config.encryptionKeys, secret),
        createdAt: now,
      },
    });
    await audit(
      tx,
      actor,
      'webhook.rotate',
      id,
      { secretId: s.id, previousExpireAt: expireAt.toISOString() },
      now,
    );
    return { id: s.id, secret, previousExpireAt: expireAt };
  });
}

export interface DeliveryView {
  id: string;
  eventId: string;
  type: string;
  endpointId: string;
  status: string;
  attempts: number;
  responseCode: number | null;
  lastError: string | null;
  replayOf: string | null;
  createdAt: Date;
  lastAttemptAt: Date | null;
  finishedAt: Date | null;
}

export async function listDeliveries(
  deps: Pick<Deps, 'db'>,
  opts: { endpointId?: string; take?: number } = {},
): Promise<DeliveryView[]> {
  const rows = await deps.db.webhookDelivery.findMany({
    where: opts.endpointId ? { endpointId: opts.endpointId } : {},
    orderBy: { seq: 'desc' },
    take: opts.take ?? 50,
    include: { event: { select: { type: true } } },
  });
  return rows.map(({ event, seq: _seq, queuedAt: _q, orderKey: _o, ...d }) => ({
    ...d,
    type: event.type,
  }));
}

/** Sends a delivery's event to its endpoint again, as a new delivery (same webhook-id, so a
 * receiver that already has it can tell), behind the subscriber's deliveries still waiting. */
export async function replayDelivery(
  deps: MgmtDeps,
  deliveryId: string,
  actor: string,
): Promise<{ id: string }> {
  if (!UUID.test(deliveryId))
    throw new WebhookError(404, 'not_found', 'No webhook delivery with that id');
  const now = deps.clock.now();
  return deps.db.$transaction(async (tx) => {
    const d = await tx.webhookDelivery.findUnique({ where: { id: deliveryId } });
    if (!d) throw new WebhookError(404, 'not_found', 'No webhook delivery with that id');
    const copy = await tx.webhookDelivery.create({
      data: {
        eventId: d.eventId,
        endpointId: d.endpointId,
        orderKey: d.orderKey,
        replayOf: d.id,
        createdAt: now,
      },
    });
    await audit(
      tx,
      actor,
      'webhook.replay',
      d.endpointId,
      { deliveryId: d.id, replay: copy.id },
      now,
    );
    return { id: copy.id };
  });
}
