// Shared set-up for the email course tests: real Deps (test database, fresh Redis prefix, fake
// clock), the real workers sending through nodemailer to a local SMTP listener, the app with the
// real route modules, and small steps such as "sign up" and "confirm".
import type { FastifyInstance } from 'fastify';
import { unsubscribeUrl } from '../../src/flows/compose.ts';
import { CONFIRM_TTL_MS } from '../../src/flows/enroll.ts';
import { createOutbound, enqueueSends } from '../../src/flows/outbound.ts';
import { buildApp } from '../../src/http/app.ts';
import { routeModules } from '../../src/http/modules.ts';
import { replyAddress } from '../../src/security/reply-address.ts';
import { signToken } from '../../src/security/tokens.ts';
import { harness, type Harness } from '../support/harness.ts';
import type { SinkMessage } from '../support/smtp-sink.ts';

export interface EmailTestbed extends Harness {
  app: FastifyInstance;
}

export async function emailTestbed(
  opts: Parameters<typeof harness>[0] = {},
): Promise<EmailTestbed> {
  const h = await harness(opts);
  const app = await buildApp(h.deps, { modules: routeModules });
  const closeHarness = h.close;
  return Object.assign(h, {
    app,
    async close() {
      await app.close();
      await closeHarness();
    },
  });
}

let ipCounter = Math.floor(Math.random() * 200);
/** A client address of its own for each test, so rate limits never cross between tests. */
export function freshIp(): string {
  ipCounter++;
  return `198.51.${ipCounter % 250}.${1 + Math.floor(Math.random() * 250)}`;
}

export function postForm(
  t: EmailTestbed,
  url: string,
  fields: Record<string, string>,
  ip = freshIp(),
) {
  return t.app.inject({
    method: 'POST',
    url,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-forwarded-for': ip,
      'user-agent': 'TestBrowser/1.0',
    },
    payload: new URLSearchParams(fields).toString(),
  });
}

export function postJson(t: EmailTestbed, url: string, body: unknown, ip = freshIp()) {
  return t.app.inject({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/json', 'x-forwarded-for': ip },
    payload: JSON.stringify(body),
  });
}

export interface ReceivedMail {
  subject: string;
  text: string;
  html: string;
  /** The whole message as the SMTP listener parsed it (headers, envelope, raw). */
  mail: SinkMessage;
}

/** Emails the local SMTP listener received for one address, oldest first. */
export function mailTo(t: Harness, address: string): ReceivedMail[] {
  return t.mailTo(address).map((m) => ({
    subject: m.subject ?? '',
    text: m.text ?? '',
    html: typeof m.html === 'string' ? m.html : '',
    mail: m,
  }));
}

export function linkToken(mail: { text: string }, kind: 'confirm' | 'unsubscribe'): string {
  const m = new RegExp(`/${kind}/([A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+)`).exec(mail.text);
  if (!m?.[1]) throw new Error(`no ${kind} link in the email`);
  return m[1];
}

/** Signs up through the form and returns the token of the confirmation email that was sent. */
export async function signUpForToken(
  t: EmailTestbed,
  email: string,
  fields: Record<string, string> = {},
): Promise<string> {
  const res = await postForm(t, '/subscribe', { email, timezone: 'America/Chicago', ...fields });
  if (res.statusCode !== 200)
    throw new Error(`sign-up answered ${res.statusCode}: ${res.body.slice(0, 200)}`);
  await t.settle();
  const confirm = mailTo(t, email).find((m) => /\/confirm\//.test(m.text));
  if (!confirm) throw new Error('no confirmation email was sent');
  return linkToken(confirm, 'confirm');
}

export interface ActiveSubscriber {
  id: string;
  email: string;
  /** Their Reply-To address and unsubscribe token, as every email to them carries. */
  replyTo: string;
  unsubscribeToken: string;
}

/**
 * Signs up through the form and confirms with the link's button (a POST: opening the link only
 * shows the page). The links are computed, not read from
 * the sent mail: a test in another file that sweeps the shared database (requeueLost) may deliver
 * one of our queued emails through its own transport. Tests about the mail itself read the mail.
 */
export async function activeSubscriber(
  t: EmailTestbed,
  email: string,
  fields: Record<string, string> = {},
): Promise<ActiveSubscriber> {
  const res = await postForm(t, '/subscribe', { email, timezone: 'America/Chicago', ...fields });
  if (res.statusCode !== 200) throw new Error(`sign-up answered ${res.statusCode}`);
  const { id } = await t.deps.db.subscriber.findUniqueOrThrow({ where: { email } });
  const expires = new Date(t.clock.now().getTime() + CONFIRM_TTL_MS);
  const token = signToken(t.config.appSecret, 'confirm', id, expires);
  const confirm = await t.app.inject({
    method: 'POST',
    url: `/confirm/${token}`,
    headers: { 'x-forwarded-for': freshIp() },
  });
  if (confirm.statusCode !== 200) throw new Error(`confirm answered ${confirm.statusCode}`);
  await t.settle();
  return {
    id,
    email,
    replyTo: replyAddress(t.config.appSecret, id, t.config.email.replyDomain),
    unsubscribeToken: unsubscribeUrl(t.config, id).split('/').pop()!,
  };
}

/** Queues a program nudge for a subscriber, as the scheduler would, and returns its row id. */
export async function queueNudge(
  t: Harness,
  subscriberId: string,
  step = 'w1-d1',
): Promise<string> {
  const enrollment = await t.deps.db.enrollment.findFirstOrThrow({ where: { subscriberId } });
  const now = t.clock.now();
  const send = await t.deps.db.$transaction((tx) =>
    createOutbound(
      tx,
      {
        subscriberId,
        enrollmentId: enrollment.id,
        channel: 'email',
        kind: 'nudge',
        template: step,
        step,
        lane: 'program',
      },
      now,
    ),
  );
  if (!send) throw new Error(`step ${step} was already written for this enrollment`);
  await enqueueSends(t.deps.queues, [send], now);
  return send.messageId;
}
