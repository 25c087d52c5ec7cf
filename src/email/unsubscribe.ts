// Unsubscribing with the signed token from an email's footer or List-Unsubscribe header (the
// https link, RFC 8058 one-click, or the mailto). The token never expires: a person must be able
// to leave from any old email. Only an explicit action (a POST or a mail) calls this; opening a
// link never does, because mail scanners open links on their own.
import type { Deps } from '../deps.ts';
import { recordOptOut, type Evidence } from '../flows/consent.ts';
import { verifyToken } from '../security/tokens.ts';

export type UnsubscribeOutcome = 'unsubscribed' | 'already' | 'invalid';

/** Whom a token stands for, without acting on it (for the page a GET shows). */
export async function unsubscribeState(
  deps: Pick<Deps, 'db' | 'config' | 'clock'>,
  token: string,
): Promise<'subscribed' | 'already' | 'invalid'> {
  const check = verifyToken(deps.config.appSecrets, 'unsubscribe', token, deps.clock.now());
  if (!check.ok) return 'invalid';
  const sub = await deps.db.subscriber.findUnique({
    where: { id: check.subject },
    select: { status: true },
  });
  return !sub || sub.status === 'stopped' ? 'already' : 'subscribed';
}

export async function unsubscribeWithToken(
  deps: Pick<Deps, 'db' | 'config' | 'clock'>,
  token: string,
  evidence: Evidence,
): Promise<UnsubscribeOutcome> {
  const now = deps.clock.now();
  const check = verifyToken(deps.config.appSecrets, 'unsubscribe', token, now);
  if (!check.ok) return 'invalid';
  // A person whose data was erased is already gone: for them, too, nothing more will come.
  const changed = await deps.db.$transaction((tx) =>
    recordOptOut(tx, check.subject, 'email', evidence, now),
  );
  return changed ? 'unsubscribed' : 'already';
}
