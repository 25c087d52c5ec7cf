// Webhook authentication: Twilio's signature is checked against PUBLIC_URL + the path, so a request
// signed for any other URL (host, scheme, path or query) is refused and leaves nothing behind; a
// replayed MessageSid is recorded and answered once, even when its first delivery lost its job.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signTwilioRequest } from '../../src/channels/twilio-webhook.ts';
import { buildApp } from '../../src/http/app.ts';
import { signInboundBody } from '../../src/http/email-inbound.ts';
import { routeModules } from '../../src/http/modules.ts';
import { inboundJobId } from '../../src/queues.ts';
import { enroll } from '../../src/flows/enroll.ts';
import { replyAddress } from '../../src/security/reply-address.ts';
import { freshEmail, freshPhone } from '../support/db.ts';
import { harness, type Harness } from '../support/harness.ts';
import { postToTwilioWebhook } from '../support/twilio-post.ts';

let h: Harness;
let app: FastifyInstance;

beforeAll(async () => {
  h = await harness({ start: '2026-05-04T16:00:00Z' });
  app = await buildApp(h.deps, { modules: routeModules });
});
afterAll(async () => {
  await app?.close();
  await h?.close();
});

const sid = () => `SM${randomBytes(16).toString('hex')}`;

async function post(path: string, params: Record<string, string>, signedFor: string | null) {
  const signature = signedFor ? signTwilioRequest(h.config.sms.authToken, signedFor, params) : null;
  return postToTwilioWebhook(app, h.config, path, params, signature);
}

const inboundRows = (phone: string) =>
  h.deps.db.message.count({ where: { direction: 'in', fromAddr: phone } });

describe('Twilio signatures are checked against PUBLIC_URL', () => {
  it('accepts a request signed for PUBLIC_URL + the path', async () => {
    const phone = await freshPhone(h.deps.db);
    const res = await post(
      '/webhooks/twilio/sms',
      { MessageSid: sid(), From: phone, To: '+12025550100', Body: 'hello' },
      `${h.config.publicUrl}/webhooks/twilio/sms`,
    );
    expect(res.statusCode).toBe(200);
    expect(await inboundRows(phone)).toBe(1);
  });

  const publicUrl = 'https://steady.example.com';
  it.each([
    ['another host', 'https://evil.example.net/webhooks/twilio/sms'],
    ['plain http', 'http://steady.example.com/webhooks/twilio/sms'],
    ['another path', `${publicUrl}/webhooks/twilio/status`],
    ['an extra query', `${publicUrl}/webhooks/twilio/sms?x=1`],
    ['the address the app sees (behind a proxy)', 'http://localhost:80/webhooks/twilio/sms'],
  ])('refuses one signed for %s, and records nothing', async (_label, url) => {
    expect(h.config.publicUrl).toBe(publicUrl);
    const phone = await freshPhone(h.deps.db);
    const res = await post(
      '/webhooks/twilio/sms',
      { MessageSid: sid(), From: phone, To: '+12025550100', Body: 'JOIN' },
      url,
    );
    expect(res.statusCode).toBe(403);
    expect(await inboundRows(phone)).toBe(0);
    expect(await h.deps.db.subscriber.count({ where: { phone } })).toBe(0);
  });

  it('refuses a missing signature, a signature with another token, and a changed parameter', async () => {
    const phone = await freshPhone(h.deps.db);
    const params = { MessageSid: sid(), From: phone, To: '+12025550100', Body: 'JOIN' };
    const url = `${h.config.publicUrl}/webhooks/twilio/sms`;
    expect((await post('/webhooks/twilio/sms', params, null)).statusCode).toBe(403);
    const forged = signTwilioRequest('not-the-auth-token', url, params);
    const res = await app.inject({
      method: 'POST',
      url: '/webhooks/twilio/sms',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': forged,
      },
      payload: new URLSearchParams(params).toString(),
    });
    expect(res.statusCode).toBe(403);
    const signature = signTwilioRequest(h.config.sms.authToken, url, params);
    const tampered = await app.inject({
      method: 'POST',
      url: '/webhooks/twilio/sms',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': signature,
      },
      payload: new URLSearchParams({ ...params, Body: 'STOP' }).toString(),
    });
    expect(tampered.statusCode).toBe(403);
    expect(await inboundRows(phone)).toBe(0);
  });

  it('status callbacks too: signed for another URL they change nothing', async () => {
    const enrolled = await freshPhone(h.deps.db);
    await post(
      '/webhooks/twilio/sms',
      { MessageSid: sid(), From: enrolled, To: '+12025550100', Body: 'JOIN' },
      `${h.config.publicUrl}/webhooks/twilio/sms`,
    );
    await h.settle();
    const out = await h.deps.db.message.findFirstOrThrow({
      where: { direction: 'out', toAddr: enrolled },
    });
    const path = `/webhooks/twilio/status?m=${out.id}`;
    const params = {
      MessageSid: out.providerId ?? sid(),
      MessageStatus: 'failed',
      ErrorCode: '30003',
    };
    expect((await post(path, params, `https://evil.example.net${path}`)).statusCode).toBe(403);
    expect(
      (await post(path, params, `${h.config.publicUrl}/webhooks/twilio/status`)).statusCode,
    ).toBe(403); // query is signed too
    expect((await h.deps.db.message.findUniqueOrThrow({ where: { id: out.id } })).status).toBe(
      'sent',
    );
    expect((await post(path, params, `${h.config.publicUrl}${path}`)).statusCode).toBe(204);
    expect((await h.deps.db.message.findUniqueOrThrow({ where: { id: out.id } })).status).toBe(
      'failed',
    );
  });
});

describe('replays', () => {
  it('the same MessageSid ten times, all at once: one row, one answer', async () => {
    const phone = await freshPhone(h.deps.db);
    const params = { MessageSid: sid(), From: phone, To: '+12025550100', Body: 'JOIN' };
    const url = `${h.config.publicUrl}/webhooks/twilio/sms`;
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => post('/webhooks/twilio/sms', params, url)),
    );
    expect(answers.every((r) => r.statusCode === 200)).toBe(true);
    await h.settle();
    expect(await inboundRows(phone)).toBe(1);
    expect(h.smsTo(phone)).toHaveLength(1);
  });

  it('a replay after the first delivery lost its job (Redis restarted) is read, and still answered once', async () => {
    const phone = await freshPhone(h.deps.db);
    const params = { MessageSid: sid(), From: phone, To: '+12025550100', Body: 'JOIN' };
    const url = `${h.config.publicUrl}/webhooks/twilio/sms`;
    await h.pauseWorkers(); // so the first job is still there to lose
    await post('/webhooks/twilio/sms', params, url);
    const row = await h.deps.db.message.findFirstOrThrow({
      where: { direction: 'in', fromAddr: phone },
    });
    await h.deps.queues.inbound.remove(inboundJobId(row.id)); // as if Redis lost it
    h.resumeWorkers();
    await post('/webhooks/twilio/sms', params, url); // Twilio retries
    await post('/webhooks/twilio/sms', params, url);
    await h.settle();
    expect(await inboundRows(phone)).toBe(1);
    expect(h.smsTo(phone)).toHaveLength(1);
    expect(
      (await h.deps.db.message.findUniqueOrThrow({ where: { id: row.id } })).processedAt,
    ).not.toBeNull();
  });

  it('the email webhook: a wrong or missing signature is refused; a replayed Message-ID is recorded once', async () => {
    const email = freshEmail('replay');
    const r = await enroll(h.deps, { email, confirm: true, evidence: { source: 'test' } });
    const to = replyAddress(h.config.appSecret, r.subscriberId, h.config.email.replyDomain);
    const body = JSON.stringify({
      from: `Someone <${email}>`,
      to,
      text: '4',
      messageId: `<${randomBytes(8).toString('hex')}@example.com>`,
    });
    const send = (signature?: string) =>
      app.inject({
        method: 'POST',
        url: '/webhooks/email/inbound',
        headers: {
          'content-type': 'application/json',
          ...(signature ? { 'x-steady-signature': signature } : {}),
        },
        payload: body,
      });
    const replies = () =>
      h.deps.db.message.count({ where: { direction: 'in', subscriberId: r.subscriberId } });
    expect((await send()).statusCode).toBe(401);
    expect((await send(signInboundBody('another-secret-0123456789', body))).statusCode).toBe(401);
    expect(await replies()).toBe(0);
    const ok = signInboundBody(h.config.email.inboundSecret!, body);
    for (let i = 0; i < 3; i++) expect((await send(ok)).statusCode).toBe(200);
    expect(await replies()).toBe(1);
  });
});
