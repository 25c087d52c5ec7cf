// Bounces and complaints arriving at the bounce address over real SMTP: a hard bounce makes the
// address undeliverable and stops further email, three soft bounces do too, a complaint is an
// opt-out, and a report that names no message of ours changes nothing.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SOFT_BOUNCE_LIMIT } from '../../src/email/bounces.ts';
import { startInboundSmtp, type InboundSmtp } from '../../src/email/inbound-smtp.ts';
import { freshEmail } from '../support/db.ts';
import {
  activeSubscriber,
  emailTestbed,
  mailTo,
  queueNudge,
  type EmailTestbed,
} from './helpers.ts';

let t: EmailTestbed;
let smtp: InboundSmtp;
let mta: ReturnType<typeof nodemailer.createTransport>;

beforeAll(async () => {
  t = await emailTestbed();
  smtp = await startInboundSmtp(t.deps, { port: 0 });
  mta = nodemailer.createTransport({
    host: '127.0.0.1',
    port: smtp.port,
    secure: false,
    ignoreTLS: true,
  });
});
afterAll(async () => {
  mta?.close();
  await smtp?.stop();
  await t?.close();
});

const fixture = (name: string) => readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8');

/** A recorded report rewritten to be about one of our messages to `to`. */
function report(name: string, recipient: string, to: string, messageId: string): string {
  return fixture(name)
    .replaceAll(recipient, to)
    .replace(/Message-ID: <[^>]+@steady\.example\.com>/i, `Message-ID: <${messageId}@example.com>`);
}

async function mailReport(raw: string) {
  await mta.sendMail({
    envelope: { from: 'mailer-daemon@mx.example.net', to: [t.config.email.bounceAddress] },
    raw,
  });
}

async function subscriber() {
  const email = freshEmail('bounce');
  const { id } = await activeSubscriber(t, email);
  const welcome = await t.deps.db.message.findFirstOrThrow({
    where: { subscriberId: id, template: 'welcome' },
  });
  return { email, id, welcomeId: welcome.id };
}

const sub = (id: string) => t.deps.db.subscriber.findUniqueOrThrow({ where: { id } });

describe('bounces and complaints', () => {
  it('a hard bounce marks the address undeliverable and no further email goes out', async () => {
    const s = await subscriber();
    await mailReport(report('postfix-hard.eml', 'gone@example.org', s.email, s.welcomeId));
    expect((await sub(s.id)).undeliverableAt).toEqual(t.clock.now());
    const welcome = await t.deps.db.message.findUniqueOrThrow({ where: { id: s.welcomeId } });
    expect(welcome).toMatchObject({ status: 'undelivered', error: 'provider:5.1.1' });

    const before = mailTo(t, s.email).length;
    const nudge = await queueNudge(t, s.id);
    await t.settle();
    expect(await t.deps.db.message.findUniqueOrThrow({ where: { id: nudge } })).toMatchObject({
      status: 'suppressed',
      error: 'undeliverable',
    });
    expect(mailTo(t, s.email)).toHaveLength(before);
  });

  it('counts soft bounces once per message; the third makes the address undeliverable', async () => {
    const s = await subscriber();
    const ids = [s.welcomeId];
    for (const step of ['w1-d1', 'w1-d3']) ids.push(await queueNudge(t, s.id, step));
    await t.settle();
    // Two delay warnings for the same message count once.
    await mailReport(report('postfix-delayed.eml', 'full@example.org', s.email, ids[0]!));
    await mailReport(report('postfix-delayed.eml', 'full@example.org', s.email, ids[0]!));
    expect(await sub(s.id)).toMatchObject({ emailBounces: 1, undeliverableAt: null });
    await mailReport(report('exchange-expired.eml', 'late@example.org', s.email, ids[1]!));
    expect(await sub(s.id)).toMatchObject({ emailBounces: 2, undeliverableAt: null });
    await mailReport(report('postfix-delayed.eml', 'full@example.org', s.email, ids[2]!));
    const after = await sub(s.id);
    expect(after.emailBounces).toBe(SOFT_BOUNCE_LIMIT);
    expect(after.undeliverableAt).not.toBeNull();
  });

  it('a complaint (ARF) unsubscribes the person', async () => {
    const s = await subscriber();
    await mailReport(report('yahoo-arf.eml', 'complainer@example.org', s.email, s.welcomeId));
    const after = await t.deps.db.subscriber.findUniqueOrThrow({
      where: { id: s.id },
      include: { consents: true },
    });
    expect(after.status).toBe('stopped');
    expect(after.consents.find((c) => c.kind === 'opt_out')).toMatchObject({
      source: 'complaint',
      channel: 'email',
    });
  });

  it('ignores a report that names no message we sent to that address (forged or foreign)', async () => {
    const s = await subscriber();
    // Right address, made-up message id.
    await mailReport(
      report(
        'postfix-hard.eml',
        'gone@example.org',
        s.email,
        '00000000-0000-4000-8000-000000000000',
      ),
    );
    // Right message, another address.
    await mailReport(
      report('yahoo-arf.eml', 'complainer@example.org', 'someone-else@example.org', s.welcomeId),
    );
    // No original message at all (only X-Failed-Recipients).
    await mailReport(fixture('exim-failed.eml').replaceAll('nobody@example.org', s.email));
    const after = await sub(s.id);
    expect(after).toMatchObject({ status: 'active', undeliverableAt: null, emailBounces: 0 });
  });
});
