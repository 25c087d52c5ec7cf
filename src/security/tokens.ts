// Signed, expiring tokens for links in mail (confirm, unsubscribe) and reply addresses:
// base64url(payload).base64url(hmac). The HMAC is checked in constant time before anything in
// the payload is trusted. Secrets come as a list (APP_SECRET=new,old): the first signs and every
// one verifies, so the secret can rotate without breaking links already sent.
import { createHmac } from 'node:crypto';
import { matchesAnyKey, signingKey, type Secrets } from './crypto.ts';

export type TokenPurpose = 'confirm' | 'unsubscribe' | 'reply' | 'session';

export interface TokenPayload {
  p: TokenPurpose;
  /** Subject id (subscriber or operator). */
  s: string;
  /** Expiry, seconds since epoch (0 = never). */
  e: number;
}

function mac(secret: string, body: string): string {
  return createHmac('sha256', secret).update(body).digest('base64url');
}

export function signToken(
  secrets: Secrets,
  purpose: TokenPurpose,
  subject: string,
  expiresAt: Date | null,
): string {
  const payload: TokenPayload = {
    p: purpose,
    s: subject,
    e: expiresAt ? Math.floor(expiresAt.getTime() / 1000) : 0,
  };
  const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
  return `${body}.${mac(signingKey(secrets) + ':' + purpose, body)}`;
}

export type TokenCheck =
  | { ok: true; subject: string }
  | {
      ok: false;
      reason: 'malformed' | 'bad_signature' | 'expired' | 'wrong_purpose';
      subject?: string;
    };

export function verifyToken(
  secrets: Secrets,
  purpose: TokenPurpose,
  token: string,
  now: Date,
): TokenCheck {
  if (typeof token !== 'string' || token.length > 600) return { ok: false, reason: 'malformed' };
  const [body, sig, extra] = token.split('.');
  if (!body || !sig || extra !== undefined) return { ok: false, reason: 'malformed' };
  if (!matchesAnyKey(secrets, sig, (k) => mac(k + ':' + purpose, body)))
    return { ok: false, reason: 'bad_signature' };
  let payload: TokenPayload;
  try {
    payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as TokenPayload;
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (payload.p !== purpose || typeof payload.s !== 'string')
    return { ok: false, reason: 'wrong_purpose' };
  if (payload.e && payload.e * 1000 < now.getTime())
    return { ok: false, reason: 'expired', subject: payload.s };
  return { ok: true, subject: payload.s };
}
