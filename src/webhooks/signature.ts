// Standard Webhooks signatures (https://www.standardwebhooks.com): the secret is `whsec_` + base64
// of random bytes; the signed content is `${webhook-id}.${webhook-timestamp}.${body}`; the
// `webhook-signature` header holds `v1,<base64 HMAC-SHA256>` once per active secret, separated by
// spaces, so a receiver that rotates keys accepts either while both are live.
import { createHmac, randomBytes } from 'node:crypto';

const PREFIX = 'whsec_';

/** A new secret, shown to the operator once. 24 random bytes, as the common libraries make. */
export function generateSecret(): string {
  return PREFIX + randomBytes(24).toString('base64');
}

export function secretKey(secret: string): Buffer {
  if (!secret.startsWith(PREFIX)) throw new Error('a webhook secret starts with whsec_');
  return Buffer.from(secret.slice(PREFIX.length), 'base64');
}

/** `v1,<sig>` for one secret. */
export function signOne(secret: string, id: string, timestampSec: number, body: string): string {
  const mac = createHmac('sha256', secretKey(secret))
    .update(`${id}.${timestampSec}.${body}`)
    .digest('base64');
  return `v1,${mac}`;
}

/** The three headers of one delivery, signed with every active secret. */
export function signatureHeaders(
  secrets: readonly string[],
  id: string,
  at: Date,
  body: string,
): Record<'webhook-id' | 'webhook-timestamp' | 'webhook-signature', string> {
  if (!secrets.length) throw new Error('an endpoint without an active secret cannot sign');
  const ts = Math.floor(at.getTime() / 1000);
  return {
    'webhook-id': id,
    'webhook-timestamp': String(ts),
    'webhook-signature': secrets.map((s) => signOne(s, id, ts, body)).join(' '),
  };
}
