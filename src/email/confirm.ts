// Double opt-in: the link in the confirmation email leads to a page with a button, and the button
// (a POST) starts the program, once. Opening the link never confirms, because mail scanners and
// link previews open links on their own. The subscriber row is locked while deciding, so a double
// click cannot send the welcome twice.
import type { Deps } from '../deps.ts';
import type { Evidence } from '../flows/consent.ts';
import { CONFIRM_TTL_MS, startEnrollment } from '../flows/enroll.ts';
import { enqueueSends } from '../flows/outbound.ts';
import { verifyToken } from '../security/tokens.ts';

export type ConfirmOutcome =
  | 'confirmed' // started just now: the welcome is queued
  | 'already' // confirmed before: nothing new is sent
  | 'expired' // the link is older than CONFIRM_TTL_MS: offer a new one
  | 'superseded' // the person unsubscribed after this link was sent: it no longer counts
  | 'invalid'; // tampered, malformed, or the person's data has been erased

/** When the token was made: its expiry minus the confirmation lifetime (read after verifying). */
function issuedAt(token: string): Date | null {
  try {
    const body = token.split('.')[0] ?? '';
    const e = (JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as { e?: unknown }).e;
    return typeof e === 'number' && e > 0 ? new Date(e * 1000 - CONFIRM_TTL_MS) : null;
  } catch {
    return null;
  }
}

/** What pressing the button would do, without doing it (for the page a GET shows): `ready` when
 * it would confirm, else the outcome it would have. */
export async function confirmState(
  deps: Pick<Deps, 'db' | 'clock' | 'config'>,
  token: string,
): Promise<Exclude<ConfirmOutcome, 'confirmed'> | 'ready'> {
  const check = verifyToken(deps.config.appSecrets, 'confirm', token, deps.clock.now());
  if (!check.ok) return check.reason === 'expired' ? 'expired' : 'invalid';
  const sub = await deps.db.subscriber.findUnique({
    where: { id: check.subject },
    select: {
      status: true,
      // Someone already with us who signed up for another program still confirms that one.
      enrollments: { where: { channel: 'email', state: 'pending' }, select: { id: true } },
    },
  });
  if (!sub) return 'invalid';
  const sent = issuedAt(token);
  const lastOptOut = await deps.db.consentEvent.findFirst({
    where: { subscriberId: check.subject, kind: 'opt_out' },
    orderBy: { at: 'desc' },
    select: { at: true },
  });
  if (lastOptOut && (!sent || lastOptOut.at >= sent)) return 'superseded';
  return sub.status === 'active' && sub.enrollments.length === 0 ? 'already' : 'ready';
}

export async function confirmSubscription(
  deps: Pick<Deps, 'db' | 'queues' | 'clock' | 'config' | 'programs'>,
  token: string,
  evidence: Evidence,
): Promise<ConfirmOutcome> {
  const now = deps.clock.now();
  const check = verifyToken(deps.config.appSecrets, 'confirm', token, now);
  if (!check.ok) return check.reason === 'expired' ? 'expired' : 'invalid';
  const subscriberId = check.subject;
  const sent = issuedAt(token);

  const result = await deps.db.$transaction(async (tx) => {
    const locked = await tx.$queryRaw<{ status: string }[]>`
      SELECT status::text AS status FROM subscribers WHERE id = ${subscriberId}::uuid FOR UPDATE`;
    const status = locked[0]?.status;
    if (!status) return { outcome: 'invalid' as const, sends: [] };
    // An unsubscribe outranks any confirmation link sent before it: only a new sign-up (and the
    // new link it sends) brings the person back.
    const lastOptOut = await tx.consentEvent.findFirst({
      where: { subscriberId, kind: 'opt_out' },
      orderBy: { at: 'desc' },
      select: { at: true },
    });
    if (lastOptOut && (!sent || lastOptOut.at >= sent))
      return { outcome: 'superseded' as const, sends: [] };
    const sends = await startEnrollment(tx, deps, subscriberId, evidence, now, 'email');
    // Already with us: only a program joined since (pending) had anything to confirm.
    if (status === 'active' && sends.length === 0)
      return { outcome: 'already' as const, sends: [] };
    return { outcome: 'confirmed' as const, sends };
  });
  await enqueueSends(deps.queues, result.sends, now);
  return result.outcome;
}
