// Signed tokens (confirm and unsubscribe links, sessions): HMAC-signed, bound to their purpose,
// expiring, and compared in constant time before anything in them is trusted.
import * as crypto from 'node:crypto';
import { beforeEach, describe, expect, it, vi } from 'vitest';

// Wrap timingSafeEqual so the test can see it used; everything else is the real module.
vi.mock('node:crypto', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:crypto')>();
  return {
    ...real,
    timingSafeEqual: vi.fn((a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) =>
      real.timingSafeEqual(a, b),
    ),
  };
});

const { safeEqual } = await import('../../src/security/crypto.ts');
const { signToken, verifyToken } = await import('../../src/security/tokens.ts');
const { parseReplyAddress, replyAddress } = await import('../../src/security/reply-address.ts');

const secret = 'a-test-secret-that-is-long-enough-0123456789';
const now = new Date('2026-05-04T12:00:00Z');
const inAnHour = new Date(now.getTime() + 3600_000);
const timingSafeEqual = vi.mocked(crypto.timingSafeEqual);

beforeEach(() => {
  timingSafeEqual.mockClear();
});

describe('tokens', () => {
  it('verify what they sign, for the subject they name', () => {
    const t = signToken(secret, 'confirm', 'sub-1', inAnHour);
    expect(verifyToken(secret, 'confirm', t, now)).toEqual({ ok: true, subject: 'sub-1' });
  });

  it('expire', () => {
    const t = signToken(secret, 'confirm', 'sub-1', inAnHour);
    const later = new Date(inAnHour.getTime() + 1000);
    expect(verifyToken(secret, 'confirm', t, later)).toMatchObject({
      ok: false,
      reason: 'expired',
    });
  });

  it('are bound to their purpose: an unsubscribe token does not confirm, and no token opens a session', () => {
    const t = signToken(secret, 'unsubscribe', 'sub-1', null);
    expect(verifyToken(secret, 'confirm', t, now).ok).toBe(false);
    expect(verifyToken(secret, 'session', t, now).ok).toBe(false);
  });

  it('refuse another secret, a changed payload, a changed signature, and junk', () => {
    const t = signToken(secret, 'confirm', 'sub-1', inAnHour);
    const [body, sig] = t.split('.') as [string, string];
    expect(verifyToken('another-secret-0123456789-0123456789', 'confirm', t, now)).toMatchObject({
      ok: false,
      reason: 'bad_signature',
    });
    const forged = Buffer.from(JSON.stringify({ p: 'confirm', s: 'sub-2', e: 0 })).toString(
      'base64url',
    );
    expect(verifyToken(secret, 'confirm', `${forged}.${sig}`, now)).toMatchObject({
      ok: false,
      reason: 'bad_signature',
    });
    const flipped = sig.slice(0, -1) + (sig.endsWith('A') ? 'B' : 'A');
    expect(verifyToken(secret, 'confirm', `${body}.${flipped}`, now)).toMatchObject({
      ok: false,
      reason: 'bad_signature',
    });
    for (const junk of [
      '',
      '.',
      'a.b.c',
      'x'.repeat(601),
      `${body}.`,
      `.${sig}`,
      '\u0000.\u0000',
      '%00.%00',
    ])
      expect(verifyToken(secret, 'confirm', junk, now).ok).toBe(false);
  });

  it('a signature that does not verify tells nothing about the payload (checked first)', () => {
    const garbage = Buffer.from('{not json').toString('base64url');
    expect(verifyToken(secret, 'confirm', `${garbage}.AAAA`, now)).toMatchObject({
      ok: false,
      reason: 'bad_signature',
    });
  });

  it('compare signatures with crypto.timingSafeEqual, also when the lengths differ', () => {
    const t = signToken(secret, 'confirm', 'sub-1', inAnHour);
    verifyToken(secret, 'confirm', t, now);
    expect(timingSafeEqual).toHaveBeenCalled();
    timingSafeEqual.mockClear();
    verifyToken(secret, 'confirm', `${t.split('.')[0]}.short`, now);
    expect(timingSafeEqual).toHaveBeenCalled();
    expect(safeEqual('abc', 'abcd')).toBe(false);
    expect(safeEqual('abc', 'abc')).toBe(true);
  });

  it('reply addresses are signed the same way: a forged or altered one names nobody', () => {
    const id = '3f2a1c9e-1234-4abc-8def-0123456789ab';
    const address = replyAddress(secret, id, 'reply.example.com');
    expect(parseReplyAddress(secret, address, 'reply.example.com')).toBe(id);
    expect(parseReplyAddress(secret, address.toUpperCase(), 'reply.example.com')).toBe(id);
    expect(
      parseReplyAddress('another-secret-0123456789-0123456789', address, 'reply.example.com'),
    ).toBeNull();
    expect(
      parseReplyAddress(
        secret,
        address.replace(/\.[0-9a-f]{20}@/, `.${'0'.repeat(20)}@`),
        'reply.example.com',
      ),
    ).toBeNull();
    expect(parseReplyAddress(secret, address, 'other.example.com')).toBeNull();
    expect(timingSafeEqual).toHaveBeenCalled();
  });

  it('rotate: with APP_SECRET=new,old the new key signs and links made with the old one still verify', () => {
    const newer = 'the-new-secret-that-is-long-enough-0123456789';
    const keys = [newer, secret];
    const id = '3f2a1c9e-1234-4abc-8def-0123456789ab';
    const oldLink = signToken(secret, 'unsubscribe', 'sub-1', null);
    expect(verifyToken(keys, 'unsubscribe', oldLink, now)).toEqual({ ok: true, subject: 'sub-1' });
    expect(verifyToken([newer], 'unsubscribe', oldLink, now).ok).toBe(false);
    // Signing with the list uses its first key: the same token as the new key alone makes.
    const fresh = signToken(keys, 'confirm', 'sub-1', inAnHour);
    expect(fresh).toBe(signToken(newer, 'confirm', 'sub-1', inAnHour));
    expect(verifyToken(keys, 'confirm', fresh, now)).toEqual({ ok: true, subject: 'sub-1' });
    // Expiry and purpose still hold under either key.
    const expired = signToken(secret, 'confirm', 'sub-1', inAnHour);
    expect(
      verifyToken(keys, 'confirm', expired, new Date(inAnHour.getTime() + 1000)),
    ).toMatchObject({ ok: false, reason: 'expired' });
    expect(verifyToken(keys, 'session', oldLink, now).ok).toBe(false);
    const oldAddress = replyAddress(secret, id, 'reply.example.com');
    expect(parseReplyAddress(keys, oldAddress, 'reply.example.com')).toBe(id);
    expect(parseReplyAddress([newer], oldAddress, 'reply.example.com')).toBeNull();
    expect(replyAddress(keys, id, 'reply.example.com')).toBe(
      replyAddress(newer, id, 'reply.example.com'),
    );
  });
});
