// Sign-up through the real routes, against the test database and Redis: the form and JSON, the
// same answer for known and unknown addresses, validation, rate limits, and nothing but the
// confirmation email before the person confirms.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliver } from '../../src/flows/deliver.ts';
import { SIGNUP_LIMITS } from '../../src/http/email-signup.ts';
import { freshEmail } from '../support/db.ts';
import {
  activeSubscriber,
  emailTestbed,
  freshIp,
  mailTo,
  postForm,
  postJson,
  queueNudge,
  type EmailTestbed,
} from './helpers.ts';

let t: EmailTestbed;
beforeAll(async () => {
  t = await emailTestbed();
});
afterAll(async () => t?.close());

describe('GET /', () => {
  it('is a small accessible form with a neutral title, the quick exit and a time zone field', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    const html = res.body;
    expect(html).toMatch(/<title>Weekly notes<\/title>/);
    expect(html).toContain('id="quick-exit"');
    expect(html).toContain('name="viewport"');
    for (const id of ['email', 'firstName', 'timezone']) {
      expect(html).toContain(`<label for="${id}">`);
      expect(html).toContain(`id="${id}"`);
    }
    expect(html).toContain('<datalist id="zones">');
    // The browser's own zone fills the field: a script file (the policy allows no inline script).
    const fill = /<script src="(\/assets\/tz-fill\.js[^"]*)"><\/script>/.exec(html)?.[1];
    expect(fill).toBeDefined();
    const js = await t.app.inject({ method: 'GET', url: fill! });
    expect(js.body).toContain('Intl.DateTimeFormat().resolvedOptions().timeZone');
    expect(html).toMatch(/unsubscribe/i);
  });
});

describe('POST /subscribe', () => {
  it('takes the form: "check your inbox", a pending subscriber, one confirmation email', async () => {
    const email = freshEmail('form');
    const res = await postForm(t, '/subscribe', {
      email: email.toUpperCase(),
      firstName: 'Ana',
      timezone: 'America/Denver',
    });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('Check your inbox');
    const sub = await t.deps.db.subscriber.findUniqueOrThrow({
      where: { email },
      include: { consents: true },
    });
    expect(sub).toMatchObject({ status: 'pending', firstName: 'Ana', timezone: 'America/Denver' });
    expect(sub.consents[0]).toMatchObject({ kind: 'opt_in', source: 'web_form' });
    expect(sub.consents[0]!.evidence).toMatchObject({ userAgent: 'TestBrowser/1.0' });
    await t.settle();
    const sent = mailTo(t, email);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.text).toMatch(/https:\/\/steady\.example\.com\/confirm\//);
  });

  it('takes JSON and answers {ok:true}', async () => {
    const email = freshEmail('json');
    const res = await postJson(t, '/subscribe', { email, timezone: 'Europe/London' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ ok: true });
    expect(await t.deps.db.subscriber.count({ where: { email, status: 'pending' } })).toBe(1);
  });

  it('answers a known address exactly as an unknown one, and sends an active person nothing new', async () => {
    const known = freshEmail('known');
    await activeSubscriber(t, known);
    const before = mailTo(t, known).length;
    const a = await postForm(t, '/subscribe', { email: known, timezone: 'America/Chicago' });
    const b = await postForm(t, '/subscribe', {
      email: freshEmail('unknown'),
      timezone: 'America/Chicago',
    });
    expect(a.statusCode).toBe(b.statusCode);
    expect(a.body).toBe(b.body);
    const j1 = await postJson(t, '/subscribe', { email: known });
    const j2 = await postJson(t, '/subscribe', { email: freshEmail('unknown') });
    expect(j1.body).toBe(j2.body);
    await t.settle();
    expect(mailTo(t, known)).toHaveLength(before);
  });

  it('sends a pending address at most one confirmation a day', async () => {
    const email = freshEmail('again');
    for (let i = 0; i < 3; i++)
      await postForm(t, '/subscribe', { email, timezone: 'America/Chicago' });
    await t.settle();
    expect(mailTo(t, email)).toHaveLength(1);
    t.clock.advance({ days: 1 });
    await postForm(t, '/subscribe', { email, timezone: 'America/Chicago' });
    await t.settle();
    expect(mailTo(t, email)).toHaveLength(2);
  });

  it.each([
    [
      'a bad address',
      { email: 'not-an-address', timezone: 'America/Chicago' },
      'invalid_email',
      /name@example\.com/,
    ],
    [
      'a bad time zone',
      { email: freshEmail('tz'), timezone: 'Mars/Olympus' },
      'invalid_timezone',
      /time zone/,
    ],
  ])('refuses %s with 400 and a clear message', async (_name, body, code, message) => {
    const json = await postJson(t, '/subscribe', body);
    expect(json.statusCode).toBe(400);
    expect(json.json()).toMatchObject({ error: code, message: expect.stringMatching(message) });
    const form = await postForm(t, '/subscribe', body);
    expect(form.statusCode).toBe(400);
    expect(form.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(form.body).toMatch(message);
    expect(form.body).toContain('role="alert"');
    expect(form.body).toContain('aria-invalid="true"');
    expect(form.body).toContain('action="/subscribe"'); // the form again, with what was typed
    expect(form.body).toContain(`value="${body.email}"`);
  });

  it('rate-limits per client address with 429 and Retry-After', async () => {
    const ip = freshIp();
    const answers: number[] = [];
    for (let i = 0; i <= SIGNUP_LIMITS.perIp.limit; i++)
      answers.push(
        (await postJson(t, '/subscribe', { email: freshEmail('flood') }, ip)).statusCode,
      );
    expect(answers.slice(0, -1).every((s) => s === 200)).toBe(true);
    const last = await postForm(
      t,
      '/subscribe',
      { email: freshEmail('flood'), timezone: 'UTC' },
      ip,
    );
    expect(last.statusCode).toBe(429);
    expect(Number(last.headers['retry-after'])).toBeGreaterThan(0);
    expect(last.body).toContain('try again in');
    // Someone else is not affected.
    expect((await postJson(t, '/subscribe', { email: freshEmail('other') })).statusCode).toBe(200);
  });

  it('rate-limits per address, whatever the client address', async () => {
    const email = freshEmail('target');
    for (let i = 0; i < SIGNUP_LIMITS.perAddress.limit; i++)
      expect((await postJson(t, '/subscribe', { email })).statusCode).toBe(200);
    const res = await postJson(t, '/subscribe', { email });
    expect(res.statusCode).toBe(429);
    expect(res.json()).toMatchObject({ error: 'rate_limited' });
    expect(res.headers['retry-after']).toBeDefined();
  });
});

describe('before confirming', () => {
  it('sends nothing but the confirmation: a program email is suppressed as not_confirmed', async () => {
    const email = freshEmail('pending');
    await postForm(t, '/subscribe', { email, timezone: 'America/Chicago' });
    const sub = await t.deps.db.subscriber.findUniqueOrThrow({ where: { email } });
    const nudge = await queueNudge(t, sub.id);
    await t.settle();
    expect(await deliver(t.deps, nudge)).toBe('skipped'); // already settled by the workers
    const row = await t.deps.db.message.findUniqueOrThrow({ where: { id: nudge } });
    expect(row).toMatchObject({ status: 'suppressed', error: 'not_confirmed' });
    const sent = mailTo(t, email);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.subject).toMatch(/confirm/i);
    // And the enrollment waits: nothing is scheduled for it.
    const e = await t.deps.db.enrollment.findFirstOrThrow({ where: { subscriberId: sub.id } });
    expect(e).toMatchObject({ state: 'pending', nextRunAt: null });
  });
});
