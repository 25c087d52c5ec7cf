// Bad input never breaks the service. Over 10,000 malformed requests from a seeded PRNG (the same
// every run) go to every route a stranger can reach: bad or missing signatures, wrong content
// types, bodies over the limit, invalid UTF-8, deep JSON, injection strings, forged tokens and
// cookies. Most go through app.inject; a slice goes over real HTTP with raw sockets (malformed
// request lines, huge headers); and mail goes to the inbound SMTP listener (malformed MIME, huge
// parts). Every answer must be a refusal (4xx, a sign-in redirect, an SMTP error or a silent drop),
// never a 5xx or a crash, and not one row may be written: the test has its own database, and
// counts every table before and after.
import { connect } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signTwilioRequest } from '../../src/channels/twilio-webhook.ts';
import { startInboundSmtp, type InboundSmtp } from '../../src/email/inbound-smtp.ts';
import { buildApp } from '../../src/http/app.ts';
import { signInboundBody } from '../../src/http/email-inbound.ts';
import { routeModules } from '../../src/http/modules.ts';
import { signToken } from '../../src/security/tokens.ts';
import { ownDatabase } from '../support/db.ts';
import {
  badEmail,
  brokenMultipart,
  chance,
  CONTENT_TYPES,
  deepJson,
  httpOutcome,
  int,
  invalidUtf8,
  junk,
  malformedMime,
  pick,
  prng,
  randomJson,
  type Rng,
} from '../support/fuzz.ts';
import { harness, type Harness } from '../support/harness.ts';

const SEED = 20261129;
const INJECTED = 10_200;
const OVER_HTTP = 400;
const SMTP_SESSIONS = 80;
const SIGNED = 2000;

let h: Harness;
let app: FastifyInstance;
let base: string;
let smtp: InboundSmtp;

async function countRows(): Promise<Record<string, number>> {
  const tables = await h.deps.db.$queryRaw<{ tablename: string }[]>`
    SELECT tablename::text AS tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> '_prisma_migrations' ORDER BY tablename`;
  const out: Record<string, number> = {};
  for (const { tablename } of tables) {
    const [row] = await h.deps.db.$queryRawUnsafe<{ n: bigint }[]>(
      `SELECT count(*) AS n FROM "${tablename}"`,
    );
    out[tablename] = Number(row?.n ?? -1);
  }
  return out;
}

beforeAll(async () => {
  h = await harness({ env: { DATABASE_URL: await ownDatabase('fuzz'), DEV_ROUTES: 'false' } });
  app = await buildApp(h.deps, { modules: routeModules });
  base = await app.listen({ port: 0, host: '127.0.0.1' });
  smtp = await startInboundSmtp(h.deps, { port: 0 });
}, 60_000);

afterAll(async () => {
  await smtp?.stop();
  await app?.close();
  await h?.close();
});

interface FuzzRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH' | 'OPTIONS';
  url: string;
  headers: Record<string, string>;
  payload?: string | Buffer;
  remoteAddress: string;
}

const ROUTES = [
  'twilio-sms',
  'twilio-status',
  'email-hook',
  'subscribe',
  'confirm',
  'unsubscribe',
  'login',
  'admin-api',
  'admin-page',
] as const;

function forgedToken(rng: Rng, purpose: 'confirm' | 'unsubscribe'): string {
  return pick(rng, [
    junk(rng, 80),
    signToken(
      'not-our-secret-0123456789-0123456789',
      purpose,
      '3f2a1c9e-1234-4abc-8def-0123456789ab',
      null,
    ),
    signToken(
      'not-our-secret-0123456789-0123456789',
      purpose === 'confirm' ? 'unsubscribe' : 'confirm',
      'x',
      null,
    ),
    'x'.repeat(700),
    '%E0%A4%A',
    '%00',
    '..%2F..%2Fadmin',
    encodeURIComponent(junk(rng, 30)),
  ]);
}

function twilioParams(rng: Rng): Record<string, string> {
  const p: Record<string, string> = {
    MessageSid: chance(rng, 0.5) ? `SM${int(rng, 1e9).toString(16).padStart(32, '0')}` : junk(rng),
    From: pick(rng, ['+12025550123', '+19005550123', junk(rng, 20), '', '+4420794601234']),
    To: '+12025550100',
    Body: junk(rng, 200),
  };
  if (chance(rng, 0.3)) p.MessageStatus = pick(rng, ['delivered', 'failed', junk(rng, 10)]);
  if (chance(rng, 0.2)) p[junk(rng, 10)] = junk(rng);
  return p;
}

/** One request a stranger could send: never correctly signed, never a valid sign-up. */
function generate(rng: Rng, i: number): FuzzRequest {
  const route = ROUTES[i % ROUTES.length]!;
  const headers: Record<string, string> = {};
  let method: FuzzRequest['method'] = 'POST';
  let url = '/';
  let payload: string | Buffer | undefined;
  const form = (o: Record<string, string>) => {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    return new URLSearchParams(o).toString();
  };
  const json = (o: unknown) => {
    headers['content-type'] = 'application/json';
    return JSON.stringify(o);
  };
  switch (route) {
    case 'twilio-sms':
    case 'twilio-status': {
      url =
        route === 'twilio-sms'
          ? '/webhooks/twilio/sms'
          : `/webhooks/twilio/status${chance(rng, 0.5) ? `?m=${encodeURIComponent(junk(rng, 40))}` : ''}`;
      const params = twilioParams(rng);
      payload = chance(rng, 0.8) ? form(params) : json(params);
      const sig = int(rng, 4);
      if (sig === 1) headers['x-twilio-signature'] = junk(rng, 30);
      if (sig === 2)
        headers['x-twilio-signature'] = signTwilioRequest(
          h.config.sms.authToken,
          `https://evil.example.net${url}`,
          params,
        );
      if (sig === 3)
        headers['x-twilio-signature'] = signTwilioRequest(
          'not-the-auth-token',
          `${h.config.publicUrl}${url}`,
          params,
        );
      break;
    }
    case 'email-hook': {
      url = '/webhooks/email/inbound';
      const body = chance(rng, 0.5)
        ? json({
            from: junk(rng),
            to: `reply+${junk(rng, 40)}@${h.config.email.replyDomain}`,
            text: junk(rng, 300),
            messageId: junk(rng),
          })
        : json(randomJson(rng));
      payload = body;
      const sig = int(rng, 3);
      if (sig === 1) headers['x-steady-signature'] = `sha256=${junk(rng, 64)}`;
      if (sig === 2)
        headers['x-steady-signature'] = signInboundBody('not-our-secret-0123456789', body);
      break;
    }
    case 'subscribe': {
      url = '/subscribe';
      const fields = {
        email: badEmail(rng),
        firstName: junk(rng, 80),
        timezone: pick(rng, ['America/New_York', junk(rng, 70), 'Mars/Base', '']),
      };
      payload = chance(rng, 0.5) ? form(fields) : json(chance(rng, 0.8) ? fields : randomJson(rng));
      if (chance(rng, 0.5)) headers.accept = 'application/json';
      break;
    }
    case 'confirm':
      method = 'GET';
      url = `/confirm/${forgedToken(rng, 'confirm')}`;
      break;
    case 'unsubscribe':
      method = chance(rng, 0.5) ? 'GET' : 'POST';
      url = `/unsubscribe/${forgedToken(rng, 'unsubscribe')}`;
      if (method === 'POST')
        payload = chance(rng, 0.5)
          ? form({ 'List-Unsubscribe': 'One-Click' })
          : ((headers['content-type'] = 'multipart/form-data; boundary=----x'),
            brokenMultipart(rng));
      break;
    case 'login':
      url = '/admin/login';
      payload = form({
        token: junk(rng, 30),
        _csrf: junk(rng, 40),
        next: pick(rng, ['/admin', 'https://evil.example', '//evil', junk(rng)]),
      });
      headers.cookie = `steady_login=${encodeURIComponent(junk(rng, 30))}`;
      break;
    case 'admin-api': {
      const id = pick(rng, ['3f2a1c9e-1234-4abc-8def-0123456789ab', junk(rng, 40)]);
      const paths = [
        `/admin/api/subscribers?phone=${encodeURIComponent(junk(rng))}`,
        `/admin/api/subscribers?email=${encodeURIComponent(junk(rng))}`,
        `/admin/api/subscribers/${encodeURIComponent(id)}`,
        `/admin/api/subscribers/${encodeURIComponent(id)}/${pick(rng, ['pause', 'stop', 'clear-hold', junk(rng, 10)])}`,
      ];
      url = pick(rng, paths);
      method = url.split('/').length > 5 ? 'POST' : 'GET';
      headers.authorization = pick(rng, [
        `Bearer ${junk(rng, 30)}`,
        `Basic ${junk(rng, 20)}`,
        junk(rng, 50),
        `Bearer ${h.config.adminToken.slice(0, -1)}`,
      ]);
      if (method === 'POST') payload = json(randomJson(rng));
      break;
    }
    case 'admin-page':
      method = chance(rng, 0.7) ? 'GET' : 'POST';
      url = pick(rng, [
        '/admin',
        '/admin/dashboard',
        '/admin/subscribers',
        `/admin/subscribers/${encodeURIComponent(junk(rng, 40))}`,
        '/admin/subscribers/search',
        `/admin/flags/${junk(rng, 10)}/reveal`,
        '/admin/queues/api/queues',
        '/admin/logout',
      ]);
      headers.cookie = pick(rng, [
        `steady_session=${encodeURIComponent(junk(rng, 60))}`,
        junk(rng, 80),
        '',
      ]);
      if (chance(rng, 0.5)) headers.accept = 'text/html';
      if (method === 'POST') payload = form({ _csrf: junk(rng), q: junk(rng) });
      break;
  }
  // Mutations that apply to any route.
  if (payload !== undefined && chance(rng, 0.1)) headers['content-type'] = pick(rng, CONTENT_TYPES);
  if (chance(rng, 0.04)) payload = 'x'.repeat(pick(rng, [70_000, 300_000, 1_100_000]));
  if (chance(rng, 0.05)) payload = invalidUtf8(rng);
  const asJson = (body: string) => {
    payload = body;
    headers['content-type'] = 'application/json';
  };
  if (chance(rng, 0.04)) asJson(deepJson(rng));
  if (chance(rng, 0.03)) asJson('{"__proto__":{"admin":true},"constructor":{"prototype":{"x":1}}}');
  if (chance(rng, 0.03)) asJson('');
  if (chance(rng, 0.04)) method = pick(rng, ['PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const);
  if (chance(rng, 0.05)) headers['x-forwarded-for'] = junk(rng, 30);
  if (chance(rng, 0.05))
    headers[`x-${junk(rng, 8).replace(/[^a-z]/gi, '') || 'junk'}`] = junk(rng, 200).replace(
      /[^\x20-\x7e]/g,
      '',
    );
  if (method === 'GET' || method === 'OPTIONS') payload = undefined;
  // Mostly a fresh client address (so the rate limits do not answer everything), sometimes one.
  const remoteAddress = chance(rng, 0.1)
    ? '203.0.113.7'
    : `10.${int(rng, 250)}.${int(rng, 250)}.${int(rng, 250)}`;
  return { method, url, headers, payload, remoteAddress };
}

/** A refusal: any 4xx, or the console's redirect to its sign-in page. */
function refused(req: FuzzRequest, status: number, location?: unknown): boolean {
  if (status >= 400 && status < 500) return true;
  return (
    status === 303 &&
    req.url.startsWith('/admin') &&
    String(location ?? '').startsWith('/admin/login')
  );
}

describe('fuzz', () => {
  it(`${INJECTED} malformed requests through app.inject: only refusals, no 5xx, no rows`, async () => {
    const before = await countRows();
    const rng = prng(SEED);
    const bad: string[] = [];
    const statuses = new Map<number, number>();
    for (let i = 0; i < INJECTED; i++) {
      const req = generate(rng, i);
      const res = await app.inject({
        method: req.method,
        url: req.url,
        headers: req.headers,
        payload: req.payload,
        remoteAddress: req.remoteAddress,
      });
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      if (!refused(req, res.statusCode, res.headers.location))
        bad.push(
          `#${i} ${req.method} ${req.url.slice(0, 80)} [${req.headers['content-type'] ?? '-'}] -> ${res.statusCode} ${res.body.slice(0, 120)}`,
        );
    }
    expect(bad.slice(0, 20)).toEqual([]);
    expect(await countRows()).toEqual(before);
    // Refusals of every kind were exercised, not one answer repeated.
    for (const code of [400, 401, 403, 404, 413, 415, 429])
      expect(statuses.get(code) ?? 0, `HTTP ${code}`).toBeGreaterThan(0);
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  }, 240_000);

  it('signed garbage (from the providers themselves) is answered without a 5xx', async () => {
    const rng = prng(SEED + 3);
    const bad: string[] = [];
    for (let i = 0; i < SIGNED; i++) {
      let res;
      if (i % 2 === 0) {
        const params = twilioParams(rng);
        for (const k of Object.keys(params))
          if (chance(rng, 0.3))
            params[k] = pick(rng, ['\u0000', `a\u0000b`, '\ud800', junk(rng, 3000), '']);
        if (chance(rng, 0.5)) params.From = '+12025550123';
        const url =
          i % 4 === 0
            ? '/webhooks/twilio/sms'
            : `/webhooks/twilio/status?m=${pick(rng, ['3f2a1c9e-1234-4abc-8def-0123456789ab', junk(rng, 40)])}`;
        res = await app.inject({
          method: 'POST',
          url,
          remoteAddress: `10.9.${int(rng, 250)}.${int(rng, 250)}`,
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            'x-twilio-signature': signTwilioRequest(
              h.config.sms.authToken,
              h.config.publicUrl + url,
              params,
            ),
          },
          payload: new URLSearchParams(params).toString(),
        });
      } else {
        const body = JSON.stringify(
          chance(rng, 0.5)
            ? {
                from: pick(rng, [junk(rng), 'a@example.com', '\u0000@x']),
                to: pick(rng, [
                  junk(rng),
                  `reply+${'0'.repeat(32)}.${'0'.repeat(20)}@${h.config.email.replyDomain}`,
                  [junk(rng)],
                  42,
                ]),
                text: pick(rng, [junk(rng, 500), 7, null, '\u0000']),
                subject: randomJson(rng),
                messageId: randomJson(rng),
              }
            : randomJson(rng),
        );
        res = await app.inject({
          method: 'POST',
          url: '/webhooks/email/inbound',
          remoteAddress: `10.8.${int(rng, 250)}.${int(rng, 250)}`,
          headers: {
            'content-type': 'application/json',
            'x-steady-signature': signInboundBody(h.config.email.inboundSecret!, body),
          },
          payload: body,
        });
      }
      if (res.statusCode >= 500) bad.push(`#${i} -> ${res.statusCode} ${res.body.slice(0, 120)}`);
    }
    expect(bad.slice(0, 20)).toEqual([]);
  }, 120_000);

  it(`${OVER_HTTP} over real HTTP, raw malformed requests included: only refusals, the server stays up`, async () => {
    const before = await countRows();
    const rng = prng(SEED + 1);
    const bad: string[] = [];
    let unsendable = 0;
    for (let i = 0; i < OVER_HTTP; i++) {
      const req = generate(rng, i);
      const outcome = await httpOutcome(base + req.url, {
        method: req.method,
        headers: Object.fromEntries(
          Object.entries(req.headers).filter(([k]) => k !== 'x-forwarded-for'),
        ),
        body: req.payload,
      });
      if (outcome.kind === 'unsendable') unsendable++;
      else if (outcome.kind === 'failure')
        bad.push(`#${i} ${req.method} ${req.url.slice(0, 80)} -> failed: ${outcome.reason}`);
      else if (!refused(req, outcome.status, outcome.location))
        bad.push(`#${i} ${req.method} ${req.url.slice(0, 80)} -> ${outcome.status}`);
    }
    // The client refuses to send only a few (invalid header values); the rest reached the server.
    expect(unsendable).toBeLessThan(OVER_HTTP / 4);
    const raw = [
      'GARBAGE / HTTP/1.1\r\nHost: x\r\n\r\n',
      'POST /webhooks/twilio/sms HTTP/1.1\r\nHost: x\r\nX-Big: ' + 'a'.repeat(20_000) + '\r\n\r\n',
      'POST /subscribe HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      'POST /subscribe HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\nZZZ\r\n{}\r\n0\r\n\r\n',
      'GET /confirm/%E0%A4%A HTTP/1.1\r\nHost: x\r\n\r\n',
      'GET /\u0000 HTTP/1.1\r\nHost: x\r\n\r\n',
      'POST /webhooks/email/inbound HTTP/1.1\r\nHost: x\r\nBad Header: x\r\n\r\n',
      'GET / HTTP/9.9\r\nHost: x\r\n\r\n',
      'POST /admin/login HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n',
    ];
    for (const text of raw) {
      // A hang-up without an answer (null) is a failure too: only an HTTP 4xx is a refusal.
      const status = await rawHttp(base, text);
      if (status === null || status < 400 || status >= 500)
        bad.push(`raw ${JSON.stringify(text.slice(0, 40))} -> ${status ?? 'no answer'}`);
    }
    expect(bad.slice(0, 20)).toEqual([]);
    expect(await countRows()).toEqual(before);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  }, 120_000);

  it(`${SMTP_SESSIONS} bad mail sessions to the inbound SMTP listener: refused or dropped, no rows, still listening`, async () => {
    const before = await countRows();
    const rng = prng(SEED + 2);
    const domain = h.config.email.replyDomain;
    const bad: string[] = [];
    for (let i = 0; i < SMTP_SESSIONS; i++) {
      const forged = pick(rng, [
        `reply+${junk(rng, 40).replace(/[\s<>]/g, '')}@${domain}`,
        `reply+${'0'.repeat(32)}.${'0'.repeat(20)}@${domain}`,
        `bounces@${domain}`,
        `unsubscribe@${domain}`,
      ]);
      const kind = int(rng, 5);
      const script: string[] =
        kind === 0
          ? [
              `EHLO fuzz`,
              `MAIL FROM:<${junk(rng, 20).replace(/[\s<>]/g, '')}@example.com>`,
              `RCPT TO:<someone@elsewhere.example>`,
              'QUIT',
            ]
          : kind === 1
            ? [junk(rng, 100).replace(/[\r\n]/g, ''), 'HELO', `RCPT TO:<${forged}>`, 'DATA', 'QUIT']
            : kind === 2
              ? ['EHLO fuzz', 'MAIL FROM:<a@example.com> SIZE=99999999', 'QUIT']
              : [
                  'EHLO fuzz',
                  'MAIL FROM:<sender@example.com>',
                  `RCPT TO:<${forged}>`,
                  'DATA',
                  kind === 3 ? malformedMime(rng, forged) : hugeMail(forged),
                  '.',
                  'QUIT',
                ];
      const replies = await smtpSession(smtp.port, script).catch((err: Error) => [
        `error ${err.message}`,
      ]);
      for (const r of replies)
        if (!/^[2-5]\d\d[ -]/.test(r)) bad.push(`session ${i}: ${r.slice(0, 80)}`);
      if (
        kind === 4 &&
        replies.some((r) => r.startsWith('354')) &&
        !replies.some((r) => r.startsWith('552'))
      )
        bad.push(
          `session ${i}: an oversized message was not refused (${replies.join(' | ').slice(0, 200)})`,
        );
    }
    expect(bad.slice(0, 20)).toEqual([]);
    expect(await countRows()).toEqual(before);
    const hello = await smtpSession(smtp.port, ['EHLO still-there', 'QUIT']);
    expect(hello.some((r) => r.startsWith('250'))).toBe(true);
  }, 120_000);
});

function hugeMail(to: string): string {
  return (
    `From: a@example.com\r\nTo: ${to}\r\nContent-Type: text/plain\r\n\r\n` +
    ('x'.repeat(998) + '\r\n').repeat(1060)
  );
}

/** Sends raw bytes; resolves with the status code of the answer, or null if the server just hung up. */
function rawHttp(base: string, text: string): Promise<number | null> {
  const { port } = new URL(base);
  return new Promise((resolve) => {
    const socket = connect(Number(port), '127.0.0.1');
    let data = '';
    const done = () =>
      resolve(
        /^HTTP\/1\.[01] (\d{3})/.exec(data)?.[1]
          ? Number(/^HTTP\/1\.[01] (\d{3})/.exec(data)![1])
          : null,
      );
    socket.setTimeout(5000, () => socket.destroy());
    socket.on('data', (d) => (data += d.toString('latin1')));
    socket.on('close', done);
    socket.on('error', () => {});
    socket.write(Buffer.from(text, 'latin1'));
  });
}

/** A minimal SMTP client: sends each line after the previous reply; DATA bodies are dot-stuffed. */
function smtpSession(port: number, lines: string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const replies: string[] = [];
    let buffer = '';
    let next = 0;
    let inData = false;
    // How a session ends is part of the answer: a timeout, a reset or a hang-up after a positive
    // reply is a failure (recorded as a line that is not an SMTP reply), never a refusal.
    socket.setTimeout(20_000, () => {
      socket.destroy();
      resolve([...replies, 'TIMEOUT: no reply within 20 s']);
    });
    const send = () => {
      const line = lines[next++];
      if (line === undefined) return socket.end();
      if (inData && line !== '.') {
        socket.write(line.replace(/\r?\n\./g, '\r\n..') + '\r\n');
        return send();
      }
      socket.write(line + '\r\n');
    };
    socket.on('data', (d) => {
      buffer += d.toString('utf8');
      let idx;
      while ((idx = buffer.indexOf('\r\n')) >= 0) {
        const reply = buffer.slice(0, idx);
        buffer = buffer.slice(idx + 2);
        replies.push(reply);
        if (/^\d{3} /.test(reply)) {
          if (reply.startsWith('354')) inData = true;
          else if (inData) inData = false;
          if (reply.startsWith('221')) return;
          send();
        }
      }
    });
    socket.on('close', () => {
      const last = replies.at(-1) ?? '';
      resolve(
        /^(221|[45]\d\d) /.test(last) ? replies : [...replies, 'HANG-UP: closed mid-session'],
      );
    });
    socket.on('error', (err: NodeJS.ErrnoException) =>
      replies.length ? resolve([...replies, `RESET: ${err.code ?? err.message}`]) : reject(err),
    );
  });
}
