// Creating outbound messages. A message row is written before anything is queued; the job that
// sends it carries only the row's id. Callers create rows inside their transaction and enqueue
// after it commits (a crash in between leaves a `queued` row that the sweep re-enqueues).
import type { Queues, QueueName } from '../queues.ts';
import { SEND_JOB_OPTIONS, sendJobId } from '../queues.ts';
import type { Channel, MessageKind, Prisma } from '../db/client.ts';

export type Lane = 'program' | 'priority';

export interface NewOutbound {
  /** null only for an answer to a number or address we do not know (then `toAddr` is set). */
  subscriberId: string | null;
  toAddr?: string;
  enrollmentId?: string | null;
  channel: Channel;
  kind: MessageKind;
  template: string;
  step?: string | null;
  vars?: Record<string, string>;
  lane: Lane;
  dueAt?: Date;
  /** Stops the same system message being created twice for one event (e.g. one per inbound). */
  dedupeKey?: string;
}

export interface QueuedSend {
  messageId: string;
  channel: Channel;
  lane: Lane;
  dueAt?: Date;
}

type Tx = Prisma.TransactionClient;

export function queueFor(channel: Channel, lane: Lane): QueueName {
  return lane === 'priority' ? 'priority' : channel;
}

/** Writes the row; null when its dedupe key (or enrollment+step) already exists. */
/** `now` is program time (the injected clock): createdAt drives the once-a-day caps. */
export async function createOutbound(
  tx: Tx,
  m: NewOutbound,
  now: Date,
): Promise<QueuedSend | null> {
  // Plain SQL: the ORM's createManyAndReturn cost several ms of CPU for this one row (its query
  // compiler runs per call), and a safety answer is created this way. ON CONFLICT DO NOTHING is its
  // skipDuplicates: the dedupe key or (enrollment, step) already taken means no second row.
  const rows = await tx.$queryRaw<{ id: string }[]>`
    INSERT INTO messages (id, "subscriberId", "toAddr", "enrollmentId", channel, direction, kind, template, step, vars,
                          status, lane, "dueAt", "dedupeKey", "createdAt", "updatedAt")
    VALUES (gen_random_uuid(), ${m.subscriberId}::uuid, ${m.toAddr ?? null}, ${m.enrollmentId ?? null}::uuid,
            ${m.channel}::"Channel", 'out', ${m.kind}::"MessageKind", ${m.template}, ${m.step ?? null},
            ${m.vars ? JSON.stringify(m.vars) : null}::jsonb, 'queued', ${m.lane === 'priority' ? 'priority' : null},
            ${m.dueAt ?? null}::timestamptz, ${m.dedupeKey ?? null}, ${now}::timestamptz, ${new Date()}::timestamptz)
    ON CONFLICT DO NOTHING
    RETURNING id`;
  const row = rows[0];
  return row ? { messageId: row.id, channel: m.channel, lane: m.lane, dueAt: m.dueAt } : null;
}

/** Queues send jobs, grouped per queue in one round trip each. */
export async function enqueueSends(queues: Queues, sends: QueuedSend[], now: Date): Promise<void> {
  const byQueue = new Map<QueueName, QueuedSend[]>();
  for (const s of sends) {
    const q = queueFor(s.channel, s.lane);
    byQueue.set(q, [...(byQueue.get(q) ?? []), s]);
  }
  await Promise.all(
    [...byQueue].map(([name, list]) =>
      queues[name as 'sms'].addBulk(
        list.map((s) => ({
          name: 'send',
          data: { messageId: s.messageId },
          opts: {
            ...SEND_JOB_OPTIONS,
            jobId: sendJobId(s.messageId),
            delay: s.dueAt ? Math.max(0, s.dueAt.getTime() - now.getTime()) : undefined,
          },
        })),
      ),
    ),
  );
}
