// POST /webhooks/email/inbound: HMAC-signed JSON from a mail provider, handled exactly as mail to
// the SMTP listener is.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signInboundBody } from '../../src/http/email-inbound.ts';
import { freshEmail } from '../support/db.ts';
import { activeSubscriber, emailTestbed, type EmailTestbed } from './helpers.ts';

let t: EmailTestbed;
beforeAll(async () => {
  t = await emailTestbed({ env: { INBOUND_EMAIL_SECRET: 'test-inbound-secret-0123456789' } });
});
afterAll(async () => t?.close());

function post(body: unknown, signature?: string) {
  const raw = JSON.stringify(body);
  return t.app.inject({
    method: 'POST',
    url: '/webhooks/email/inbound',
    headers: {
      'content-type': 'application/json',
      ...(signature !== undefined ? { 'x-steady-signature': signature } : {}),
    },
    payload: raw,
  });
}
const sign = (body: unknown) =>
  signInboundBody('test-inbound-secret-0123456789', JSON.stringify(body));

function subscriber() {
  return activeSubscriber(t, freshEmail('hook'));
}

const rows = (where: object) =>
  t.deps.db.message.findMany({ where: { direction: 'in', ...where } });

describe('POST /webhooks/email/inbound', () => {
  it('refuses a request without or with a wrong signature (401) and records nothing', async () => {
    const s = await subscriber();
    const body = {
      from: s.email,
      to: s.replyTo,
      subject: 'Re: hi',
      text: '3',
      messageId: `<a-${Date.now()}@x>`,
    };
    expect((await post(body)).statusCode).toBe(401);
    expect((await post(body, 'sha256=' + '0'.repeat(64))).statusCode).toBe(401);
    expect(
      (await post(body, signInboundBody('some-other-secret-0123456789', JSON.stringify(body))))
        .statusCode,
    ).toBe(401);
    expect(await rows({ subscriberId: s.id })).toHaveLength(0);
  });

  it('records a signed reply against its subscriber, once per messageId', async () => {
    const s = await subscriber();
    const body = {
      from: `Me <${s.email}>`,
      to: [s.replyTo],
      subject: 'Re: Week 1',
      text: '2\n\n> quoted',
      messageId: `<b-${Date.now()}@x>`,
    };
    const res = await post(body, sign(body));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ ok: true });
    expect((await post(body, sign(body))).statusCode).toBe(200);
    const got = await rows({ subscriberId: s.id });
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ providerId: body.messageId, fromAddr: s.email });
  });

  it('accepts but drops a forged reply address or another sender: no row', async () => {
    const s = await subscriber();
    const forged = s.replyTo.replace(
      /\.([0-9a-f])/,
      (_m, c: string) => `.${c === 'a' ? 'b' : 'a'}`,
    );
    for (const body of [
      { from: s.email, to: forged, subject: '', text: 'hello', messageId: `<c-${Date.now()}@x>` },
      {
        from: 'partner@example.net',
        to: s.replyTo,
        subject: '',
        text: 'hello',
        messageId: `<d-${Date.now()}@x>`,
      },
    ]) {
      const res = await post(body, sign(body));
      expect(res.statusCode).toBe(200);
    }
    expect(await rows({ subscriberId: s.id })).toHaveLength(0);
    expect(await rows({ fromAddr: 'partner@example.net', toAddr: s.replyTo })).toHaveLength(0);
  });

  it('answers 400 to a signed body that is not the expected shape', async () => {
    const body = { from: 'x@example.org' };
    const res = await post(body, sign(body));
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toMatch(/from.*to.*text/);
  });
});
