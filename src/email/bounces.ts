// Acts on a bounce or complaint report (see dsn.ts). A hard bounce marks the address
// undeliverable (the send worker then suppresses email to it); soft bounces count up, one per
// message we sent, and the third makes the address undeliverable too; a complaint is an opt-out.
//
// A report counts only when it names a message we sent (its Message-ID, returned in the report)
// to the address it reports on. Anyone can mail the bounce address, and a forged complaint must
// not be a way to unsubscribe someone, or a forged bounce a way to cut them off.
import { maskEmail } from '../channels/mask.ts';
import type { Deps } from '../deps.ts';
import { recordOptOut } from '../flows/consent.ts';
import { applyDeliveryStatus } from '../flows/delivery-status.ts';
import { metrics } from '../metrics.ts';
import type { MailReport } from './dsn.ts';

/** Soft bounces (on different messages) before an address is treated as undeliverable. */
export const SOFT_BOUNCE_LIMIT = 3;

export type ReportOutcome = 'hard_bounce' | 'soft_bounce' | 'repeat' | 'complaint' | 'unmatched';

const OUR_MESSAGE_ID = /^<?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})@/i;

export async function applyReport(
  deps: Pick<Deps, 'db' | 'clock' | 'log'>,
  report: MailReport,
  ref: { reportMessageId: string | null },
): Promise<ReportOutcome> {
  const { db, log } = deps;
  const now = deps.clock.now();
  const messageId = OUR_MESSAGE_ID.exec(report.originalMessageId ?? '')?.[1]?.toLowerCase();
  const sent = messageId
    ? await db.message.findFirst({
        where: { id: messageId, direction: 'out', channel: 'email' },
        select: { id: true, toAddr: true, subscriber: { select: { id: true, email: true } } },
      })
    : null;
  const sub = sent?.subscriber;
  const ours = new Set([sent?.toAddr?.toLowerCase(), sub?.email?.toLowerCase()].filter(Boolean));
  const named =
    report.kind === 'bounce' ? report.recipients.map((r) => r.address) : report.recipients;
  const match = named.find((a) => ours.has(a));
  if (!sent || !sub || !match) {
    log.info(
      {
        kind: report.kind,
        recipient: named[0] ? maskEmail(named[0]) : null,
        reason: sent ? 'other_recipient' : 'no_message_of_ours',
      },
      'email report dropped: it does not name a message we sent to that address',
    );
    metrics.inc('steady_email_reports_total', { kind: report.kind, outcome: 'unmatched' });
    return 'unmatched';
  }
  const evidence = { reportMessageId: ref.reportMessageId, messageId: sent.id };
  let outcome: ReportOutcome;

  if (report.kind === 'complaint') {
    await db.$transaction((tx) =>
      recordOptOut(
        tx,
        sub.id,
        'email',
        { source: 'complaint', feedbackType: report.feedbackType, ...evidence },
        now,
      ),
    );
    outcome = 'complaint';
  } else {
    const bounce = report.recipients.find((r) => r.address === match)!;
    if (bounce.severity === 'hard') {
      await applyDeliveryStatus(
        deps,
        { messageId: sent.id },
        'undelivered',
        bounce.status ?? 'hard_bounce',
      );
      await db.subscriber.updateMany({
        where: { id: sub.id, undeliverableAt: null },
        data: { undeliverableAt: now },
      });
      outcome = 'hard_bounce';
    } else {
      outcome = await countSoftBounce(deps, sub.id, sent.id, bounce.status, now);
    }
  }
  log.info(
    { kind: report.kind, outcome, recipient: maskEmail(match), messageId: sent.id },
    'email report applied',
  );
  metrics.inc('steady_email_reports_total', { kind: report.kind, outcome });
  return outcome;
}

/** One soft bounce per message (an MTA may send several delay warnings for one message). */
async function countSoftBounce(
  deps: Pick<Deps, 'db'>,
  subscriberId: string,
  messageId: string,
  status: string | null,
  now: Date,
): Promise<ReportOutcome> {
  return deps.db.$transaction(async (tx) => {
    const first = await tx.message.updateMany({
      where: {
        id: messageId,
        OR: [{ error: null }, { NOT: { error: { startsWith: 'soft_bounce' } } }],
      },
      data: { error: `soft_bounce:${status ?? 'unknown'}` },
    });
    if (first.count === 0) return 'repeat';
    const sub = await tx.subscriber.update({
      where: { id: subscriberId },
      data: { emailBounces: { increment: 1 } },
      select: { emailBounces: true, undeliverableAt: true },
    });
    if (sub.emailBounces >= SOFT_BOUNCE_LIMIT && !sub.undeliverableAt)
      await tx.subscriber.update({ where: { id: subscriberId }, data: { undeliverableAt: now } });
    return 'soft_bounce';
  });
}
