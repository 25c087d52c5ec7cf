// An operator's reading of a flagged reply: safe or danger. The decision is kept on the flag (it
// becomes a training label, see `safety export`) and closes the review item. "Danger" on an `ask`
// flag is also an order to act now, exactly as the screen would have: hold the program, send the
// safety message for the category on the priority lane, and alert operators. Rows, the message row
// and the audit event are one transaction; the send job is queued after it commits (the sweep
// re-queues it if we crash in between).
import type { FlagDecision, Prisma } from '../db/client.ts';
import type { Deps } from '../deps.ts';
import { maskEmail, maskPhone } from '../channels/mask.ts';
import { createOutbound, enqueueSends, type QueuedSend } from './outbound.ts';
import { notifyOperators } from './notify.ts';
import { OperatorActionError } from './operator.ts';

export interface DecisionResult {
  decision: FlagDecision;
  band: 'act' | 'ask';
  /** True when this decision turned an `ask` into an `act` (held, safety message queued). */
  escalated: boolean;
  sends: number;
}

export async function decideFlag(
  deps: Pick<Deps, 'db' | 'clock' | 'queues' | 'config' | 'email' | 'log'>,
  flagId: string,
  decision: FlagDecision,
  opts: { actor: string; note?: string },
): Promise<DecisionResult> {
  const now = deps.clock.now();
  const result = await deps.db.$transaction(async (tx) => {
    const flag = await tx.safetyFlag.findUnique({
      where: { id: flagId },
      include: {
        subscriber: { select: { id: true, phone: true, email: true, status: true } },
        enrollment: { select: { id: true, state: true, channel: true } },
      },
    });
    if (!flag) throw new OperatorActionError(404, 'not_found', 'No such flag');
    const escalated = decision === 'danger' && flag.band === 'ask';
    const band = escalated ? 'act' : flag.band;
    // Conditional on no earlier decision: two operators deciding at once leave one decision.
    const taken = await tx.safetyFlag.updateMany({
      where: { id: flag.id, decision: null },
      data: {
        decision,
        decidedAt: now,
        decidedBy: opts.actor,
        band,
        // A decision handles the item; a flag already cleared with its hold stays cleared.
        ...(flag.status === 'open' ? { status: 'acknowledged', acknowledgedAt: now } : {}),
        ...(opts.note ? { note: opts.note } : {}),
      },
    });
    if (taken.count === 0)
      throw new OperatorActionError(409, 'already_decided', 'This flag already has a decision');

    const sends: QueuedSend[] = [];
    let channel: 'sms' | 'email' | null = null;
    if (escalated) {
      if (flag.enrollment && ['active', 'paused'].includes(flag.enrollment.state))
        await tx.enrollment.update({
          where: { id: flag.enrollment.id },
          data: { state: 'safety_hold' },
        });
      channel = await channelOf(tx, flag);
      // A stopped person asked us to stop: no message, but the hold and the alert still happen.
      if (channel && flag.subscriber.status !== 'stopped') {
        const template = `safety_${flag.category}`;
        const s = await createOutbound(
          tx,
          {
            subscriberId: flag.subscriberId,
            enrollmentId: flag.enrollmentId,
            channel,
            kind: 'safety',
            template,
            lane: 'priority',
            dedupeKey: `review-${flag.id}-${template}`,
          },
          now,
        );
        if (s) sends.push(s);
      }
    }
    await tx.auditEvent.create({
      data: {
        actor: opts.actor,
        action: 'flag.decide',
        target: flag.id,
        detail: { decision, band, ...(opts.note ? { note: opts.note } : {}) },
      },
    });
    return { flag, band, escalated, sends, channel };
  });

  const { flag, band, escalated, sends, channel } = result;
  await enqueueSends(deps.queues, sends, now);
  deps.log.info(
    { actor: opts.actor, flagId: flag.id, decision, band, escalated },
    'safety flag decided',
  );
  if (escalated) {
    const sub = flag.subscriber;
    const contact = sub.phone ? maskPhone(sub.phone) : sub.email ? maskEmail(sub.email) : '';
    await notifyOperators(deps, {
      categories: [flag.category],
      contact,
      channel: channel ?? 'unknown',
      messageId: flag.messageId ?? flag.id,
      at: now,
    }).catch((err) => deps.log.error({ err: String(err) }, 'operator alert failed'));
  }
  return { decision, band, escalated, sends: sends.length };
}

type Tx = Prisma.TransactionClient;

/** The safety message goes back the way the reply came; failing that, the enrollment's channel. */
async function channelOf(
  tx: Tx,
  flag: {
    messageId: string | null;
    enrollment: { channel: 'sms' | 'email' } | null;
    subscriber: { phone: string | null; email: string | null };
  },
): Promise<'sms' | 'email' | null> {
  const m = flag.messageId
    ? await tx.message.findUnique({ where: { id: flag.messageId }, select: { channel: true } })
    : null;
  if (m) return m.channel;
  if (flag.enrollment) return flag.enrollment.channel;
  return flag.subscriber.phone ? 'sms' : flag.subscriber.email ? 'email' : null;
}
