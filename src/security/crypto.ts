// Reply text is sensitive: a person may have written about abuse or self-harm. It is stored only
// encrypted (AES-256-GCM), with the key id beside the ciphertext so keys can be rotated: the first
// key encrypts, every listed key can still decrypt.
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';

export interface Key {
  id: string;
  key: Buffer;
}

export function encryptText(keys: Key[], plain: string): string {
  const k = keys[0];
  if (!k) throw new Error('no encryption key configured');
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', k.key, iv);
  const ct = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  return [
    'v1',
    k.id,
    iv.toString('base64url'),
    tag.toString('base64url'),
    ct.toString('base64url'),
  ].join('.');
}

export function decryptText(keys: Key[], sealed: string): string {
  const [v, id, iv, tag, ct] = sealed.split('.');
  if (v !== 'v1' || !id || iv === undefined || tag === undefined || ct === undefined)
    throw new Error('not an encrypted value');
  const k = keys.find((x) => x.id === id);
  if (!k) throw new Error(`encryption key "${id}" is not configured (REPLY_ENCRYPTION_KEYS)`);
  const decipher = createDecipheriv('aes-256-gcm', k.key, Buffer.from(iv, 'base64url'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString(
    'utf8',
  );
}

/** One secret, or a rotation list (APP_SECRET=new,old): the first signs, every one verifies. */
export type Secrets = string | readonly string[];

export function signingKey(secrets: Secrets): string {
  const k = typeof secrets === 'string' ? secrets : secrets[0];
  if (!k) throw new Error('no signing secret configured');
  return k;
}

export function verifyingKeys(secrets: Secrets): readonly string[] {
  return typeof secrets === 'string' ? [secrets] : secrets;
}

/** True when `given` equals `expected(key)` for any key. Every key is tried, each compared in
 * constant time, so the time taken does not say which key matched. */
export function matchesAnyKey(
  secrets: Secrets,
  given: string,
  expected: (key: string) => string,
): boolean {
  return verifyingKeys(secrets)
    .map((k) => safeEqual(given, expected(k)))
    .includes(true);
}

/** A keyed hash for lookups and suppression entries where the plain contact is not needed. */
export function keyedHash(secret: string, value: string): string {
  return createHmac('sha256', secret).update(value.trim().toLowerCase()).digest('hex');
}

export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  // Compare against itself when lengths differ so timing does not reveal the length match.
  return x.length === y.length ? timingSafeEqual(x, y) : (timingSafeEqual(x, x), false);
}
