// The language of the person a link in our email belongs to, for the page the link opens: the
// confirm and unsubscribe pages speak the subscriber's stored locale. An expired link is still
// ours (its signature holds), so it too is answered in their language; a tampered one, or one
// whose person is erased, in English.
import type { Deps } from '../deps.ts';
import { verifyToken, type TokenPurpose } from '../security/tokens.ts';

export async function tokenLocale(
  deps: Pick<Deps, 'db' | 'config' | 'clock'>,
  purpose: Extract<TokenPurpose, 'confirm' | 'unsubscribe'>,
  token: string,
): Promise<string | undefined> {
  const check = verifyToken(deps.config.appSecrets, purpose, token, deps.clock.now());
  const subject = check.ok ? check.subject : check.reason === 'expired' ? check.subject : undefined;
  if (!subject) return undefined;
  const sub = await deps.db.subscriber
    .findUnique({ where: { id: subject }, select: { locale: true } })
    .catch(() => null); // a subject that is not a uuid: treat as unknown
  return sub?.locale;
}
