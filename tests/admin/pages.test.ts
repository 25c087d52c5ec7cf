// The queue board behind the sign-in, the local phone (signed through the real webhook, and absent
// where it could forge messages), the outbox viewer and the public resources page.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_PHONE, devPhoneEnabled, sendAsSubscriber } from '../../src/http/dev-phone.ts';
import { metrics } from '../../src/metrics.ts';
import { testConfig } from '../support/env.ts';
import { consolePhone, consoleTestbed, signIn, type ConsoleTestbed } from './helpers.ts';

let t: ConsoleTestbed;
beforeAll(async () => {
  // The local phone and the outbox viewer exist only with the outbox transports.
  t = await consoleTestbed({ env: { SMS_TRANSPORT: 'outbox', EMAIL_TRANSPORT: 'outbox' } });
});
afterAll(() => t?.close());

describe('queue board', () => {
  it('serves bull-board to a signed-in operator, with a policy that lets its page load', async () => {
    const op = await signIn(t);
    const page = await op.get('/admin/queues');
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html; charset=utf-8/);
    expect(page.body).toContain('<base href="/admin/queues/"');
    expect(page.headers['content-security-policy']).toContain("base-uri 'self'");
    const api = await op.inject({
      method: 'GET',
      url: '/admin/queues/api/queues',
      headers: { accept: 'application/json' },
    });
    expect(api.statusCode).toBe(200);
    expect((api.json() as { queues: { name: string }[] }).queues.map((q) => q.name).sort()).toEqual(
      ['email', 'events', 'inbound', 'priority', 'sms'],
    );
    const css = /href="(static\/css\/[^"]+)"/.exec(page.body)?.[1];
    expect((await op.get(`/admin/queues/${css}`)).statusCode).toBe(200);
  });

  it('accepts a same-origin write from the board', async () => {
    const op = await signIn(t);
    const res = await op.inject({
      method: 'PUT',
      url: '/admin/queues/api/queues/email/pause',
      headers: { origin: 'https://steady.example.com' },
    });
    expect(res.statusCode).toBe(200);
    expect(await t.deps.queues.email.isPaused()).toBe(true);
    await t.deps.queues.email.resume();
  });
});

describe('local phone', () => {
  it('posts through the signed Twilio webhook, so the message is recorded and queued', async () => {
    const phone = await consolePhone(t.deps.db);
    const rejected = metrics.get('steady_webhook_rejected_total', {
      route: 'twilio',
      reason: 'bad_signature',
    });
    const res = await t.app.inject({
      method: 'POST',
      url: '/dev/phone/send',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ from: phone, text: 'JOIN' }),
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ ok: true, from: phone });
    const row = await t.deps.db.message.findFirst({
      where: { providerId: res.json().sid, direction: 'in' },
    });
    expect(row?.fromAddr).toBe(phone);
    expect(row?.bodyEnc).toBeTruthy();
    expect(await t.deps.queues.inbound.getJob(`in-${row!.id}`)).toBeTruthy();
    expect(
      metrics.get('steady_webhook_rejected_total', { route: 'twilio', reason: 'bad_signature' }),
    ).toBe(rejected);
  });

  it('goes through signature verification: a wrong auth token is refused like a forged webhook', async () => {
    const wrong = { config: { ...t.config, sms: { ...t.config.sms, authToken: 'not-the-token' } } };
    const r = await sendAsSubscriber(t.app, wrong, DEFAULT_PHONE, 'JOIN');
    expect(r.status).toBe(403);
  });

  it('takes JSON only and checks the number and text', async () => {
    const form = await t.app.inject({
      method: 'POST',
      url: '/dev/phone/send',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'from=%2B12025550123&text=STOP',
    });
    expect(form.statusCode).toBe(415);
    const bad = await t.app.inject({
      method: 'POST',
      url: '/dev/phone/send',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ from: '+1900555', text: 'x' }),
    });
    expect(bad.statusCode).toBe(400);
    const empty = await t.app.inject({
      method: 'POST',
      url: '/dev/phone/send',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ from: DEFAULT_PHONE, text: '  ' }),
    });
    expect(empty.statusCode).toBe(400);
  });

  it('serves the phone page as UTF-8 with labelled controls', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/dev/phone' });
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.body).toContain(`value="${DEFAULT_PHONE}"`);
    expect(res.body).toContain('<label for="number">');
    expect(res.body).toContain('<label for="text" class="sr-only">Message</label>');
  });

  it('exists only with the SMS outbox and outside production', () => {
    expect(devPhoneEnabled({ config: testConfig() })).toBe(true);
    expect(
      devPhoneEnabled({
        config: testConfig({
          SMS_TRANSPORT: 'twilio',
          TWILIO_ACCOUNT_SID: 'AC' + 'a'.repeat(32),
          TWILIO_AUTH_TOKEN: 'abcdefgh12',
          TWILIO_FROM: '+12025550100',
        }),
      }),
    ).toBe(false);
    expect(devPhoneEnabled({ config: { ...testConfig(), env: 'production' } })).toBe(false);
    expect(devPhoneEnabled({ config: testConfig({ DEV_ROUTES: 'false' }) })).toBe(false);
  });
});

describe('outbox viewer', () => {
  it('lists messages and shows an email with its headers, links and a sandboxed frame', async () => {
    const to = `viewer-${Date.now()}@example.com`;
    const item = await t.deps.db.outboxItem.create({
      data: {
        channel: 'email',
        to,
        from: 'Steady <hello@example.com>',
        kind: 'confirm_email',
        subject: 'Please confirm — thank you',
        body: 'Confirm: https://steady.example.com/confirm/abc.def',
        html: '<p>Confirm: <a href="https://steady.example.com/confirm/abc.def">here</a><script>alert(1)</script></p>',
        headers: { 'List-Unsubscribe': '<https://steady.example.com/unsubscribe/x>' },
      },
    });
    const list = await t.app.inject({
      method: 'GET',
      url: `/dev/outbox?to=${encodeURIComponent(to)}`,
    });
    expect(list.body).toContain(`/dev/outbox/${item.id}/view`);
    expect(list.body).toContain('Please confirm — thank you');
    const view = await t.app.inject({ method: 'GET', url: `/dev/outbox/${item.id}/view` });
    expect(view.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(view.body).toContain('<a href="https://steady.example.com/confirm/abc.def">');
    expect(view.body).toContain('List-Unsubscribe');
    expect(view.body).toMatch(
      /<iframe class="mail" title="Email as HTML" sandbox="allow-popups allow-popups-to-escape-sandbox" srcdoc="[^"]*&lt;script&gt;/,
    );
  });
});

describe('resources page', () => {
  it('lists help for the default country behind a neutral title and a quick exit', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/resources' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.body).toContain('<title>Weekly notes</title>');
    expect(res.body).toContain('id="quick-exit"');
    const r = t.deps.content.resources[t.config.defaultCountry] ?? t.deps.content.resources.default;
    expect(r).toBeDefined();
    expect(res.body).toContain('<a href="tel:18007997233">1-800-799-7233</a>');
    expect(res.body).not.toMatch(/<title>[^<]*(abuse|violence|help)/i);
  });
});
