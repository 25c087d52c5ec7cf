// The database side of deliver.ts on its hot path, in plain SQL and coalesced across the jobs a
// worker runs at once (coalesce.ts): load a message with its subscriber and enrollment state,
// claim it (queued -> sending), record it sent (and open a check-in). Each is one statement per
// batch instead of one ORM query per message, which cost more CPU than everything else a send
// does. The statements mean exactly what the per-message queries did, row by row.
import type { Channel, Db, MessageKind } from '../db/client.ts';
import { below } from '../core/message-status.ts';
import { coalesce } from './coalesce.ts';
import { outboxTail } from '../webhooks/events.ts';
import { maskAddress } from '../webhooks/payloads.ts';

export interface DeliveryRow {
  id: string;
  subscriberId: string | null;
  enrollmentId: string | null;
  channel: Channel;
  direction: 'in' | 'out';
  kind: MessageKind;
  step: string | null;
  template: string | null;
  vars: unknown;
  /** The experiment variant chosen when the row was written (compose sends its text). */
  variant: string | null;
  status: string;
  toAddr: string | null;
  lane: string | null;
  /** When it was due (null: as soon as created) and created, on the program clock (metrics). */
  dueAt: Date | null;
  createdAt: Date;
  subscriber: {
    id: string;
    phone: string | null;
    email: string | null;
    firstName: string | null;
    locale: string;
    country: string | null;
    status: string;
    undeliverableAt: Date | null;
  } | null;
  enrollment: { state: string; program: string } | null;
}

export interface SentRecord {
  id: string;
  providerId: string;
  sentAt: Date;
  body: string;
  subject: string | null;
  toAddr: string;
  /** Set for a check-in: the check-in row to open with it. */
  checkin?: { week: number; openedAt: Date; closesAt: Date; reminderDueAt: Date };
}

interface RawRow {
  id: string;
  subscriberId: string | null;
  enrollmentId: string | null;
  channel: Channel;
  direction: 'in' | 'out';
  kind: MessageKind;
  step: string | null;
  template: string | null;
  vars: unknown;
  variant: string | null;
  status: string;
  toAddr: string | null;
  lane: string | null;
  dueAt: Date | null;
  createdAt: Date;
  s_id: string | null;
  s_phone: string | null;
  s_email: string | null;
  s_first_name: string | null;
  s_locale: string | null;
  s_country: string | null;
  s_status: string | null;
  s_undeliverable_at: Date | null;
  e_state: string | null;
  e_program: string | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function toDelivery(r: RawRow): DeliveryRow {
  return {
    id: r.id,
    subscriberId: r.subscriberId,
    enrollmentId: r.enrollmentId,
    channel: r.channel,
    direction: r.direction,
    kind: r.kind,
    step: r.step,
    template: r.template,
    vars: r.vars,
    variant: r.variant,
    status: r.status,
    toAddr: r.toAddr,
    lane: r.lane,
    dueAt: r.dueAt,
    createdAt: r.createdAt,
    subscriber: r.s_id
      ? {
          id: r.s_id,
          phone: r.s_phone,
          email: r.s_email,
          firstName: r.s_first_name,
          locale: r.s_locale ?? 'en',
          country: r.s_country,
          status: r.s_status ?? 'pending',
          undeliverableAt: r.s_undeliverable_at,
        }
      : null,
    enrollment: r.e_state ? { state: r.e_state, program: r.e_program ?? '' } : null,
  };
}

async function loadBatch(db: Db, ids: string[]): Promise<(DeliveryRow | null)[]> {
  const valid = ids.filter((id) => UUID.test(id));
  const rows = valid.length
    ? await db.$queryRaw<RawRow[]>`
        SELECT m.id, m."subscriberId", m."enrollmentId", m.channel::text AS channel, m.direction::text AS direction,
               m.kind::text AS kind, m.step, m.template, m.vars, m.variant, m.status::text AS status, m."toAddr", m.lane,
               m."dueAt", m."createdAt",
               s.id AS s_id, s.phone AS s_phone, s.email AS s_email, s."firstName" AS s_first_name, s.locale AS s_locale,
               s.country AS s_country, s.status::text AS s_status, s."undeliverableAt" AS s_undeliverable_at,
               e.state::text AS e_state, e.program AS e_program
        FROM messages m
        LEFT JOIN subscribers s ON s.id = m."subscriberId"
        LEFT JOIN enrollments e ON e.id = m."enrollmentId"
        WHERE m.id = ANY(${valid}::uuid[])`
    : [];
  const byId = new Map(rows.map((r) => [r.id, toDelivery(r)]));
  return ids.map((id) => byId.get(id) ?? null);
}

/** queued/pending -> sending, only if still so: true for the one caller that got the row. */
async function claimBatch(db: Db, ids: string[]): Promise<boolean[]> {
  // updatedAt as Prisma writes it (the system clock): the sweep measures staleness from it.
  const rows = await db.$queryRaw<{ id: string }[]>`
    UPDATE messages SET status = 'sending', attempts = attempts + 1, "updatedAt" = ${new Date()}
    WHERE id = ANY(${ids}::uuid[]) AND status IN ('queued', 'pending')
    RETURNING id`;
  const claimed = new Set(rows.map((r) => r.id));
  // Two callers asking for the same row in one batch: only the first owns it.
  return ids.map((id) => claimed.delete(id));
}

// What the provider took is recorded on every row, but the status only moves up to `sent`
// (core/message-status.ts): a status callback can land while the row is still `sending`, and its
// `delivered` or `failed` (and the error it carried) must not be overwritten. The row is still
// returned, so a check-in opens whatever the callbacks said first.
const BELOW_SENT = below('sent');

async function recordSentBatch(db: Db, records: SentRecord[]): Promise<void[]> {
  const checkins = records.filter((r) => r.checkin);
  const iso = (d: Date) => d.toISOString();
  await db.$executeRaw`
    WITH sent AS (
      UPDATE messages m
         SET status = CASE WHEN m.status = ANY(${BELOW_SENT}::"MessageStatus"[]) THEN 'sent' ELSE m.status END,
             error = CASE WHEN m.status = ANY(${BELOW_SENT}::"MessageStatus"[]) THEN NULL ELSE m.error END,
             "providerId" = u.provider_id, "sentAt" = u.sent_at::timestamptz,
             body = u.body, subject = u.subject, "toAddr" = u.to_addr, "updatedAt" = ${new Date()}
      FROM unnest(${records.map((r) => r.id)}::uuid[], ${records.map((r) => r.providerId)}::text[],
                  ${records.map((r) => iso(r.sentAt))}::text[], ${records.map((r) => r.body)}::text[],
                  ${records.map((r) => r.subject)}::text[], ${records.map((r) => r.toAddr)}::text[])
           AS u(id, provider_id, sent_at, body, subject, to_addr)
      WHERE m.id = u.id
      RETURNING m.id, m."enrollmentId", m.step, m."subscriberId", m.channel::text AS channel,
                m.kind::text AS kind, m.template
    ),
    ck AS (
    INSERT INTO checkins (id, "enrollmentId", "messageId", step, week, "openedAt", "closesAt", "reminderDueAt")
    SELECT gen_random_uuid(), s."enrollmentId", s.id, s.step, c.week, c.opened_at::timestamptz, c.closes_at::timestamptz,
           c.reminder_due_at::timestamptz
    FROM sent s
    JOIN unnest(${checkins.map((r) => r.id)}::uuid[], ${checkins.map((r) => r.checkin!.week)}::int[],
                ${checkins.map((r) => iso(r.checkin!.openedAt))}::text[], ${checkins.map((r) => iso(r.checkin!.closesAt))}::text[],
                ${checkins.map((r) => iso(r.checkin!.reminderDueAt))}::text[])
         AS c(id, week, opened_at, closes_at, reminder_due_at) ON c.id = s.id
    WHERE s."enrollmentId" IS NOT NULL AND s.step IS NOT NULL
    ON CONFLICT ("messageId") DO NOTHING
    ),
    -- The message.sent webhook event, in this same statement (src/webhooks/events.ts): nothing is
    -- written unless an enabled endpoint subscribes to it. Contacts arrive masked.
    ev_in AS (
      SELECT 'message.sent'::text AS type, s."subscriberId" AS subscriber_id, w.ord,
             jsonb_build_object('type', 'message.sent', 'timestamp', w.sent_at, 'data', jsonb_build_object(
               'messageId', s.id, 'subscriberId', s."subscriberId", 'enrollmentId', s."enrollmentId",
               'program', e.program, 'channel', s.channel, 'kind', s.kind, 'step', s.step,
               'template', s.template, 'contact', w.contact, 'at', w.sent_at)) AS payload
      FROM sent s
      JOIN unnest(${records.map((r) => r.id)}::uuid[], ${records.map((r) => iso(r.sentAt))}::text[],
                  ${records.map((r) => maskAddress(r.toAddr))}::text[])
           WITH ORDINALITY AS w(id, sent_at, contact, ord) ON w.id = s.id
      LEFT JOIN enrollments e ON e.id = s."enrollmentId"
    ),
    ${outboxTail(records[0]?.sentAt ?? new Date())}`;
  return records.map(() => undefined);
}

export interface DeliveryStore {
  load(id: string): Promise<DeliveryRow | null>;
  claim(id: string): Promise<boolean>;
  recordSent(record: SentRecord): Promise<void>;
}

// One store per database client, so every worker of a process shares the batches.
const stores = new WeakMap<Db, DeliveryStore>();

export function deliveryStore(db: Db): DeliveryStore {
  let store = stores.get(db);
  if (!store) {
    store = {
      load: coalesce((ids: string[]) => loadBatch(db, ids)),
      claim: coalesce((ids: string[]) => claimBatch(db, ids)),
      recordSent: coalesce((records: SentRecord[]) => recordSentBatch(db, records)),
    };
    stores.set(db, store);
  }
  return store;
}
