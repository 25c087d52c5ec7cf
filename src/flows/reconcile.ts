// A message left `sending` by a worker that died mid-send: did the provider take it? Rather than
// guess, ask the provider (its message list for that number since the claim) and settle the row
// with its answer: found -> `sent` with the provider's id; not there -> back to `queued`, to be
// sent (the provider never had it, so sending it now is its first and only copy). When the
// provider cannot answer, the row is left for the sweep's old rules (unknown / resend).
import { SendError } from '../channels/port.ts';
import type { Deps } from '../deps.ts';
import { logThrottled } from '../error-report.ts';
import { metrics } from '../metrics.ts';
import { composeSms, MissingContentError, programOfMessage, strangerRecipient } from './compose.ts';
import { checkinWindow } from './deliver.ts';
import { RETRY_FROM } from '../core/message-status.ts';

export type Reconciled = 'sent' | 'requeued' | 'unanswered' | 'skipped';

// The provider's clock and ours differ a little, and Twilio reports whole seconds.
const CLOCK_SLACK_MS = 60_000;

export async function reconcileSending(
  deps: Pick<Deps, 'db' | 'sms' | 'config' | 'content' | 'programs' | 'clock' | 'log'>,
  messageId: string,
): Promise<Reconciled> {
  const { db } = deps;
  if (!deps.sms.recentTo) return 'unanswered';
  const m = await db.message.findUnique({
    where: { id: messageId },
    include: { subscriber: true, enrollment: { select: { program: true } } },
  });
  if (!m || m.status !== 'sending' || m.direction !== 'out' || m.channel !== 'sms')
    return 'skipped';
  const phone = m.subscriber?.phone ?? m.toAddr;
  if (!phone) return 'unanswered';
  let body: string;
  try {
    const program = programOfMessage(deps.programs, m);
    const sub = m.subscriber ?? strangerRecipient(program, 'sms', phone);
    body = composeSms(deps.config, deps.content, program, {
      message: m,
      subscriber: sub,
    }).body;
  } catch (err) {
    if (err instanceof MissingContentError) return 'unanswered';
    throw err;
  }
  // updatedAt is when the row was claimed (nothing else writes a `sending` row).
  const since = new Date(m.updatedAt.getTime() - CLOCK_SLACK_MS);
  let held;
  try {
    held = await deps.sms.recentTo(phone, since);
  } catch (err) {
    // Left for the sweep's old rules, but not silently: an outage shows in metrics and the log.
    // Only our code and the provider's: its message may quote the number.
    const code = err instanceof SendError ? err.code : 'unknown';
    metrics.inc('steady_reconcile_errors_total', { code });
    logThrottled(
      deps.log,
      'warn',
      `reconcile:${code}`,
      {
        code,
        providerCode: err instanceof SendError ? err.providerCode : undefined,
        messageId: m.id,
      },
      'provider could not say whether it holds a send cut off by a crash: left for the sweep',
    );
    return 'unanswered';
  }
  const copy = held.find((h) => h.body === body);
  if (copy) {
    const sentAt = copy.createdAt;
    const done = await db.message.updateMany({
      where: { id: m.id, status: 'sending' },
      data: {
        status: 'sent',
        providerId: copy.providerId,
        sentAt,
        body,
        toAddr: phone,
        error: null,
      },
    });
    if (done.count && m.kind === 'checkin' && m.enrollmentId && m.step) {
      const w = checkinWindow(deps, programOfMessage(deps.programs, m), m.step, sentAt);
      await db.checkin.createMany({
        data: [{ enrollmentId: m.enrollmentId, messageId: m.id, step: m.step, ...w }],
        skipDuplicates: true,
      });
    }
    deps.log.info(
      { messageId: m.id },
      'send cut off by a crash had reached the provider: recorded as sent',
    );
    return done.count ? 'sent' : 'skipped';
  }
  const back = await db.message.updateMany({
    where: { id: m.id, status: RETRY_FROM },
    data: {
      status: 'queued',
      error: 'not at the provider after a crash; sending again',
      updatedAt: new Date(0),
    },
  });
  deps.log.warn(
    { messageId: m.id },
    'send cut off by a crash never reached the provider: queued again',
  );
  return back.count ? 'requeued' : 'skipped';
}
