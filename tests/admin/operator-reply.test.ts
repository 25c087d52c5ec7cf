// An operator's one-off message from a subscriber's page (and the admin API): people join and
// confirm through the signed Twilio webhook (or enroll by email), an operator signs in and writes
// to them from the console form; the real workers send it through the twilio SDK to the local fake
// Twilio API, or over SMTP to the local listener. Refusals (stopped, erased, unconfirmed, empty,
// too long, a lock-screen word) send nothing; quiet hours hold it unless it answers the person's
// own message of the last hour; the audit event names the operator; the person's answer shows in
// the timeline, newest first, its words only behind the audited reveal.
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enroll } from '../../src/flows/enroll.ts';
import { metrics } from '../../src/metrics.ts';
import { freshEmail } from '../support/db.ts';
import { textViaWebhook } from '../support/twilio-post.ts';
import {
  consolePhone,
  consoleTestbed,
  freshIp,
  signIn,
  type ConsoleTestbed,
  type Operator,
} from './helpers.ts';

let t: ConsoleTestbed;
let op: Operator;

// 17:00 UTC is daytime in every zone the console pool's area codes guess (10:00 to 13:00).
const START = '2026-05-04T17:00:00Z';

beforeAll(async () => {
  t = await consoleTestbed({ workers: true, start: START });
  op = await signIn(t);
});
afterAll(() => t?.close());

/** A person who texted JOIN and YES through the signed webhook, the welcome delivered. */
async function joinBySms(confirm = true) {
  const phone = await consolePhone(t.deps.db);
  await textViaWebhook(t, t.app, phone, 'JOIN');
  if (confirm) await textViaWebhook(t, t.app, phone, 'YES');
  const sub = await t.deps.db.subscriber.findUniqueOrThrow({ where: { phone } });
  expect(sub.status).toBe(confirm ? 'active' : 'pending');
  return { phone, sub };
}

const formKey = (html: string) => /name="key" value="([^"]+)"/.exec(html)?.[1] ?? '';

/** Opens the person's page, then posts its message form as a browser would. */
async function sendFromConsole(
  subscriberId: string,
  fields: { channel: string; text: string; template?: string; intent?: string },
) {
  const page = await op.get(`/admin/subscribers/${subscriberId}`);
  return op.post(`/admin/subscribers/${subscriberId}/messages`, {
    key: formKey(page.body) || 'no-form-on-page',
    template: '',
    intent: 'send',
    ...fields,
  });
}

const operatorRows = (subscriberId: string) =>
  t.deps.db.message.findMany({
    where: { subscriberId, direction: 'out', template: 'operator' },
    orderBy: { createdAt: 'asc' },
  });

describe('a human reply by SMS, from the console', () => {
  it('goes through the real worker and Twilio SDK, shows in the timeline and is audited with the operator', async () => {
    const { phone, sub } = await joinBySms();
    const before = t.smsTo(phone).length;
    const counted = metrics.get('steady_operator_messages_total', {
      channel: 'sms',
      outcome: 'queued',
    });

    const page = await op.get(`/admin/subscribers/${sub.id}`);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain(`action="/admin/subscribers/${sub.id}/messages"`);
    expect(page.body).toContain('name="_csrf"');
    // Their only channel, the starting texts, the segment count and the script as a file.
    expect(page.body).toContain('By <strong>SMS</strong>');
    expect(page.body).toContain('value="checking_in"');
    expect(page.body).toContain('0 of 3 SMS segments');
    expect(page.body).toMatch(/<script src="\/assets\/operator-message\.js\?v=/);
    expect(page.body).not.toMatch(/<script>/);
    expect(page.body).toContain('goes out at once');

    const text =
      "Hi, it's Steady.\r\nA person on our team read your messages.  \r\nReply any time.";
    const sent = await op.post(`/admin/subscribers/${sub.id}/messages`, {
      channel: 'sms',
      template: 'checking_in',
      text,
      key: formKey(page.body),
      intent: 'send',
    });
    expect(sent.statusCode).toBe(303);
    expect(sent.headers.location).toBe(`/admin/subscribers/${sub.id}?done=message-sent`);
    await t.settle();

    const cleaned = "Hi, it's Steady.\nA person on our team read your messages.\nReply any time.";
    const got = t.smsTo(phone).slice(before);
    expect(got.map((m) => m.body)).toEqual([cleaned]);
    const [row] = await operatorRows(sub.id);
    expect(row).toMatchObject({
      kind: 'system',
      template: 'operator',
      lane: 'priority',
      status: 'sent',
      body: cleaned,
      channel: 'sms',
    });
    expect(row!.providerId).toBe(got[0]!.sid);
    expect(
      metrics.get('steady_operator_messages_total', { channel: 'sms', outcome: 'queued' }),
    ).toBe(counted + 1);

    // The audit event names this operator's session (the same actor as their page views) and
    // the message, never its words.
    const audit = await t.deps.db.auditEvent.findFirstOrThrow({
      where: { action: 'message.send', target: sub.id },
    });
    const view = await t.deps.db.auditEvent.findFirstOrThrow({
      where: { action: 'contact.view', target: sub.id },
      orderBy: { at: 'desc' },
    });
    expect(audit.actor).toMatch(/^console:/);
    expect(audit.actor).toBe(view.actor);
    expect(audit.detail).toMatchObject({
      messageId: row!.id,
      channel: 'sms',
      startedFrom: 'checking_in',
      segments: 1,
      heldUntil: null,
    });
    expect(JSON.stringify(audit.detail)).not.toContain('person on our team');

    const after = await op.get(`/admin/subscribers/${sub.id}?done=message-sent`);
    expect(after.body).toContain('Message queued');
    expect(after.body).toContain('→ Operator message');
    expect(after.body).toContain('A person on our team read your messages.');
  });

  it("shows the person's answer above it, newest first, its words only after an audited reveal", async () => {
    const { phone, sub } = await joinBySms();
    const ours = 'Hi, checking in from Steady. How was your week?';
    expect((await sendFromConsole(sub.id, { channel: 'sms', text: ours })).statusCode).toBe(303);
    await t.settle();
    t.clock.advance({ minutes: 3 });
    const words = 'Better than last week, thank you for asking';
    await textViaWebhook(t, t.app, phone, words);

    const reply = await t.deps.db.message.findFirstOrThrow({
      where: { subscriberId: sub.id, direction: 'in' },
      orderBy: { createdAt: 'desc' },
    });
    const page = await op.get(`/admin/subscribers/${sub.id}`);
    expect(page.body).not.toContain(words);
    const revealAt = page.body.indexOf(`/admin/messages/${reply.id}/reveal`);
    const oursAt = page.body.indexOf(ours);
    expect(revealAt).toBeGreaterThan(0);
    expect(oursAt).toBeGreaterThan(0);
    expect(revealAt).toBeLessThan(oursAt);

    const shown = await op.inject({
      method: 'POST',
      url: `/admin/messages/${reply.id}/reveal`,
      headers: {
        accept: 'application/json',
        'content-type': 'application/json',
        'x-csrf-token': op.csrf,
      },
      payload: '{}',
    });
    expect(shown.statusCode).toBe(200);
    expect(shown.json()).toEqual({ text: words });
    const read = await t.deps.db.auditEvent.findFirstOrThrow({
      where: { action: 'message.reveal', target: reply.id },
    });
    expect(read.actor).toMatch(/^console:/);
  });

  it('counts segments on the server as the operator types, and Preview fills a starting text', async () => {
    const { sub } = await joinBySms();
    const preview = (text: string, channel = 'sms') =>
      op.inject({
        method: 'POST',
        url: `/admin/subscribers/${sub.id}/messages/preview`,
        headers: {
          accept: 'application/json',
          'content-type': 'application/json',
          'x-csrf-token': op.csrf,
        },
        payload: JSON.stringify({ channel, text }),
      });
    const short = await preview('Hello there');
    expect(short.json()).toMatchObject({ segments: 1, encoding: 'GSM-7', limit: 3, problem: null });
    expect((await preview('a'.repeat(161))).json()).toMatchObject({ segments: 2 });
    const curly = (await preview('It’s fine')).json();
    expect(curly).toMatchObject({ segments: 1, encoding: 'UCS-2' });
    expect(curly.summary).toContain('“’”');
    expect((await preview('a'.repeat(460))).json()).toMatchObject({ problem: 'too_long' });
    // Without the CSRF header the count is refused like any console post.
    const forged = await op.inject({
      method: 'POST',
      url: `/admin/subscribers/${sub.id}/messages/preview`,
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ channel: 'sms', text: 'x' }),
    });
    expect(forged.statusCode).toBe(403);

    const filled = await op.post(`/admin/subscribers/${sub.id}/messages`, {
      channel: 'sms',
      template: 'settings_help',
      text: '',
      key: 'previewkey123',
      intent: 'preview',
    });
    expect(filled.statusCode).toBe(200);
    expect(filled.body).toMatch(/<textarea[^>]*>Hi, it&#39;s Steady\.\nYou can change when/);
    expect(filled.body).toMatch(/1 of 3 SMS segments/);
    expect(await operatorRows(sub.id)).toEqual([]);
  });
});

describe('by email', () => {
  it('goes over SMTP with a neutral subject, the text inert, and the unsubscribe footer', async () => {
    const address = freshEmail('operator-reply');
    const e = await enroll(t.deps, {
      email: address,
      timezone: 'America/Chicago',
      confirm: true,
      evidence: { source: 'test' },
    });
    await t.settle();
    const before = t.mailTo(address).length;
    const page = await op.get(`/admin/subscribers/${e.subscriberId}`);
    expect(page.body).toContain('By <strong>Email</strong>');
    const text = 'Hello from Steady.\nA note: <b>{{name}}</b> *stays* as typed.';
    const res = await sendFromConsole(e.subscriberId, { channel: 'email', text });
    expect(res.statusCode).toBe(303);
    await t.settle();
    const mails = t.mailTo(address).slice(before);
    expect(mails).toHaveLength(1);
    const mail = mails[0]!;
    expect(mail.subject).toMatch(/^A note from /);
    expect(mail.text).toContain('A note: <b>{{name}}</b> *stays* as typed.');
    expect(mail.text).toContain('Unsubscribe: https://steady.example.com/unsubscribe/');
    expect(mail.html).toContain('&lt;b&gt;{{name}}&lt;/b&gt; *stays* as typed.');
    // mailparser reads List-* headers into one `list` entry.
    const list = mail.headers.get('list') as { unsubscribe?: { url?: string } };
    expect(list.unsubscribe?.url).toMatch(/^https:\/\/steady\.example\.com\/unsubscribe\//);
    const [row] = await operatorRows(e.subscriberId);
    expect(row).toMatchObject({ channel: 'email', status: 'sent', kind: 'system' });
    // Not by SMS: this person has no phone and no SMS enrollment.
    const sms = await sendFromConsole(e.subscriberId, { channel: 'sms', text: 'Hello' });
    expect(sms.statusCode).toBe(409);
    expect(sms.body).toContain('cannot be written to by SMS');
  });
});

describe('refusals: nothing is sent', () => {
  it('a stopped person', async () => {
    const { phone, sub } = await joinBySms();
    await textViaWebhook(t, t.app, phone, 'STOP');
    const before = t.smsTo(phone).length;
    const page = await op.get(`/admin/subscribers/${sub.id}`);
    expect(page.body).toContain('You cannot write to this person');
    expect(page.body).not.toContain(`action="/admin/subscribers/${sub.id}/messages"`);
    const res = await sendFromConsole(sub.id, { channel: 'sms', text: 'Hello again' });
    expect(res.statusCode).toBe(409);
    expect(res.body).toContain('This person has opted out');
    // The page shown again offers no form for this person.
    expect(res.body).not.toContain('<textarea');
    await t.settle();
    expect(t.smsTo(phone).length).toBe(before);
    expect(await operatorRows(sub.id)).toEqual([]);
  });

  it('an erased person', async () => {
    const { phone, sub } = await joinBySms();
    const page = await op.get(`/admin/subscribers/${sub.id}`);
    const erased = await op.post(`/admin/subscribers/${sub.id}/erase`);
    expect(erased.statusCode).toBe(303);
    const before = t.smsTo(phone).length;
    const res = await op.post(`/admin/subscribers/${sub.id}/messages`, {
      channel: 'sms',
      text: 'Hello again',
      key: formKey(page.body),
      intent: 'send',
    });
    expect(res.statusCode).toBe(404);
    await t.settle();
    expect(t.smsTo(phone).length).toBe(before);
    expect(await t.deps.db.message.count({ where: { toAddr: phone, template: 'operator' } })).toBe(
      0,
    );
  });

  it('a person who never confirmed', async () => {
    const { phone, sub } = await joinBySms(false);
    const before = t.smsTo(phone).length;
    const res = await sendFromConsole(sub.id, { channel: 'sms', text: 'Hello' });
    expect(res.statusCode).toBe(409);
    expect(res.body).toContain('has not confirmed');
    await t.settle();
    expect(t.smsTo(phone).length).toBe(before);
  });

  it('a message queued before the person was stopped never goes out', async () => {
    const { phone, sub } = await joinBySms();
    const before = t.smsTo(phone).length;
    await t.pauseWorkers();
    try {
      expect((await sendFromConsole(sub.id, { channel: 'sms', text: 'Hello' })).statusCode).toBe(
        303,
      );
      expect((await op.post(`/admin/subscribers/${sub.id}/stop`)).statusCode).toBe(303);
    } finally {
      t.resumeWorkers();
    }
    await t.settle();
    expect(t.smsTo(phone).length).toBe(before);
    const [row] = await operatorRows(sub.id);
    expect(row?.status).toBe('suppressed');
  });

  it('empty text, an SMS over 3 segments, a lock-screen word on the first line; the text is kept', async () => {
    const { phone, sub } = await joinBySms();
    const before = t.smsTo(phone).length;
    const refused = metrics.get('steady_operator_messages_total', {
      channel: 'sms',
      outcome: 'refused',
    });
    const empty = await sendFromConsole(sub.id, { channel: 'sms', text: ' \n\t ' });
    expect(empty.statusCode).toBe(400);
    expect(empty.body).toContain('Write a message first');

    const long = 'Some words that go on. '.repeat(21); // 483 characters: 4 segments
    const tooLong = await sendFromConsole(sub.id, { channel: 'sms', text: long });
    expect(tooLong.statusCode).toBe(400);
    expect(tooLong.body).toContain('needs 4 SMS segments; the limit is 3');
    expect(tooLong.body).toContain(long.trim());

    const lock = await sendFromConsole(sub.id, {
      channel: 'sms',
      text: 'About your partner\nHello',
    });
    expect(lock.statusCode).toBe(400);
    expect(lock.body).toContain('says &quot;partner&quot;');

    // A control character is refused at the edge, like every console form.
    const nul = await sendFromConsole(sub.id, { channel: 'sms', text: 'Hello\u0000there' });
    expect(nul.statusCode).toBe(400);

    // Another site's post is refused even with the right token.
    const page = await op.get(`/admin/subscribers/${sub.id}`);
    const cross = await op.post(
      `/admin/subscribers/${sub.id}/messages`,
      { channel: 'sms', text: 'Hello', key: formKey(page.body), intent: 'send' },
      { headers: { 'sec-fetch-site': 'cross-site', origin: 'https://elsewhere.example.com' } },
    );
    expect(cross.statusCode).toBe(403);
    const noToken = await op.post(
      `/admin/subscribers/${sub.id}/messages`,
      { channel: 'sms', text: 'Hello', key: formKey(page.body), intent: 'send' },
      { csrf: false },
    );
    expect(noToken.statusCode).toBe(403);

    await t.settle();
    expect(t.smsTo(phone).length).toBe(before);
    expect(await operatorRows(sub.id)).toEqual([]);
    expect(
      metrics.get('steady_operator_messages_total', { channel: 'sms', outcome: 'refused' }),
    ).toBe(refused + 3);
  });

  it('a form posted twice sends once', async () => {
    const { phone, sub } = await joinBySms();
    const before = t.smsTo(phone).length;
    const page = await op.get(`/admin/subscribers/${sub.id}`);
    const fields = { channel: 'sms', text: 'Just once', key: formKey(page.body), intent: 'send' };
    const first = await op.post(`/admin/subscribers/${sub.id}/messages`, fields);
    const second = await op.post(`/admin/subscribers/${sub.id}/messages`, fields);
    expect(first.headers.location).toContain('done=message-sent');
    expect(second.headers.location).toContain('done=message-duplicate');
    await t.settle();
    expect(
      t
        .smsTo(phone)
        .slice(before)
        .map((m) => m.body),
    ).toEqual(['Just once']);
  });
});

describe('quiet hours', () => {
  it('holds a message until they end, unless it answers the person within the hour', async () => {
    const { phone, sub } = await joinBySms();
    // 23:00 the next evening in the person's zone (the clock only moves forward in this file).
    const zone = sub.timezone;
    const evening = DateTime.fromJSDate(t.clock.now(), { zone })
      .plus({ days: 1 })
      .set({ hour: 23, minute: 0, second: 0, millisecond: 0 });
    t.clock.set(evening.toJSDate());
    const before = t.smsTo(phone).length;

    const page = await op.get(`/admin/subscribers/${sub.id}`);
    expect(page.body).toContain('in their quiet hours: a message sent now waits until 08:00');
    const held = await sendFromConsole(sub.id, { channel: 'sms', text: 'Good morning note' });
    expect(held.headers.location).toContain('done=message-held');
    await t.settle();
    expect(t.smsTo(phone).length).toBe(before);
    const [row] = await operatorRows(sub.id);
    const morning = evening.plus({ days: 1 }).set({ hour: 8, minute: 0 });
    expect(row?.status).toBe('queued');
    expect(row?.dueAt?.toISOString()).toBe(morning.toUTC().toISO());
    const audit = await t.deps.db.auditEvent.findFirstOrThrow({
      where: { action: 'message.send', target: sub.id },
    });
    expect(audit.detail).toMatchObject({ heldUntil: morning.toUTC().toISO() });
    expect((await op.get(`/admin/subscribers/${sub.id}`)).body).toContain(
      'waits for the person’s quiet hours to end',
    );

    // The person writes at 23:10; the operator's answer at 23:20 goes at once.
    t.clock.advance({ minutes: 10 });
    await textViaWebhook(t, t.app, phone, 'are you there');
    t.clock.advance({ minutes: 10 });
    const answerPage = await op.get(`/admin/subscribers/${sub.id}`);
    expect(answerPage.body).toContain('they wrote to us within the last hour');
    const answer = await sendFromConsole(sub.id, { channel: 'sms', text: 'Yes, we are here.' });
    expect(answer.headers.location).toContain('done=message-sent');
    await t.settle();
    const bodies = () =>
      t
        .smsTo(phone)
        .slice(before)
        .map((m) => m.body);
    expect(bodies()).toContain('Yes, we are here.');
    expect(bodies()).not.toContain('Good morning note');

    // At 08:00 the held one goes.
    t.clock.set(morning.plus({ minutes: 1 }).toJSDate());
    await t.settle();
    expect(bodies()).toContain('Good morning note');
  });
});

describe('the admin API', () => {
  const api = (id: string, body: unknown) =>
    t.app.inject({
      method: 'POST',
      url: `/admin/api/subscribers/${id}/messages`,
      headers: {
        authorization: `Bearer ${t.config.adminToken}`,
        'content-type': 'application/json',
        'x-forwarded-for': freshIp(),
      },
      payload: JSON.stringify(body),
    });

  it('POST /admin/api/subscribers/:id/messages sends, once per idempotency key, audited as the API token', async () => {
    // Daytime in every zone the pool's area codes guess: the next 17:00 UTC.
    const now = DateTime.fromJSDate(t.clock.now(), { zone: 'UTC' });
    t.clock.set(now.plus({ days: 1 }).set({ hour: 17, minute: 0 }).toJSDate());
    const { phone, sub } = await joinBySms();
    const before = t.smsTo(phone).length;
    const body = { channel: 'sms', text: 'From the API', idempotencyKey: 'api-key-0001' };
    const first = await api(sub.id, body);
    expect(first.statusCode).toBe(202);
    const r = first.json();
    expect(r).toMatchObject({ ok: true, created: true, segments: 1 });
    expect(['now', 'answering']).toContain(r.timing);
    const again = await api(sub.id, body);
    expect(again.json()).toMatchObject({ created: false, messageId: r.messageId });
    await t.settle();
    expect(
      t
        .smsTo(phone)
        .slice(before)
        .map((m) => m.body),
    ).toEqual(['From the API']);
    const audit = await t.deps.db.auditEvent.findFirstOrThrow({
      where: { action: 'message.send', target: sub.id },
    });
    expect(audit.actor).toBe('api-token');

    expect((await api(sub.id, { channel: 'fax', text: 'x' })).json()).toMatchObject({
      error: 'bad_message',
    });
    expect((await api(sub.id, { channel: 'sms', text: '' })).json()).toMatchObject({
      error: 'empty_text',
    });
    expect((await api(sub.id, { channel: 'email', text: 'x' })).statusCode).toBe(409);
    expect(
      (await api('00000000-0000-4000-8000-000000000000', { channel: 'sms', text: 'x' })).statusCode,
    ).toBe(404);
    await textViaWebhook(t, t.app, phone, 'STOP');
    const stopped = await api(sub.id, { channel: 'sms', text: 'x' });
    expect(stopped.statusCode).toBe(409);
    expect(stopped.json()).toMatchObject({ error: 'stopped' });
    const unauthorized = await t.app.inject({
      method: 'POST',
      url: `/admin/api/subscribers/${sub.id}/messages`,
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ channel: 'sms', text: 'x' }),
    });
    expect(unauthorized.statusCode).toBe(401);
  });
});

describe('with the dev outbox transports (no Twilio)', () => {
  let d: ConsoleTestbed;
  beforeAll(async () => {
    d = await consoleTestbed({
      workers: true,
      start: START,
      env: { SMS_TRANSPORT: 'outbox', EMAIL_TRANSPORT: 'outbox' },
    });
  });
  afterAll(() => d?.close());

  it('the message lands in the local outbox, readable at /dev/outbox', async () => {
    const phone = await consolePhone(d.deps.db);
    const e = await enroll(d.deps, {
      phone,
      timezone: 'America/New_York',
      confirm: true,
      evidence: { source: 'test' },
    });
    await d.settle();
    const o = await signIn(d);
    const page = await o.get(`/admin/subscribers/${e.subscriberId}`);
    const text = 'Hi, it is Steady. A short note from our team <3';
    const res = await o.post(`/admin/subscribers/${e.subscriberId}/messages`, {
      channel: 'sms',
      text,
      key: formKey(page.body),
      intent: 'send',
    });
    expect(res.statusCode).toBe(303);
    await d.settle();
    const json = await d.app.inject({
      method: 'GET',
      url: `/dev/outbox.json?to=${encodeURIComponent(phone)}`,
    });
    expect(json.statusCode).toBe(200);
    const items = json.json() as { body: string; channel: string }[];
    expect(items.map((i) => i.body)).toContain(text);
    const html = await d.app.inject({
      method: 'GET',
      url: `/dev/outbox?to=${encodeURIComponent(phone)}`,
    });
    expect(html.body).toContain('A short note from our team &lt;3');
    expect(d.smsTo(phone)).toEqual([]);
  });
});
