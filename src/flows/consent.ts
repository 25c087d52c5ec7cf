// Consent changes, each recorded as an event with its evidence. Shared by the SMS keywords, the
// email unsubscribe, the carrier's opt-out (Twilio 21610), the admin console and the CLI.
import type { Channel, Prisma } from '../db/client.ts';
import { metrics } from '../metrics.ts';
import { emitEvent } from '../webhooks/events.ts';
import { subscriberEvent } from '../webhooks/payloads.ts';

type Tx = Prisma.TransactionClient;

export interface Evidence {
  source: string;
  [k: string]: unknown;
}

export async function recordOptOut(
  tx: Tx,
  subscriberId: string,
  channel: Channel,
  evidence: Evidence,
  now: Date,
): Promise<boolean> {
  const sub = await tx.subscriber.findUnique({
    where: { id: subscriberId },
    // Contact and enrollments only for the webhook event below (same row, no extra query).
    select: {
      status: true,
      phone: true,
      email: true,
      enrollments: { select: { id: true, program: true, channel: true } },
    },
  });
  if (!sub) return false;
  await tx.enrollment.updateMany({
    where: { subscriberId, state: { notIn: ['stopped', 'completed'] } },
    data: { state: 'stopped', nextRunAt: null },
  });
  // Nothing already queued goes out after a STOP (the send worker re-checks too), except the
  // confirmation and the safety message answering this same reply ("he hit me. stop texting"):
  // it was written in this transaction, and the person gets it before the confirmation.
  await tx.message.updateMany({
    where: {
      subscriberId,
      direction: 'out',
      status: { in: ['pending', 'queued'] },
      NOT: [{ template: 'stop_confirm' }, { kind: 'safety', createdAt: { gte: now } }],
    },
    data: { status: 'suppressed', error: 'opted_out' },
  });
  // Replies that only may have asked to stop are settled by this one.
  await tx.optOutQuery.updateMany({
    where: { subscriberId, resolvedAt: null },
    data: { resolution: 'opted_out', resolvedAt: now, resolvedBy: `stop:${evidence.source}` },
  });
  if (sub.status === 'stopped') return false;
  await tx.subscriber.update({ where: { id: subscriberId }, data: { status: 'stopped' } });
  await tx.consentEvent.create({
    data: {
      subscriberId,
      channel,
      kind: 'opt_out',
      source: evidence.source,
      evidence: evidence as Prisma.InputJsonValue,
      at: now,
    },
  });
  // Webhook event, in this transaction (src/webhooks/events.ts).
  await emitEvent(
    tx,
    subscriberEvent(
      'subscriber.opted_out',
      { id: subscriberId, phone: sub.phone, email: sub.email },
      sub.enrollments.find((e) => e.channel === channel) ?? sub.enrollments[0],
      now,
      { source: evidence.source },
    ),
  );
  // Counted when written (inside the caller's transaction: one rolled back is still counted).
  metrics.inc('steady_optouts_total', { channel, source: evidence.source });
  return true;
}

export async function recordConsent(
  tx: Tx,
  subscriberId: string,
  channel: Channel,
  kind: 'opt_in' | 'confirm' | 'resubscribe' | 'pause' | 'resume',
  evidence: Evidence,
  now: Date,
): Promise<void> {
  await tx.consentEvent.create({
    data: {
      subscriberId,
      channel,
      kind,
      source: evidence.source,
      evidence: evidence as Prisma.InputJsonValue,
      at: now,
    },
  });
}
