// Poison input is refused for good, never answered as a temporary failure. PostgreSQL cannot store
// NUL, so a NUL that reached an INSERT came back as an HTTP 500 (sign-up, the inbound-email
// webhook) or an SMTP 451 "try again later", and the sending server retried the same message for
// days. Now control characters are refused at the edge (HTTP 400, SMTP 553/554), a message that
// cannot be parsed (30,000 header lines) is 554, and free text still takes tabs and line breaks.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidInboundEmail } from '../../src/email/handle-inbound-email.ts';
import {
  isInvalidTextError,
  smtpAnswerFor,
  startInboundSmtp,
  type InboundSmtp,
} from '../../src/email/inbound-smtp.ts';
import { signInboundBody } from '../../src/http/email-inbound.ts';
import { decryptText } from '../../src/security/crypto.ts';
import { freshEmail, freshPhone } from '../support/db.ts';
import { smtpReplies } from '../support/fuzz.ts';
import { postToTwilioWebhook } from '../support/twilio-post.ts';
import {
  activeSubscriber,
  emailTestbed,
  freshIp,
  postForm,
  postJson,
  type ActiveSubscriber,
  type EmailTestbed,
} from '../email/helpers.ts';

let t: EmailTestbed;
let smtp: InboundSmtp;

beforeAll(async () => {
  t = await emailTestbed();
  smtp = await startInboundSmtp(t.deps, { port: 0 });
});
afterAll(async () => {
  await smtp?.stop();
  await t?.close();
});

const inboundRows = (subscriberId: string) =>
  t.deps.db.message.findMany({ where: { direction: 'in', channel: 'email', subscriberId } });

function postHook(body: unknown) {
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
}

/** One message over SMTP, as lines; resolves with the reply to the final ".". */
async function sendMail(
  s: Pick<ActiveSubscriber, 'email' | 'replyTo'>,
  headers: string[],
  body: string[],
): Promise<{ final: string; replies: string[] }> {
  const replies = await smtpReplies(smtp.port, [
    'EHLO poison.test',
    `MAIL FROM:<${s.email}>`,
    `RCPT TO:<${s.replyTo}>`,
    'DATA',
    ...headers,
    '',
    ...body,
    '.',
    'QUIT',
  ]);
  const afterData = replies.slice(replies.findIndex((r) => r.startsWith('354')) + 1);
  return { final: afterData.find((r) => /^\d{3} /.test(r)) ?? '(none)', replies };
}

const mailHeaders = (s: ActiveSubscriber, over: Record<string, string> = {}) =>
  Object.entries({
    From: s.email,
    To: s.replyTo,
    Subject: 'Re: Welcome',
    'Message-ID': `<m-${Date.now()}-${Math.random().toString(36).slice(2)}@mail.example.org>`,
    ...over,
  }).map(([k, v]) => `${k}: ${v}`);

describe('HTTP: control characters are a 400, never a 500', () => {
  it('a NUL in the sign-up email (JSON and form) is 400 and stores nothing', async () => {
    const email = freshEmail('nul');
    const [local, domain] = email.split('@');
    const poisoned = `${local}\u0000x@${domain}`;
    const json = await postJson(t, '/subscribe', { email: poisoned, timezone: 'UTC' });
    expect(json.statusCode).toBe(400);
    expect(json.json()).toMatchObject({ error: 'invalid_characters' });
    const form = await postForm(t, '/subscribe', { email: poisoned, timezone: 'UTC' });
    expect(form.statusCode).toBe(400);
    for (const field of ['firstName', 'timezone'])
      expect(
        (
          await postJson(t, '/subscribe', {
            email,
            timezone: 'UTC',
            [field]: 'Ann\u0001',
          })
        ).statusCode,
        field,
      ).toBe(400);
    expect(await t.deps.db.subscriber.count({ where: { email: { startsWith: local! } } })).toBe(0);
  });

  it('a NUL in any header field of the inbound-email webhook is 400 (the messageId was a 500); in the text it is removed and the reply read', async () => {
    const s = await activeSubscriber(t, freshEmail('hooknul'));
    const good = {
      from: s.email,
      to: s.replyTo,
      subject: 'Re: Welcome',
      text: '4',
      messageId: `<hook-${Date.now()}@mail.example.org>`,
    };
    for (const field of ['messageId', 'from', 'to', 'subject'] as const) {
      const value = field === 'to' ? [s.replyTo, `x\u0000@${t.config.email.replyDomain}`] : null;
      const res = await postHook({ ...good, [field]: value ?? `${good[field]}\u0000` });
      expect(res.statusCode, field).toBe(400);
      expect(res.json(), field).toMatchObject({ error: 'invalid_characters' });
    }
    expect(await inboundRows(s.id)).toHaveLength(0);
    // Free text keeps its tabs and line breaks; the same mail without the NUL is taken.
    const ok = await postHook({ ...good, text: '4\r\n\tthanks\n' });
    expect(ok.statusCode).toBe(200);
    const rows = await inboundRows(s.id);
    expect(rows).toHaveLength(1);
    expect(decryptText(t.config.encryptionKeys, rows[0]!.bodyEnc!)).toBe('4\r\n\tthanks\n');
    // A STOP with a stray NUL is a STOP: never refused, never lost.
    const stop = await postHook({
      ...good,
      text: 'STOP\u0000',
      messageId: `<hook-stop-${Date.now()}@mail.example.org>`,
    });
    expect(stop.statusCode, stop.body).toBe(200);
    await t.settle();
    const after = await inboundRows(s.id);
    expect(after).toHaveLength(2);
    expect(after.map((r) => decryptText(t.config.encryptionKeys, r.bodyEnc!)).sort()).toContain(
      'STOP',
    );
    expect((await t.deps.db.subscriber.findUniqueOrThrow({ where: { id: s.id } })).status).toBe(
      'stopped',
    );
  });

  it('control characters in a path, a query or a body field of any route are 400', async () => {
    const cases = [
      { method: 'GET' as const, url: '/confirm/abc%00def' },
      { method: 'GET' as const, url: '/unsubscribe/abc%01def' },
      { method: 'GET' as const, url: '/resources?country=U%00S' },
      { method: 'GET' as const, url: '/admin/login?next=%2Fadmin%00' },
    ];
    for (const c of cases) {
      const res = await t.app.inject({ ...c, headers: { 'x-forwarded-for': freshIp() } });
      expect(res.statusCode, c.url).toBe(400);
    }
    const api = await t.app.inject({
      method: 'GET',
      url: '/admin/api/subscribers?email=a%00b%40example.com',
      headers: { authorization: `Bearer ${t.config.adminToken}`, 'x-forwarded-for': freshIp() },
    });
    expect(api.statusCode).toBe(400);
  });
});

describe('Twilio: a person’s text keeps its words, Twilio’s own fields never hold a control', () => {
  it('control characters in Body are removed and the reply recorded; in another field, 400', async () => {
    const phone = await freshPhone(t.deps.db);
    const stamp = Date.now().toString(16);
    const sid = (n: number) => `SM${stamp}${n}`.padEnd(34, '0');
    const res = await postToTwilioWebhook(t.app, t.config, '/webhooks/twilio/sms', {
      MessageSid: sid(1),
      From: phone,
      To: '+12025550100',
      Body: 'JO\u0000IN\u0007 now\nplease',
    });
    expect(res.statusCode).toBe(200);
    const row = await t.deps.db.message.findFirst({ where: { providerId: sid(1) } });
    expect(row).toBeTruthy();
    expect(decryptText(t.config.encryptionKeys, row!.bodyEnc!)).toBe('JOIN now\nplease');
    for (const field of ['MessageSid', 'From', 'To'])
      expect(
        (
          await postToTwilioWebhook(t.app, t.config, '/webhooks/twilio/sms', {
            MessageSid: sid(2),
            From: phone,
            To: '+12025550100',
            Body: 'hi',
            [field]: '+1202555\u00000100',
          })
        ).statusCode,
        field,
      ).toBe(400);
    const status = await postToTwilioWebhook(t.app, t.config, '/webhooks/twilio/status', {
      MessageSid: sid(3),
      MessageStatus: 'deliv\u0000ered',
    });
    expect(status.statusCode).toBe(400);
  });
});

describe('SMTP: bad mail is a 5xx (never again), never a 451 (try later)', () => {
  it('a NUL in the Message-ID of a subscriber’s reply is 554 and stores nothing (was 451)', async () => {
    const s = await activeSubscriber(t, freshEmail('smtpnul'));
    const { final } = await sendMail(
      s,
      mailHeaders(s, { 'Message-ID': '<a\u0000b@mail.example.org>' }),
      ['4'],
    );
    expect(final).toMatch(/^554 /);
    expect(await inboundRows(s.id)).toHaveLength(0);
    // The same reply without the NUL is taken: the listener was fine all along.
    expect((await sendMail(s, mailHeaders(s), ['4'])).final).toMatch(/^250 /);
    expect(await inboundRows(s.id)).toHaveLength(1);
  });

  it('30,000 header lines is 554 (was 451)', async () => {
    const s = await activeSubscriber(t, freshEmail('smtpheaders'));
    const many = Array.from({ length: 30_000 }, (_, i) => `X-Filler-${i}: v`);
    const { final } = await sendMail(s, [...mailHeaders(s), ...many], ['4']);
    expect(final).toMatch(/^554 /);
    expect(await inboundRows(s.id)).toHaveLength(0);
  });

  it('a control character in Subject or From is 554; tabs, line breaks and folding are fine', async () => {
    const s = await activeSubscriber(t, freshEmail('smtpctl'));
    const cases: [string, string[], string[]][] = [
      ['Subject', mailHeaders(s, { Subject: 'Re: hi\u0001' }), ['4']],
      ['From', mailHeaders(s, { From: `<${s.email}>\u0000` }), ['4']],
    ];
    for (const [what, headers, body] of cases)
      expect((await sendMail(s, headers, body)).final, what).toMatch(/^554 /);
    expect(await inboundRows(s.id)).toHaveLength(0);
    const folded = [...mailHeaders(s, { Subject: 'Re: a long\r\n\tsubject' })];
    expect((await sendMail(s, folded, ['4\tthanks', '', 'more'])).final).toMatch(/^250 /);
    expect(await inboundRows(s.id)).toHaveLength(1);
  });

  it("the person's text is never refused for a stray byte: control characters are removed", async () => {
    // A reply may be a disclosure or a STOP: bouncing it would lose it.
    const s = await activeSubscriber(t, freshEmail('smtptext'));
    for (const body of [['4\u0000 ok'], ['stop\u001b[31m'], ['page one\fpage two\u000bend']])
      expect((await sendMail(s, mailHeaders(s), body)).final).toMatch(/^250 /);
    const rows = await inboundRows(s.id);
    expect(rows).toHaveLength(3);
  });

  it('a control character in MAIL FROM or RCPT TO is refused there with a 5xx', async () => {
    const domain = t.config.email.replyDomain;
    for (const [cmd, expectAt] of [
      [`MAIL FROM:<a\u0000b@example.org>`, 1],
      [`MAIL FROM:<a\u0001b@example.org>`, 1],
    ] as const) {
      const replies = await smtpReplies(smtp.port, ['EHLO poison.test', cmd, 'QUIT']);
      const answers = replies.filter((r) => /^\d{3} /.test(r));
      expect(answers[expectAt + 1], cmd).toMatch(/^5\d\d /);
    }
    for (const rcpt of [`reply+a\u0000b@${domain}`, `unsubscribe\u0007@${domain}`]) {
      const replies = await smtpReplies(smtp.port, [
        'EHLO poison.test',
        'MAIL FROM:<a@example.org>',
        `RCPT TO:<${rcpt}>`,
        'QUIT',
      ]);
      const answers = replies.filter((r) => /^\d{3} /.test(r));
      expect(answers[3], JSON.stringify(rcpt)).toMatch(/^5\d\d /);
    }
  });

  it('an error PostgreSQL raises for a string it cannot store is 554; any other failure 451', () => {
    const pgNul = Object.assign(new Error('invalid byte sequence for encoding "UTF8": 0x00'), {
      cause: { originalCode: '22021', code: '22021', kind: 'postgres' },
    });
    expect(isInvalidTextError(pgNul)).toBe(true);
    expect(smtpAnswerFor(pgNul).responseCode).toBe(554);
    expect(
      smtpAnswerFor(new InvalidInboundEmail('the Subject contains a control character')),
    ).toMatchObject({ responseCode: 554 });
    expect(smtpAnswerFor(new Error('Connection terminated unexpectedly')).responseCode).toBe(451);
  });
});
