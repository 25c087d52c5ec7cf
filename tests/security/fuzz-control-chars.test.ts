// Control characters in every field of every route and every SMTP command. The routes are read
// from the app itself (listRoutes), so a route added later is covered without touching this file.
// Each request carries one control character (NUL, BEL, ESC, DEL, ...) in one place: a path
// parameter, a query value or a body field (form and JSON), with credentials that get it past
// sign-in and the console's session check, and a fresh client address so no rate limit answers.
// Every such request must be refused for good (400), never a 5xx or a "try later"; a tab or a
// line break in a body field (free text) must not be refused for it. The signed webhooks get the
// same through their signatures. Over SMTP, each command and each header we read, and the text,
// carry one: every answer is a 5xx (or a 250 where the field is not one we read or store), never
// a 4xx, which would have the sending server retry the same message for days.
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInboundSmtp, type InboundSmtp } from '../../src/email/inbound-smtp.ts';
import { buildApp } from '../../src/http/app.ts';
import { signInboundBody } from '../../src/http/email-inbound.ts';
import { routeModules } from '../../src/http/modules.ts';
import { replyAddress } from '../../src/security/reply-address.ts';
import { consoleTestbed, signIn, type ConsoleTestbed, type Operator } from '../admin/helpers.ts';
import { ownDatabase } from '../support/db.ts';
import {
  CONTROL_CHARS,
  httpOutcome,
  pick,
  poisoned,
  prng,
  smtpReplies,
  TEXT_BREAKS,
  type Rng,
} from '../support/fuzz.ts';
import { listRoutes } from '../support/routes.ts';
import { postToTwilioWebhook } from '../support/twilio-post.ts';

const SEED = 20261130;
/** Control characters tried per field: NUL always, and this many others picked by the PRNG. */
const OTHERS_PER_FIELD = 2;

const QUERY_FIELDS = [
  'q',
  'to',
  'after',
  'limit',
  'channel',
  'number',
  'next',
  'phone',
  'email',
  'm',
  'status',
  'country',
];
const BODY_FIELDS: Record<string, string> = {
  email: 'person@example.com',
  firstName: 'Ann',
  timezone: 'America/Chicago',
  token: 'not-the-token-0123456789',
  _csrf: 'x',
  next: '/admin',
  from: '+12025550123',
  text: 'hello',
  note: 'called them',
  contact: 'person@example.com',
  q: 'person',
  reason: 'other',
  'List-Unsubscribe': 'One-Click',
};

let t: ConsoleTestbed;
/** The same app with the local phone on (it needs the outbox SMS transport). */
let devApp: FastifyInstance;
let op: Operator;
let smtp: InboundSmtp;

beforeAll(async () => {
  t = await consoleTestbed({
    env: { DATABASE_URL: await ownDatabase('control_chars'), DEV_ROUTES: 'true' },
  });
  op = await signIn(t);
  const sms = { ...t.deps.config.sms, transport: 'outbox' as const };
  devApp = await buildApp(
    { ...t.deps, config: { ...t.deps.config, sms } },
    { modules: routeModules },
  );
  smtp = await startInboundSmtp(t.deps, { port: 0 });
}, 60_000);

afterAll(async () => {
  await smtp?.stop();
  await devApp?.close();
  await t?.close();
});

let ip = 0;
const freshIp = () => {
  ip++;
  return `10.${(ip >> 16) & 255}.${(ip >> 8) & 255}.${ip & 255}`;
};

/** NUL, and a few other control characters picked by the PRNG. */
const charsFor = (rng: Rng) => [
  '\u0000',
  ...Array.from({ length: OTHERS_PER_FIELD }, () => pick(rng, CONTROL_CHARS.slice(1))),
];

const show = (s: string) => JSON.stringify(s).slice(1, -1);

interface Probe {
  app: FastifyInstance;
  method: string;
  url: string;
  body?: Record<string, string>;
  json?: boolean;
  what: string;
}

async function send(p: Probe): Promise<LightMyRequestResponse> {
  const headers: Record<string, string> = {
    'x-forwarded-for': freshIp(),
    authorization: `Bearer ${t.config.adminToken}`,
    cookie: Object.entries(op.jar)
      .map(([k, v]) => `${k}=${v}`)
      .join('; '),
    accept: 'application/json',
  };
  let payload: string | undefined;
  if (p.body) {
    headers['content-type'] = p.json ? 'application/json' : 'application/x-www-form-urlencoded';
    payload = p.json ? JSON.stringify(p.body) : new URLSearchParams(p.body).toString();
  }
  return p.app.inject({ method: p.method as 'GET', url: p.url, headers, payload });
}

/** Routes that check control characters themselves after a signature check (tested below). */
const SIGNED = new Set([
  '/webhooks/twilio/sms',
  '/webhooks/twilio/status',
  '/webhooks/email/inbound',
]);

function probes(rng: Rng): { refuse: Probe[]; allow: Probe[] } {
  const refuse: Probe[] = [];
  const allow: Probe[] = [];
  const apps = [t.app, devApp];
  const seen = new Set<string>();
  for (const app of apps)
    for (const route of listRoutes(app)) {
      if (SIGNED.has(route.url)) continue;
      for (const method of route.methods.filter((m) => m !== 'HEAD')) {
        const key = `${method} ${route.url}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const params = route.url.match(/:[A-Za-z]+|\*$/g) ?? [];
        const fill = (poison?: { at: number; char: string }) => {
          let i = 0;
          return route.url.replace(/:[A-Za-z]+|\*$/g, () => {
            const value = '3f2a1c9e-0000-4000-8000-000000000000';
            return encodeURIComponent(
              poison && i++ === poison.at ? poisoned(rng, value, poison.char) : value,
            );
          });
        };
        const hasBody = method !== 'GET';
        const base = { app, method, body: hasBody ? BODY_FIELDS : undefined, json: true };
        params.forEach((name, at) => {
          for (const char of charsFor(rng))
            refuse.push({ ...base, url: fill({ at, char }), what: `${key} ${name}=${show(char)}` });
        });
        for (const field of QUERY_FIELDS)
          for (const char of charsFor(rng))
            refuse.push({
              ...base,
              url: `${fill()}?${field}=${encodeURIComponent(poisoned(rng, 'value', char))}`,
              what: `${key} ?${field}=${show(char)}`,
            });
        if (!hasBody) continue;
        for (const field of Object.keys(BODY_FIELDS))
          for (const json of [true, false]) {
            for (const char of charsFor(rng))
              refuse.push({
                ...base,
                url: fill(),
                json,
                body: { ...BODY_FIELDS, [field]: poisoned(rng, BODY_FIELDS[field]!, char) },
                what: `${key} ${json ? 'json' : 'form'} ${field}=${show(char)}`,
              });
            for (const char of TEXT_BREAKS) {
              // A new address each time, so the sign-up's per-address limit never answers.
              const body: Record<string, string> = {
                ...BODY_FIELDS,
                email: `person-${allow.length}@example.com`,
              };
              allow.push({
                ...base,
                url: fill(),
                json,
                body: { ...body, [field]: `${body[field]!}${char}more` },
                what: `${key} ${json ? 'json' : 'form'} ${field}=${show(char)}`,
              });
            }
          }
      }
    }
  return { refuse, allow };
}

/** A permanent answer: anything but a 5xx and the 4xx that mean "try again" (408, 425, 429). */
const permanent = (status: number) => status < 500 && ![408, 425, 429].includes(status);

describe('control characters in every field of every route', () => {
  it('are refused with a 400 wherever they are; tabs and line breaks in a body field are not', async () => {
    const rng = prng(SEED);
    const { refuse, allow } = probes(rng);
    const bad: string[] = [];
    const routes = new Set<string>();
    for (const p of refuse) {
      routes.add(`${p.method} ${p.url.split('?')[0]}`);
      const res = await send(p);
      // The queue board formats errors its own way; the status and the reason are the same.
      if (res.statusCode !== 400 || !res.body.includes('contains a control character'))
        bad.push(`${p.what} -> ${res.statusCode} ${res.body.slice(0, 100)}`);
    }
    for (const p of allow) {
      const res = await send(p);
      if (!permanent(res.statusCode) || res.body.includes('contains a control character'))
        bad.push(`${p.what} (allowed) -> ${res.statusCode} ${res.body.slice(0, 100)}`);
    }
    expect(bad.slice(0, 20)).toEqual([]);
    // The app's own list, not a short one: the console, the API, the queue board, the local
    // phone and outbox, the email course pages.
    expect(refuse.length).toBeGreaterThan(2000);
    for (const url of ['/subscribe', '/admin/login', '/dev/phone/send', '/admin/api/subscribers'])
      expect(
        [...routes].some((r) => r.endsWith(` ${url}`)),
        url,
      ).toBe(true);
  }, 240_000);

  it('are refused the same over real HTTP', async () => {
    const base = await t.app.listen({ port: 0, host: '127.0.0.1' });
    const rng = prng(SEED + 1);
    const sample = probes(rng).refuse.filter((p) => p.app === t.app && rng() < 0.03);
    const bad: string[] = [];
    for (const p of sample) {
      const outcome = await httpOutcome(base + p.url, {
        method: p.method,
        headers: {
          authorization: `Bearer ${t.config.adminToken}`,
          cookie: Object.entries(op.jar)
            .map(([k, v]) => `${k}=${v}`)
            .join('; '),
          ...(p.body ? { 'content-type': 'application/json' } : {}),
        },
        body: p.body ? JSON.stringify(p.body) : undefined,
      });
      if (outcome.kind !== 'answer' || outcome.status !== 400)
        bad.push(`${p.what} -> ${JSON.stringify(outcome)}`);
    }
    expect(sample.length).toBeGreaterThan(50);
    expect(bad.slice(0, 20)).toEqual([]);
  }, 120_000);

  it('in a signed Twilio webhook: removed from Body (the reply is kept), refused (400) in any other field', async () => {
    const rng = prng(SEED + 2);
    const bad: string[] = [];
    let n = 0;
    const sms = () => ({
      MessageSid: `SM${(++n).toString(16).padStart(32, '0')}`,
      AccountSid: `AC${'0'.repeat(32)}`,
      From: '+12025550123',
      To: '+12025550100',
      Body: 'hello there',
      NumMedia: '0',
    });
    for (const field of Object.keys(sms()))
      for (const char of charsFor(rng)) {
        const params = sms();
        params[field as keyof typeof params] = poisoned(rng, params[field as 'Body'], char);
        const res = await postToTwilioWebhook(t.app, t.config, '/webhooks/twilio/sms', params);
        const expected = field === 'Body' ? 200 : 400;
        if (res.statusCode !== expected)
          bad.push(`sms ${field}=${show(char)} -> ${res.statusCode} (expected ${expected})`);
      }
    const status = () => ({
      MessageSid: `SM${'a'.repeat(32)}`,
      MessageStatus: 'delivered',
      ErrorCode: '30003',
      To: '+12025550123',
    });
    for (const field of Object.keys(status()))
      for (const char of charsFor(rng)) {
        const params = status();
        params[field as keyof typeof params] = poisoned(rng, params[field as 'To'], char);
        const res = await postToTwilioWebhook(t.app, t.config, '/webhooks/twilio/status', params);
        if (res.statusCode !== 400) bad.push(`status ${field}=${show(char)} -> ${res.statusCode}`);
      }
    expect(bad).toEqual([]);
  });

  it('in the signed inbound-email webhook: 400 in every header field; the text is cleaned, never refused', async () => {
    const rng = prng(SEED + 3);
    const domain = t.config.email.replyDomain;
    const mail = () => ({
      from: 'Person <person@example.org>',
      to: `reply+${'0'.repeat(32)}.${'0'.repeat(20)}@${domain}`,
      subject: 'Re: hello',
      text: '4',
      messageId: '<abc@mail.example.org>',
      authenticationResults: 'mx.example.org; dmarc=pass header.from=example.org',
    });
    const post = (body: unknown) => {
      const raw = JSON.stringify(body);
      return t.app.inject({
        method: 'POST',
        url: '/webhooks/email/inbound',
        headers: {
          'content-type': 'application/json',
          'x-steady-signature': signInboundBody(t.config.email.inboundSecret!, raw),
          'x-forwarded-for': freshIp(),
        },
        payload: raw,
      });
    };
    const bad: string[] = [];
    for (const field of Object.keys(mail()) as (keyof ReturnType<typeof mail>)[]) {
      for (const char of charsFor(rng)) {
        const body = { ...mail(), [field]: poisoned(rng, mail()[field], char) };
        const res = await post(body);
        const expected = field === 'text' ? 200 : 400;
        if (res.statusCode !== expected)
          bad.push(`${field}=${show(char)} -> ${res.statusCode} (expected ${expected})`);
      }
      for (const char of ['\n', '\r']) {
        const res = await post({ ...mail(), [field]: `${mail()[field]}${char}x` });
        const expected = field === 'text' || field === 'authenticationResults' ? 200 : 400;
        if (res.statusCode !== expected)
          bad.push(`${field}=${show(char)} -> ${res.statusCode} (expected ${expected})`);
      }
    }
    expect(bad).toEqual([]);
  });
});

describe('control characters in every SMTP command and every header we read', () => {
  it('answer 5xx (never again), never 4xx (try later); a header we do not read, or the text, is taken', async () => {
    const rng = prng(SEED + 4);
    const domain = t.config.email.replyDomain;
    const email = `smtp-${Date.now().toString(36)}@example.org`;
    const sub = await t.deps.db.subscriber.create({
      data: { email, timezone: 'UTC', status: 'active' },
    });
    const rcpt = replyAddress(t.config.appSecret, sub.id, domain);
    let n = 0;
    const headers = () => ({
      From: `Person <${email}>`,
      To: rcpt,
      Subject: 'Re: hello',
      'Message-ID': `<m${++n}-${Date.now()}@mail.example.org>`,
      'Auto-Submitted': 'no',
      'X-Mailer': 'fuzz',
    });
    // Headers and parameters where either answer is right (refused for good, or taken with the
    // character ignored), but never a temporary failure: they go to a second person, so the
    // count of the first person's rows below stays exact.
    const other = await t.deps.db.subscriber.create({
      data: {
        email: `smtp2-${Date.now().toString(36)}@example.org`,
        timezone: 'UTC',
        status: 'active',
      },
    });
    const rcpt2 = replyAddress(t.config.appSecret, other.id, domain);
    type Session = { what: string; lines: string[]; expect: 'refuse' | 'take' | 'either' };
    const session = (
      what: string,
      o: { helo?: string; from?: string; to?: string; h?: Record<string, string>; body?: string },
    ): Session => ({
      what,
      expect: 'refuse',
      lines: [
        `EHLO ${o.helo ?? 'fuzz.example'}`,
        `MAIL FROM:<${o.from ?? email}>`,
        `RCPT TO:<${o.to ?? rcpt}>`,
        'DATA',
        ...Object.entries(o.h ?? headers()).map(([k, v]) => `${k}: ${v}`),
        '',
        ...(o.body ?? '4').split('\n'),
        '.',
        'QUIT',
      ],
    });
    const sessions: Session[] = [];
    for (const char of charsFor(rng)) {
      const c = show(char);
      sessions.push(session(`EHLO ${c}`, { helo: poisoned(rng, 'fuzz.example', char) }));
      sessions.push(session(`MAIL FROM ${c}`, { from: poisoned(rng, email, char) }));
      sessions.push(session(`RCPT TO ${c}`, { to: poisoned(rng, rcpt, char) }));
      for (const name of ['From', 'Subject', 'Message-ID', 'Auto-Submitted'] as const) {
        const h = headers();
        h[name] = poisoned(rng, h[name], char);
        sessions.push(session(`${name} ${c}`, { h }));
      }
      // The person's text is kept, cleaned (it may be a disclosure or a STOP): never refused.
      sessions.push({
        ...session(`body ${c}`, { body: poisoned(rng, 'four\nthanks', char) }),
        expect: 'take',
      });
      const mailer = headers();
      mailer['X-Mailer'] = poisoned(rng, 'fuzz', char);
      sessions.push({ ...session(`X-Mailer ${c}`, { h: mailer }), expect: 'take' });
      for (const [name, value] of [
        ['Authentication-Results', 'mx.example.org; dmarc=pass header.from=example.org'],
        ['Precedence', 'list'],
        ['X-Autoreply', 'no'],
        ['In-Reply-To', '<a@mail.example.org>'],
      ] as const) {
        const h = { ...headers(), To: rcpt2, [name]: poisoned(rng, value, char) };
        sessions.push({ ...session(`${name} ${c}`, { h, to: rcpt2 }), expect: 'either' });
      }
      const params = session(`MAIL FROM parameter ${c}`, { to: rcpt2 });
      params.lines[1] = `MAIL FROM:<${email}> BODY=${poisoned(rng, '8BITMIME', char)}`;
      sessions.push({ ...params, expect: 'either' });
      const rcptParams = session(`RCPT TO parameter ${c}`, { to: rcpt2 });
      rcptParams.lines[2] = `RCPT TO:<${rcpt2}> NOTIFY=${poisoned(rng, 'NEVER', char)}`;
      sessions.push({ ...rcptParams, expect: 'either' });
      // A DATA line that is not DATA is refused (500); what follows it would be more unknown
      // commands, so the session ends there.
      const data = session(`DATA ${c}`, { to: rcpt2 });
      sessions.push({
        ...data,
        lines: [...data.lines.slice(0, 3), poisoned(rng, 'DATA', char), 'QUIT'],
        expect: 'refuse',
      });
      for (const cmd of ['NOOP', 'RSET', 'VRFY', 'HELP']) {
        const s = session(`${cmd} ${c}`, {});
        s.lines.splice(1, 0, `${cmd} ${poisoned(rng, 'x', char)}`);
        sessions.push({ ...s, expect: 'take' });
      }
    }
    sessions.push({ ...session('body \\t', { body: 'four\tthanks' }), expect: 'take' });
    const bad: string[] = [];
    for (const s of sessions) {
      const replies = await smtpReplies(smtp.port, s.lines);
      const codes = replies.map((r) => /^(\d{3}) /.exec(r)?.[1]).filter(Boolean) as string[];
      const broken = replies.filter((r) => !/^\d{3}[ -]/.test(r));
      if (broken.length) bad.push(`${s.what}: ${broken.join(' | ')}`);
      if (codes.some((c) => c.startsWith('4')))
        bad.push(`${s.what}: a temporary failure (${replies.join(' | ').slice(0, 200)})`);
      const refused = codes.some((c) => c.startsWith('5'));
      if (s.expect !== 'either' && (s.expect === 'refuse') !== refused)
        bad.push(`${s.what}: expected ${s.expect}, got ${codes.join(' ')}`);
    }
    expect(bad.slice(0, 20)).toEqual([]);
    // Only the sessions whose every field was clean (or not one we store) left a row.
    const taken = sessions.filter((s) => s.expect === 'take').length;
    expect(
      await t.deps.db.message.count({ where: { subscriberId: sub.id, direction: 'in' } }),
    ).toBe(taken);
  }, 120_000);
});
