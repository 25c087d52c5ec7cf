// The events Steady tells webhook endpoints about, and how one is written to the outbox. Payloads
// follow Standard Webhooks' suggestion, {type, timestamp, data}; data carries ids, the program,
// the step, times and masked contacts only: never a reply's words, a full phone number or an
// address (an endpoint configured with includeContacts gets the contact added at delivery time,
// src/webhooks/deliver.ts, so the outbox itself never holds one).
//
// An event is written in the transaction of the change that caused it (pass the transaction
// client), as one statement that writes nothing unless an enabled endpoint subscribes to the type:
// an install without webhooks pays one tiny statement on an empty table, and no rows.
import { Prisma } from '../db/client.ts';

type Tx = Pick<Prisma.TransactionClient, '$executeRaw'>;

export const EVENT_TYPES = [
  'subscriber.enrolled',
  'subscriber.confirmed',
  'subscriber.opted_out',
  'message.sent',
  'message.delivered',
  'message.failed',
  'checkin.answered',
  'reply.received',
  'safety.flagged',
  'enrollment.completed',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const isEventType = (t: string): t is EventType =>
  (EVENT_TYPES as readonly string[]).includes(t);

export interface EventInput {
  type: EventType;
  /** Whose event it is: deliveries for one subscriber go out in order. */
  subscriberId: string | null;
  data: Record<string, unknown>;
  at: Date;
}

/**
 * The tail of an outbox statement: given a CTE `ev_in(type, subscriber_id, payload, ord)` it adds
 * one event row and one delivery per subscribed, enabled endpoint (none when nobody subscribes).
 * Shared by `emitEvents` and by batched statements that write events beside their own rows.
 */
export function outboxTail(at: Date): Prisma.Sql {
  return Prisma.sql`
  ev AS (
    SELECT 'evt_' || replace(gen_random_uuid()::text, '-', '') AS id, i.* FROM ev_in i
    WHERE EXISTS (SELECT 1 FROM webhook_endpoints ep WHERE ep.enabled AND i.type = ANY(ep.events))
  ),
  ins AS (
    INSERT INTO webhook_events (id, type, "subscriberId", payload, "createdAt")
    SELECT ev.id, ev.type, ev.subscriber_id, ev.payload, ${at} FROM ev ORDER BY ev.ord
    RETURNING id
  )
  INSERT INTO webhook_deliveries (id, "eventId", "endpointId", "orderKey", "createdAt")
  SELECT gen_random_uuid(), ev.id, ep.id, COALESCE(ev.subscriber_id::text, ev.id), ${at}
  FROM ev JOIN ins ON ins.id = ev.id
  JOIN webhook_endpoints ep ON ep.enabled AND ev.type = ANY(ep.events)
  ORDER BY ev.ord, ep.id`;
}

/** Writes events to the outbox (in the caller's transaction). */
export async function emitEvents(tx: Tx, events: EventInput[]): Promise<void> {
  if (!events.length) return;
  const payloads = events.map((e) =>
    JSON.stringify({ type: e.type, timestamp: e.at.toISOString(), data: e.data }),
  );
  await tx.$executeRaw`
    WITH ev_in AS (
      SELECT u.type, u.subscriber_id, u.payload, u.ord
      FROM unnest(${events.map((e) => e.type)}::text[], ${events.map((e) => e.subscriberId)}::uuid[],
                  ${payloads}::jsonb[]) WITH ORDINALITY AS u(type, subscriber_id, payload, ord)
    ),
    ${outboxTail(events[0]!.at)}`;
}

export const emitEvent = (tx: Tx, event: EventInput) => emitEvents(tx, [event]);
