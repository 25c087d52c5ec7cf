// Delivery status callbacks, as a forward-only state machine: every status has a rank and a
// message only ever moves up, so the end state is the highest status received, whatever order
// the callbacks arrive in, and a duplicate changes nothing. A message we marked `unknown` (a
// worker died mid-send) is settled by the provider's word when it comes.
import type { DeliveryStatus } from '../channels/twilio-webhook.ts';
import type { Deps } from '../deps.ts';
import type { MessageStatus } from '../db/client.ts';

const RANK: Record<DeliveryStatus, number> = {
  queued: 1,
  sent: 2,
  delivered: 3,
  undelivered: 4,
  failed: 5,
};
const OURS: Record<DeliveryStatus, MessageStatus> = {
  queued: 'sent',
  sent: 'sent',
  delivered: 'delivered',
  undelivered: 'undelivered',
  failed: 'failed',
};
const RANK_OF_OURS: Partial<Record<MessageStatus, number>> = {
  queued: 0,
  sending: 0,
  unknown: 0,
  sent: 2,
  delivered: 3,
  undelivered: 4,
  failed: 5,
};

export async function applyDeliveryStatus(
  deps: Pick<Deps, 'db' | 'clock'>,
  ref: { messageId?: string; providerId?: string },
  status: DeliveryStatus,
  errorCode?: string,
): Promise<'updated' | 'ignored' | 'not_found'> {
  const target = OURS[status];
  const lower = (Object.entries(RANK_OF_OURS) as [MessageStatus, number][])
    .filter(([, r]) => r < RANK[status] && !(status === 'queued' && r >= 2))
    .map(([s]) => s);
  const where = ref.messageId ? { id: ref.messageId } : { providerId: ref.providerId };
  if (!ref.messageId && !ref.providerId) return 'not_found';
  const r = await deps.db.message.updateMany({
    where: { ...where, direction: 'out', status: { in: lower } },
    data: {
      status: target,
      ...(ref.providerId ? { providerId: ref.providerId } : {}),
      ...(target === 'delivered' ? { deliveredAt: deps.clock.now() } : {}),
      ...(errorCode ? { error: `provider:${errorCode}` } : {}),
    },
  });
  if (r.count > 0) return 'updated';
  const exists = await deps.db.message.count({ where });
  return exists ? 'ignored' : 'not_found';
}
