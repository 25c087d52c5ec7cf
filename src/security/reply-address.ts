// Reply-To addresses for email: reply+<subscriber hex>.<mac>@REPLY_DOMAIN. Short enough for the
// 64-character local-part limit, lower-case only (some systems fold case), and unforgeable: a
// reply is attached to a subscriber only when the mac verifies and the sender matches them.
import { createHmac } from 'node:crypto';
import { matchesAnyKey, signingKey, type Secrets } from './crypto.ts';

const mac = (secret: string, hex: string) =>
  createHmac('sha256', secret)
    .update('reply:' + hex)
    .digest('hex')
    .slice(0, 20);

export function replyAddress(secrets: Secrets, subscriberId: string, domain: string): string {
  const hex = subscriberId.replace(/-/g, '').toLowerCase();
  return `reply+${hex}.${mac(signingKey(secrets), hex)}@${domain}`;
}

/** The subscriber id a reply address stands for, or null when it is not one of ours (under any
 * of the keys: an address sent before a rotation still works). */
export function parseReplyAddress(
  secrets: Secrets,
  address: string,
  domain: string,
): string | null {
  const m = /^reply\+([0-9a-f]{32})\.([0-9a-f]{20})@(.+)$/i.exec(address.trim());
  if (!m || !m[1] || !m[2] || m[3]?.toLowerCase() !== domain.toLowerCase()) return null;
  const hex = m[1].toLowerCase();
  if (!matchesAnyKey(secrets, m[2].toLowerCase(), (k) => mac(k, hex))) return null;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
