// Delivery status callbacks, as a forward-only state machine (the ranks are in
// core/message-status.ts): a message only ever moves up, so the end state is the highest status
// received, whatever order the callbacks and the worker's own record arrive in, and a duplicate
// changes nothing. A message we marked `unknown` (a worker died mid-send) is settled by the
// provider's word when it comes.
import type { DeliveryStatus } from '../channels/twilio-webhook.ts';
import type { Deps } from '../deps.ts';
import { below, type OutboundStatus } from '../core/message-status.ts';
import { emitMessageEvents, MESSAGE_EVENT_FIELDS } from '../webhooks/message-events.ts';

// Twilio's `queued` (accepted, not yet handed to a carrier) means the provider has the message:
// for us that is `sent`.
const OURS: Record<DeliveryStatus, OutboundStatus> = {
  queued: 'sent',
  sent: 'sent',
  delivered: 'delivered',
  undelivered: 'undelivered',
  failed: 'failed',
};

// The failure reports that outrank a delivery receipt (suppressed outranks it too, but was never
// sent, so no receipt can be about it).
const OUTRANK_DELIVERED: OutboundStatus[] = ['undelivered', 'failed'];

export async function applyDeliveryStatus(
  deps: Pick<Deps, 'db' | 'clock'>,
  ref: { messageId?: string; providerId?: string },
  status: DeliveryStatus,
  errorCode?: string,
): Promise<'updated' | 'ignored' | 'not_found'> {
  if (!ref.messageId && !ref.providerId) return 'not_found';
  const target = OURS[status];
  const where = ref.messageId ? { id: ref.messageId } : { providerId: ref.providerId };
  const now = deps.clock.now();
  // The move and its webhook event (message.delivered / message.failed) in one transaction.
  const moved = await deps.db.$transaction(async (tx) => {
    const rows = await tx.message.updateManyAndReturn({
      where: { ...where, direction: 'out', status: { in: below(target) } },
      data: {
        status: target,
        ...(ref.providerId ? { providerId: ref.providerId } : {}),
        ...(target === 'delivered' ? { deliveredAt: now } : {}),
        ...(errorCode ? { error: `provider:${errorCode}` } : {}),
      },
      select: MESSAGE_EVENT_FIELDS,
    });
    const type =
      target === 'delivered' ? 'message.delivered' : target === 'sent' ? null : 'message.failed';
    if (type)
      await emitMessageEvents(tx, type, rows, now, {
        status: target,
        ...(errorCode ? { errorCode } : {}),
      });
    return rows.length;
  });
  if (moved > 0) return 'updated';
  // A receipt that lands after a failure report does not move the row, but when it came is still
  // recorded (once), so the row ends the same whichever of the two arrived first.
  if (target === 'delivered')
    await deps.db.message.updateMany({
      where: { ...where, direction: 'out', deliveredAt: null, status: { in: OUTRANK_DELIVERED } },
      data: { deliveredAt: now },
    });
  const exists = await deps.db.message.count({ where });
  return exists ? 'ignored' : 'not_found';
}
