// The webhook-signature header: one `v1,<base64>` per active secret, each verifiable with the
// standardwebhooks library (the receivers' side), so a receiver mid-rotation accepts either.
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { generateSecret, signatureHeaders, signOne } from '../../src/webhooks/signature.ts';

const body = JSON.stringify({
  type: 'message.sent',
  timestamp: '2026-05-04T14:00:00.000Z',
  data: { messageId: 'm1' },
});

describe('webhook signatures', () => {
  it('a secret is whsec_ and base64 of 24 random bytes', () => {
    const s = generateSecret();
    expect(s).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(Buffer.from(s.slice(6), 'base64')).toHaveLength(24);
    expect(generateSecret()).not.toBe(s);
  });

  it('one secret: the header is what standardwebhooks signs, and it verifies', () => {
    const secret = generateSecret();
    const at = new Date();
    const h = signatureHeaders([secret], 'evt_1', at, body);
    expect(h['webhook-id']).toBe('evt_1');
    expect(h['webhook-timestamp']).toBe(String(Math.floor(at.getTime() / 1000)));
    expect(h['webhook-signature']).toBe(new Webhook(secret).sign('evt_1', at, body));
    expect(new Webhook(secret).verify(body, h)).toMatchObject({ type: 'message.sent' });
  });

  it('two secrets (rotation): two signatures, space separated, each verifies on its own', () => {
    const [oldS, newS, other] = [generateSecret(), generateSecret(), generateSecret()];
    const h = signatureHeaders([oldS, newS], 'evt_2', new Date(), body);
    const parts = h['webhook-signature'].split(' ');
    expect(parts).toHaveLength(2);
    for (const p of parts) expect(p).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(new Webhook(oldS).verify(body, h)).toBeTruthy();
    expect(new Webhook(newS).verify(body, h)).toBeTruthy();
    expect(() => new Webhook(other).verify(body, h)).toThrow();
    // Each part is the signature of that secret alone.
    const ts = Number(h['webhook-timestamp']);
    expect(parts).toEqual([signOne(oldS, 'evt_2', ts, body), signOne(newS, 'evt_2', ts, body)]);
  });

  it('a changed body, id or timestamp no longer verifies', () => {
    const secret = generateSecret();
    const h = signatureHeaders([secret], 'evt_3', new Date(), body);
    const wh = new Webhook(secret);
    expect(() => wh.verify(body.replace('m1', 'm2'), h)).toThrow();
    expect(() => wh.verify(body, { ...h, 'webhook-id': 'evt_4' })).toThrow();
    expect(() =>
      wh.verify(body, { ...h, 'webhook-timestamp': String(Number(h['webhook-timestamp']) + 1) }),
    ).toThrow();
  });

  it('no active secret: refuses to sign', () => {
    expect(() => signatureHeaders([], 'evt_5', new Date(), body)).toThrow(/secret/);
  });
});
