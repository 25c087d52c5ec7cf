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
  const rows = await tx.message.createManyAndReturn({
    data: [
      {
        subscriberId: m.subscriberId,
        toAddr: m.toAddr ?? null,
        enrollmentId: m.enrollmentId ?? null,
        channel: m.channel,
        direction: 'out',
        kind: m.kind,
        template: m.template,
        step: m.step ?? null,
        vars: m.vars ?? undefined,
        status: 'queued',
        lane: m.lane === 'priority' ? 'priority' : null,
        dueAt: m.dueAt ?? null,
        dedupeKey: m.dedupeKey ?? null,
        createdAt: now,
      },
    ],
    skipDuplicates: true,
    select: { id: true },
  });
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
