// Message events (message.delivered, message.failed) written with the status change that causes
// them: the row moves and its event is written in one transaction (the caller's).
import type { Prisma } from '../db/client.ts';
import type { OutboundStatus } from '../core/message-status.ts';
import { below } from '../core/message-status.ts';
import { emitEvents, type EventType } from './events.ts';
import { maskAddress } from './payloads.ts';

type Tx = Prisma.TransactionClient;

export const MESSAGE_EVENT_FIELDS = {
  id: true,
  subscriberId: true,
  enrollmentId: true,
  channel: true,
  kind: true,
  step: true,
  template: true,
  toAddr: true,
} as const;

export interface MessageEventRow {
  id: string;
  subscriberId: string | null;
  enrollmentId: string | null;
  channel: string;
  kind: string;
  step: string | null;
  template: string | null;
  toAddr: string | null;
}

export function emitMessageEvents(
  tx: Tx,
  type: EventType,
  rows: MessageEventRow[],
  now: Date,
  extra: Record<string, unknown>,
): Promise<void> {
  return emitEvents(
    tx,
    rows.map((m) => ({
      type,
      subscriberId: m.subscriberId,
      at: now,
      data: {
        messageId: m.id,
        subscriberId: m.subscriberId,
        enrollmentId: m.enrollmentId,
        channel: m.channel,
        kind: m.kind,
        step: m.step,
        template: m.template,
        ...extra,
        contact: maskAddress(m.toAddr),
        at: now.toISOString(),
      },
    })),
  );
}

/** An outbound message failed for good (only if it ranks below failed): the row and its
 * message.failed event. */
export async function markFailed(tx: Tx, messageId: string, error: string, now: Date) {
  const rows = await tx.message.updateManyAndReturn({
    where: { id: messageId, status: { in: below('failed' satisfies OutboundStatus) } },
    data: { status: 'failed', error },
    select: MESSAGE_EVENT_FIELDS,
  });
  await emitMessageEvents(tx, 'message.failed', rows, now, { status: 'failed', errorCode: error });
  return rows.length;
}
