// The double opt-in link: opening it (GET) shows a page with a button and changes nothing, since
// mail scanners open links on their own; the button (POST) starts the program once (welcome
// queued and delivered) and records the consent with its evidence. Tampered, expired and
// superseded links, on either method, give a page that offers a new link.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshEmail } from '../support/db.ts';
import {
  emailTestbed,
  freshIp,
  mailTo,
  postForm,
  signUpForToken,
  type EmailTestbed,
} from './helpers.ts';

let t: EmailTestbed;
beforeAll(async () => {
  t = await emailTestbed({ start: '2026-05-04T15:00:00Z' });
});
afterAll(async () => t?.close());

/** Opening the link, as a person or a mail scanner does. */
const visit = (token: string, ip = freshIp()) =>
  t.app.inject({
    method: 'GET',
    url: `/confirm/${token}`,
    headers: { 'x-forwarded-for': ip, 'user-agent': 'Phone/2.0' },
  });

/** Pressing the page's button: a form POST to the same address. */
const confirm = (token: string, ip = freshIp()) =>
  t.app.inject({
    method: 'POST',
    url: `/confirm/${token}`,
    headers: {
      'x-forwarded-for': ip,
      'user-agent': 'Phone/2.0',
      'content-type': 'application/x-www-form-urlencoded',
    },
    payload: '',
  });

describe('/confirm/:token', () => {
  it('opening the link shows a button and confirms nothing', async () => {
    const email = freshEmail('look');
    const token = await signUpForToken(t, email);
    for (let i = 0; i < 2; i++) {
      const res = await visit(token);
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.body).toContain('Confirm your subscription');
      expect(res.body).toContain(`<form method="post" action="/confirm/${token}">`);
      expect(res.body).toMatch(/<button type="submit">Yes, start my emails<\/button>/);
      expect(res.body).toContain('href="/terms"');
      expect(res.body).toContain('href="/privacy"');
    }
    await t.settle();
    const sub = await t.deps.db.subscriber.findUniqueOrThrow({
      where: { email },
      include: { consents: true, enrollments: true },
    });
    expect(sub.status).toBe('pending');
    expect(sub.consents.map((c) => c.kind)).toEqual(['opt_in']);
    expect(mailTo(t, email).map((m) => m.subject)).toEqual(['Please confirm your subscription']);
  });

  it('the button starts the program, records the consent with its evidence, and delivers the welcome', async () => {
    const email = freshEmail('confirm');
    const token = await signUpForToken(t, email);
    expect((await visit(token)).statusCode).toBe(200);
    const res = await confirm(token, '203.0.113.77');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.body).toContain("You're in");

    const sub = await t.deps.db.subscriber.findUniqueOrThrow({
      where: { email },
      include: { enrollments: true, consents: true },
    });
    expect(sub.status).toBe('active');
    expect(sub.enrollments[0]).toMatchObject({ state: 'active', channel: 'email' });
    expect(sub.enrollments[0]!.nextRunAt).not.toBeNull();
    const consent = sub.consents.find((c) => c.kind === 'confirm');
    expect(consent).toMatchObject({ source: 'confirm_link', at: t.clock.now() });
    expect(consent!.evidence).toMatchObject({
      ip: '203.0.113.77',
      userAgent: 'Phone/2.0',
      at: t.clock.now().toISOString(),
    });

    const welcome = await t.deps.db.message.findFirstOrThrow({
      where: { subscriberId: sub.id, template: 'welcome' },
    });
    // The real workers may already be sending it; it must not be held back or suppressed.
    expect(['queued', 'sending', 'sent']).toContain(welcome.status);
    await t.settle();
    expect((await t.deps.db.message.findUniqueOrThrow({ where: { id: welcome.id } })).status).toBe(
      'sent',
    );
    const sent = mailTo(t, email);
    expect(sent.map((m) => m.subject)).toEqual([
      'Please confirm your subscription',
      'Welcome to Steady',
    ]);
  });

  it('is idempotent: confirming again, or opening the link again, says "all set" and sends no second welcome', async () => {
    const email = freshEmail('twice');
    const token = await signUpForToken(t, email);
    expect((await confirm(token)).statusCode).toBe(200);
    t.clock.advance({ minutes: 5 });
    const again = await confirm(token);
    expect(again.statusCode).toBe(200);
    expect(again.body).toContain("You're all set");
    const opened = await visit(token);
    expect(opened.statusCode).toBe(200);
    expect(opened.body).toContain("You're all set");
    expect(opened.body).not.toContain('<form method="post" action="/confirm/');
    // A double click racing itself also sends one welcome.
    await Promise.all([confirm(token), confirm(token)]);
    await t.settle();
    const sub = await t.deps.db.subscriber.findUniqueOrThrow({ where: { email } });
    expect(
      await t.deps.db.message.count({ where: { subscriberId: sub.id, template: 'welcome' } }),
    ).toBe(1);
    expect(
      await t.deps.db.consentEvent.count({ where: { subscriberId: sub.id, kind: 'confirm' } }),
    ).toBe(1);
    expect(mailTo(t, email).filter((m) => m.subject.startsWith('Welcome'))).toHaveLength(1);
  });

  it('refuses a tampered token with 400 and a form for a new link', async () => {
    const email = freshEmail('tamper');
    const token = await signUpForToken(t, email);
    const [body, sig] = token.split('.') as [string, string];
    const forged = `${body}.${sig.slice(0, -2)}${sig.endsWith('AA') ? 'BB' : 'AA'}`;
    for (const bad of [forged, 'garbage', `${body}x.${sig}`]) {
      for (const res of [await visit(bad), await confirm(bad)]) {
        expect(res.statusCode).toBe(400);
        expect(res.body).toContain('This link does not work');
        expect(res.body).toMatch(/<form method="post" action="\/subscribe"/);
        expect(res.body).not.toContain('action="/confirm/');
      }
    }
    expect((await t.deps.db.subscriber.findUniqueOrThrow({ where: { email } })).status).toBe(
      'pending',
    );
  });

  it('refuses an expired token (8 days later) with 410, and the form brings a new link', async () => {
    const email = freshEmail('late');
    const token = await signUpForToken(t, email);
    t.clock.advance({ days: 8 });
    const res = await visit(token);
    expect(res.statusCode).toBe(410);
    expect(res.body).toContain('expired');
    expect(res.body).toContain('name="email"');
    expect((await confirm(token)).statusCode).toBe(410);
    expect((await t.deps.db.subscriber.findUniqueOrThrow({ where: { email } })).status).toBe(
      'pending',
    );

    expect((await postForm(t, '/subscribe', { email, timezone: '' })).statusCode).toBe(200);
    await t.settle();
    const links = mailTo(t, email).filter((m) => m.subject.includes('confirm'));
    expect(links).toHaveLength(2);
    const fresh = /\/confirm\/([\w-]+\.[\w-]+)/.exec(links[1]!.text)![1]!;
    expect((await confirm(fresh)).statusCode).toBe(200);
  });

  it('does not let a link sent before an unsubscribe bring the person back', async () => {
    const email = freshEmail('changed-mind');
    const token = await signUpForToken(t, email);
    const unsub = /\/unsubscribe\/([\w-]+\.[\w-]+)/.exec(mailTo(t, email)[0]!.text)![1]!;
    t.clock.advance({ minutes: 1 });
    const out = await t.app.inject({
      method: 'POST',
      url: `/unsubscribe/${unsub}`,
      payload: 'List-Unsubscribe=One-Click',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(out.statusCode).toBe(200);
    const res = await visit(token);
    expect(res.statusCode).toBe(410);
    expect(res.body).toContain('You unsubscribed after this link was sent');
    const pressed = await confirm(token);
    expect(pressed.statusCode).toBe(410);
    expect(pressed.body).toContain('You unsubscribed after this link was sent');
    expect((await t.deps.db.subscriber.findUniqueOrThrow({ where: { email } })).status).toBe(
      'stopped',
    );
  });

  it('lets someone who unsubscribed come back: a new link, and confirming it restarts the program', async () => {
    const email = freshEmail('returning');
    const token = await signUpForToken(t, email);
    expect((await confirm(token)).statusCode).toBe(200);
    await t.settle();
    const unsub = /\/unsubscribe\/([\w-]+\.[\w-]+)/.exec(mailTo(t, email)[0]!.text)![1]!;
    await postForm(t, `/unsubscribe/${unsub}`, {});
    t.clock.advance({ days: 2 });
    expect(
      (await postForm(t, '/subscribe', { email, timezone: 'America/Chicago' })).statusCode,
    ).toBe(200);
    await t.settle();
    const links = mailTo(t, email).filter((m) => m.subject.includes('confirm'));
    expect(links).toHaveLength(2);
    const fresh = /\/confirm\/([\w-]+\.[\w-]+)/.exec(links[1]!.text)![1]!;
    const before = mailTo(t, email).length;
    expect((await confirm(fresh)).statusCode).toBe(200);
    await t.settle();
    const sub = await t.deps.db.subscriber.findUniqueOrThrow({
      where: { email },
      include: { consents: true },
    });
    expect(sub.status).toBe('active');
    expect(sub.consents.map((c) => c.kind).sort()).toEqual([
      'confirm',
      'confirm',
      'opt_in',
      'opt_in',
      'opt_out',
    ]);
    // The re-subscribe confirmation (the full disclosure, with the safety note and the help
    // lines), and the program picks up where it stopped.
    const back = mailTo(t, email).slice(before);
    expect(back.map((m) => m.subject)).toEqual(["You're signed up again"]);
    for (const part of ['Reply HELP', 'STOP', '/terms', 'In an emergency, call'])
      expect(back[0]!.text).toContain(part);
    const e = await t.deps.db.enrollment.findFirstOrThrow({ where: { subscriberId: sub.id } });
    expect(e.state).toBe('active');
  });
});
