// Privacy: a person's contact details and words never reach Redis or the logs. Canary values (a
// 555-01XX phone number, an example.com address, a sentence nobody else would write) go through
// the real flows: SMS JOIN, YES, a check-in reply and a disclosure through the signed webhook; an
// email sign-up, its confirmation link, and replies by the email webhook and by SMTP. Logs are
// captured at trace level. Then every key under the test's Redis prefix is read (its name, its
// DUMP, and its contents by type) and every log line is searched: no canary may appear.
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signTwilioRequest } from '../../src/channels/twilio-webhook.ts';
import { startInboundSmtp, type InboundSmtp } from '../../src/email/inbound-smtp.ts';
import { claimDueSteps } from '../../src/flows/claim-due.ts';
import { buildApp } from '../../src/http/app.ts';
import { signInboundBody } from '../../src/http/email-inbound.ts';
import { routeModules } from '../../src/http/modules.ts';
import { createLog } from '../../src/log.ts';
import { replyAddress } from '../../src/security/reply-address.ts';
import { freshPhone, ownDatabase } from '../support/db.ts';
import { harness, type Harness } from '../support/harness.ts';

const logLines: string[] = [];
const memory = new Writable({
  write(chunk: Buffer, _enc, done) {
    logLines.push(chunk.toString('utf8'));
    done();
  },
});

let h: Harness;
let app: FastifyInstance;
let smtp: InboundSmtp;
let phone: string;
const tag = randomBytes(3).toString('hex');
const email = `canary.${tag}@example.com`;
const sentence = `The violet kettle sings at midnight ${tag}`;
const redisDumps: { key: string; bytes: Buffer; text: string }[] = [];

async function snapshotRedis(): Promise<void> {
  const redis = h.deps.redis;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(
      cursor,
      'MATCH',
      `${h.config.redisPrefix}:*`,
      'COUNT',
      500,
    );
    cursor = next;
    for (const key of keys) {
      const bytes = (await redis.dumpBuffer(key)) ?? Buffer.alloc(0);
      const type = await redis.type(key);
      const parts: string[] = [];
      if (type === 'string') parts.push((await redis.get(key)) ?? '');
      if (type === 'hash') parts.push(JSON.stringify(await redis.hgetall(key)));
      if (type === 'list') parts.push(...(await redis.lrange(key, 0, -1)));
      if (type === 'set') parts.push(...(await redis.smembers(key)));
      if (type === 'zset') parts.push(...(await redis.zrange(key, 0, -1)));
      if (type === 'stream') parts.push(JSON.stringify(await redis.xrange(key, '-', '+')));
      redisDumps.push({ key, bytes, text: parts.join('\n') });
    }
  } while (cursor !== '0');
}

/** Every way the canaries could be written. */
function canaries(): string[] {
  const digits = phone.replace(/\D/g, '');
  const national = digits.slice(1);
  return [
    phone,
    encodeURIComponent(phone),
    national,
    `${national.slice(0, 3)}-${national.slice(3, 6)}-${national.slice(6)}`,
    `555-${national.slice(6)}`,
    email,
    email.split('@')[0]!,
    sentence,
    `kettle sings at midnight ${tag}`,
  ];
}

async function sms(body: string) {
  const params = {
    MessageSid: `SM${randomBytes(16).toString('hex')}`,
    From: phone,
    To: '+12025550100',
    Body: body,
  };
  const url = `${h.config.publicUrl}/webhooks/twilio/sms`;
  const res = await app.inject({
    method: 'POST',
    url: '/webhooks/twilio/sms',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': signTwilioRequest(h.config.sms.authToken, url, params),
    },
    payload: new URLSearchParams(params).toString(),
  });
  expect(res.statusCode).toBe(200);
}

beforeAll(async () => {
  h = await harness({
    start: '2026-05-04T14:00:00Z',
    env: { DATABASE_URL: await ownDatabase('privacy'), LOG_LEVEL: 'trace' },
    log: createLog('trace', memory),
  });
  app = await buildApp(h.deps, { modules: routeModules });
  smtp = await startInboundSmtp(h.deps, { port: 0 });
  phone = await freshPhone(h.deps.db);
  // Jobs wait in Redis while the workers stand by, so each snapshot sees them; `run` lets the
  // real workers deliver everything queued so far, then stands them by again.
  await h.pauseWorkers();
  const run = async () => {
    h.resumeWorkers();
    await h.settle();
    await h.pauseWorkers();
  };

  // SMS: join, confirm, get a check-in, answer it with the sentence, then disclose.
  await sms('JOIN');
  await snapshotRedis(); // jobs are waiting now
  await run();
  await sms('YES');
  await run();
  const sub = await h.deps.db.subscriber.findFirstOrThrow({
    where: { phone },
    include: { enrollments: true },
  });
  for (let i = 0; i < 8; i++) {
    const e = await h.deps.db.enrollment.findUniqueOrThrow({
      where: { id: sub.enrollments[0]!.id },
    });
    if (!e.nextRunAt || e.nextStep?.includes('checkin')) break;
    h.clock.set(e.nextRunAt);
    await claimDueSteps(h.deps);
    await run();
  }
  const e = await h.deps.db.enrollment.findUniqueOrThrow({ where: { id: sub.enrollments[0]!.id } });
  if (e.nextRunAt) h.clock.set(e.nextRunAt);
  await claimDueSteps(h.deps);
  await snapshotRedis();
  await run();
  await sms(`3 ${sentence}`);
  await sms(`${sentence}. He hit me last night and I am scared.`);
  await snapshotRedis();
  await run();

  // Email: sign up, confirm by the link, reply by the webhook and by SMTP.
  const signup = await app.inject({
    method: 'POST',
    url: '/subscribe',
    remoteAddress: '192.0.2.10',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({
      email,
      firstName: 'Canary',
      timezone: 'America/New_York',
    }).toString(),
  });
  expect(signup.statusCode).toBeLessThan(400);
  await snapshotRedis();
  await run();
  const confirmMail = h.mailTo(email)[0];
  const link = /\/confirm\/[A-Za-z0-9_.-]+/.exec(confirmMail?.text ?? '')?.[0];
  expect(link).toBeDefined();
  expect((await app.inject({ method: 'GET', url: link! })).statusCode).toBe(200);
  await run();
  const emailSub = await h.deps.db.subscriber.findFirstOrThrow({ where: { email } });
  const to = replyAddress(h.config.appSecret, emailSub.id, h.config.email.replyDomain);
  const hook = JSON.stringify({
    from: `Canary <${email}>`,
    to,
    subject: 'Re: hello',
    text: `${sentence}\n\nOn Mon, Steady wrote:\n> hi`,
    messageId: `<${tag}@example.com>`,
  });
  const hooked = await app.inject({
    method: 'POST',
    url: '/webhooks/email/inbound',
    headers: {
      'content-type': 'application/json',
      'x-steady-signature': signInboundBody(h.config.email.inboundSecret!, hook),
    },
    payload: hook,
  });
  expect(hooked.statusCode).toBe(200);
  await mail(
    smtp.port,
    email,
    to,
    `Subject: Re: week one\r\nMessage-ID: <${tag}-2@example.com>\r\n\r\n${sentence} (by SMTP)\r\n`,
  );
  await snapshotRedis();
  await run();
  await snapshotRedis();
  h.resumeWorkers();
}, 120_000);

afterAll(async () => {
  await smtp?.stop();
  await app?.close();
  await h?.close();
});

describe('privacy', () => {
  it('the flows really carried the canaries (so finding none means something)', async () => {
    const sub = await h.deps.db.subscriber.findFirstOrThrow({ where: { phone } });
    const replies = await h.deps.db.message.findMany({
      where: { subscriberId: sub.id, direction: 'in' },
    });
    expect(replies.length).toBeGreaterThanOrEqual(4);
    expect(await h.deps.db.safetyFlag.count({ where: { subscriberId: sub.id } })).toBeGreaterThan(
      0,
    );
    const emailReplies = await h.deps.db.message.count({
      where: { direction: 'in', channel: 'email', subscriber: { email } },
    });
    expect(emailReplies).toBe(2);
    // Reply text is stored, but only encrypted.
    for (const r of replies) {
      expect(r.bodyEnc).toBeTruthy();
      expect(r.body).toBeNull();
      expect(r.bodyEnc).not.toContain(tag);
    }
    expect(redisDumps.length).toBeGreaterThan(10);
    expect(logLines.length).toBeGreaterThan(10);
  });

  it('no canary in any Redis key, value or DUMP under the test prefix', () => {
    const hits: string[] = [];
    for (const d of redisDumps)
      for (const c of canaries())
        if (d.key.includes(c) || d.text.includes(c) || d.bytes.includes(Buffer.from(c)))
          hits.push(`${d.key}: ${c}`);
    expect(hits).toEqual([]);
  });

  it('no canary in any log line, at trace level', () => {
    const hits: string[] = [];
    for (const line of logLines)
      for (const c of canaries()) if (line.includes(c)) hits.push(`${c} in ${line.slice(0, 200)}`);
    expect(hits).toEqual([]);
  });
});

/** Sends one message to the inbound SMTP listener. */
function mail(port: number, from: string, to: string, data: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const steps = [
      'EHLO test',
      `MAIL FROM:<${from}>`,
      `RCPT TO:<${to}>`,
      'DATA',
      `From: ${from}\r\nTo: ${to}\r\n${data}\r\n.`,
      'QUIT',
    ];
    let buffer = '';
    socket.on('data', (d) => {
      buffer += d.toString();
      let idx;
      while ((idx = buffer.indexOf('\r\n')) >= 0) {
        const line = buffer.slice(0, idx);
        buffer = buffer.slice(idx + 2);
        if (/^[45]\d\d /.test(line)) return reject(new Error(`SMTP refused: ${line}`));
        if (/^\d{3} /.test(line)) {
          const next = steps.shift();
          if (next === undefined) return socket.end();
          socket.write(next + '\r\n');
        }
      }
    });
    socket.on('close', () => resolve());
    socket.on('error', reject);
  });
}
