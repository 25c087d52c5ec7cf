// The abuse caps on sign-ups and on answers to strangers, on the real path (the signed Twilio
// webhook, the sign-up form, the real workers, the twilio SDK against the fake Twilio API, SMTP to
// the local listener): each channel's hourly cap on new pending people counts only its own
// people, concurrent JOINs never overshoot the SMS cap, and a flood of HELP gets a few answers.
// The caps count across the whole subscribers table, so this file has a database of its own.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HELP_LIMITS } from '../../src/core/decide.ts';
import { metrics } from '../../src/metrics.ts';
import { freshEmail, freshPhone, ownDatabase } from '../support/db.ts';
import { waitFor } from '../support/harness.ts';
import { postToTwilioWebhook } from '../support/twilio-post.ts';
import { emailTestbed, postForm, type EmailTestbed } from '../email/helpers.ts';

const SMS_CAP = 5;
// The web cap is the larger, so a full web cap alone would have filled a cap shared by both.
const EMAIL_CAP = 6;

let t: EmailTestbed;
let app: FastifyInstance;
let sid = 0;

beforeAll(async () => {
  t = await emailTestbed({
    start: '2026-05-04T14:00:00Z', // Monday 10:00 in New York
    env: {
      DATABASE_URL: await ownDatabase('signup_caps'),
      PENDING_CAP_PER_HOUR: String(SMS_CAP),
      EMAIL_PENDING_CAP_PER_HOUR: String(EMAIL_CAP),
    },
  });
  app = t.app;
});
afterAll(async () => {
  await t?.close();
});

// Every test starts from no pending people at all (this database is this file's alone), so each
// cap starts empty whatever an earlier test or run left behind.
beforeEach(async () => {
  await t.deps.db.subscriber.deleteMany({ where: { status: 'pending' } });
});

const messageSid = () => `SM${Date.now().toString(16)}${(sid++).toString().padStart(8, '0')}caps`;

/** Posts one inbound SMS through the signed webhook; returns its MessageSid. */
async function post(from: string, body: string): Promise<string> {
  const params = { MessageSid: messageSid(), From: from, To: '+12025550100', Body: body };
  const res = await postToTwilioWebhook(app, t.config, '/webhooks/twilio/sms', params);
  expect(res.statusCode).toBe(200);
  return params.MessageSid;
}

/** Waits until the workers have read these inbound messages and sent every answer. */
async function processed(sids: string[]): Promise<void> {
  await waitFor(
    async () =>
      (await t.deps.db.message.count({
        where: { providerId: { in: sids }, direction: 'in', processedAt: { not: null } },
      })) === sids.length,
    { timeout: 20_000 },
  );
  await t.settle();
}

async function text(from: string, body: string): Promise<void> {
  await processed([await post(from, body)]);
}

/** Templates of the answers that went out to a number, known or not. */
async function answersTo(phone: string): Promise<(string | null)[]> {
  const sub = await t.deps.db.subscriber.findFirst({ where: { phone } });
  const rows = await t.deps.db.message.findMany({
    where: {
      direction: 'out',
      OR: [{ toAddr: phone }, ...(sub ? [{ subscriberId: sub.id }] : [])],
    },
    orderBy: { createdAt: 'asc' },
  });
  return rows.map((r) => r.template);
}

const signUp = (email: string) => postForm(t, '/subscribe', { email, timezone: 'America/Chicago' });

describe('each channel has its own cap on new pending people', () => {
  it('a full web sign-up cap leaves SMS JOIN alone: the opt-in confirmation goes out', async () => {
    t.clock.set(new Date('2026-06-01T15:00:00Z'));
    const before = metrics.get('steady_signup_cap_hits_total', { cap: 'email_pending_per_hour' });
    // More pending web sign-ups this hour than the SMS cap allows new numbers.
    expect(EMAIL_CAP).toBeGreaterThanOrEqual(SMS_CAP);
    const emails = Array.from({ length: EMAIL_CAP }, () => freshEmail('cap'));
    for (const email of emails) expect((await signUp(email)).statusCode).toBe(200);
    await t.settle();
    const pendingEmail = await t.deps.db.subscriber.count({
      where: { email: { in: emails }, status: 'pending' },
    });
    expect(pendingEmail).toBe(EMAIL_CAP);
    for (const email of emails) expect(t.mailTo(email)).toHaveLength(1);

    // The web cap is full: the next address (and a known one alike) is asked to come back later.
    const late = freshEmail('cap-late');
    const refused = await signUp(late);
    expect(refused.statusCode).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(60);
    expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(3600);
    expect((await signUp(emails[0]!)).statusCode).toBe(429);
    expect(await t.deps.db.subscriber.count({ where: { email: late } })).toBe(0);
    expect(metrics.get('steady_signup_cap_hits_total', { cap: 'email_pending_per_hour' })).toBe(
      before + 2,
    );

    // SMS counts only SMS people: a new number that texts JOIN is asked to confirm, as always.
    const phone = await freshPhone(t.deps.db);
    await text(phone, 'JOIN');
    const sub = await t.deps.db.subscriber.findFirst({ where: { phone } });
    expect(sub?.status).toBe('pending');
    expect(await answersTo(phone)).toEqual(['optin_confirm']);
    const sent = t.smsTo(phone);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.body).toMatch(/YES/);
    // Up to the SMS cap, whatever the web form did this hour.
    const others: string[] = [];
    for (let i = 0; i < SMS_CAP - 1; i++) others.push(await freshPhone(t.deps.db));
    await processed(await Promise.all(others.map((p) => post(p, 'JOIN'))));
    for (const p of others) expect(t.smsTo(p)).toHaveLength(1);

    // ...and the SMS cap, now full, leaves the web form alone once its own hour has passed.
    t.clock.set(new Date(t.clock.now().getTime() + 61 * 60_000));
    await t.deps.db.subscriber.updateMany({
      where: { phone: { in: [...others, phone] } },
      data: { createdAt: t.clock.now() },
    });
    const nextHour = freshEmail('cap-next');
    expect((await signUp(nextHour)).statusCode).toBe(200);
    await t.settle();
    expect(t.mailTo(nextHour)).toHaveLength(1);
    const extra = await freshPhone(t.deps.db);
    await text(extra, 'JOIN');
    expect(await t.deps.db.subscriber.count({ where: { phone: extra } })).toBe(0);
    expect(t.smsTo(extra)).toHaveLength(0);
  });
});

describe('the SMS cap under concurrent JOINs', () => {
  it(`cap ${SMS_CAP}: ${SMS_CAP + 10} JOINs at once from new numbers create exactly ${SMS_CAP} people`, async () => {
    t.clock.set(new Date('2026-06-08T15:00:00Z'));
    const before = metrics.get('steady_signup_cap_hits_total', { cap: 'pending_per_hour' });
    const phones: string[] = [];
    for (let i = 0; i < SMS_CAP + 10; i++) phones.push(await freshPhone(t.deps.db));
    // All recorded first, then the workers start on them together (as many at once as the inbound
    // worker runs), so the count-and-create of several JOINs overlap.
    await t.pauseWorkers();
    let sids: string[];
    try {
      sids = await Promise.all(phones.map((p) => post(p, 'JOIN')));
    } finally {
      t.resumeWorkers();
    }
    await processed(sids);

    const created = await t.deps.db.subscriber.findMany({
      where: { phone: { in: phones } },
      include: { enrollments: true },
    });
    expect(created).toHaveLength(SMS_CAP);
    for (const s of created) {
      expect(s.status).toBe('pending');
      expect(s.enrollments.map((e) => e.channel)).toEqual(['sms']);
    }
    expect(await t.deps.db.subscriber.count({ where: { status: 'pending' } })).toBe(SMS_CAP);
    // One opt-in each for the people created; nothing for the numbers past the cap.
    const confirmed = phones.filter((p) => t.smsTo(p).length > 0);
    expect(confirmed.sort()).toEqual(created.map((s) => s.phone).sort());
    for (const p of confirmed) expect(t.smsTo(p)).toHaveLength(1);
    expect(metrics.get('steady_signup_cap_hits_total', { cap: 'pending_per_hour' })).toBe(
      before + 10,
    );
  });
});

describe('JOINs from one number at once', () => {
  it('make one pending person and one opt-in text, and every message is read', async () => {
    t.clock.set(new Date('2026-06-10T15:00:00Z'));
    const phone = await freshPhone(t.deps.db);
    await t.pauseWorkers();
    let sids: string[];
    try {
      sids = await Promise.all(Array.from({ length: 4 }, () => post(phone, 'JOIN')));
    } finally {
      t.resumeWorkers();
    }
    await processed(sids);
    const sub = await t.deps.db.subscriber.findFirstOrThrow({ where: { phone } });
    expect(sub.status).toBe('pending');
    expect(t.smsTo(phone)).toHaveLength(1);
    // Each JOIN belongs to the one person now, however the race went.
    expect(
      await t.deps.db.message.count({
        where: { providerId: { in: sids }, subscriberId: sub.id },
      }),
    ).toBe(4);
  });
});

describe('HELP answers per number', () => {
  it('an unknown number that floods HELP gets a few answers an hour and a day, never more', async () => {
    t.clock.set(new Date('2026-06-15T14:00:00Z'));
    const phone = await freshPhone(t.deps.db);
    const before = metrics.get('steady_replies_limited_total', { template: 'help' });
    const helps = () => t.smsTo(phone).filter((m) => /STOP/.test(m.body));
    // One after another, as a phone sends them: 10 in the first hour, 3 answered.
    for (let i = 0; i < 10; i++) await text(phone, i % 2 ? 'HELP' : 'info');
    expect(helps()).toHaveLength(HELP_LIMITS.perHour);
    expect(await answersTo(phone)).toEqual(Array(HELP_LIMITS.perHour).fill('help'));
    // Four more hours of it: 3 more each hour until 10 in the day, then none.
    for (let hour = 1; hour <= 4; hour++) {
      t.clock.set(new Date(t.clock.now().getTime() + 61 * 60_000));
      for (let i = 0; i < 6; i++) await text(phone, 'HELP');
    }
    expect(helps()).toHaveLength(HELP_LIMITS.perDay);
    // And a burst of 40 at once (recorded together, read concurrently) adds nothing.
    const burst = await Promise.all(Array.from({ length: 40 }, () => post(phone, 'HELP')));
    await processed(burst);
    expect(helps()).toHaveLength(HELP_LIMITS.perDay);
    expect(await t.deps.db.subscriber.count({ where: { phone } })).toBe(0);
    expect(metrics.get('steady_replies_limited_total', { template: 'help' })).toBe(
      before + 10 + 4 * 6 + 40 - HELP_LIMITS.perDay,
    );
    // Other text from the same stranger: the how-to-join answer, once a day, as before.
    for (let i = 0; i < 5; i++) await text(phone, 'hello? who is this');
    expect((await answersTo(phone)).filter((x) => x === 'how_to_join')).toHaveLength(1);
    // A day after the first answers, HELP is answered again.
    t.clock.set(new Date('2026-06-16T14:30:00Z'));
    await text(phone, 'HELP');
    expect(helps()).toHaveLength(HELP_LIMITS.perDay + 1);
  });

  it('a concurrent burst of HELP from a new number gets at most a few answers', async () => {
    t.clock.set(new Date('2026-06-22T14:00:00Z'));
    const phone = await freshPhone(t.deps.db);
    await t.pauseWorkers();
    let sids: string[];
    try {
      sids = await Promise.all(Array.from({ length: 60 }, () => post(phone, 'HELP')));
    } finally {
      t.resumeWorkers();
    }
    await processed(sids);
    const answered = t.smsTo(phone).length;
    expect(answered).toBeGreaterThanOrEqual(1);
    // Read in parallel (the inbound worker runs several at once), a few may pass together before
    // the first answers are written; never more than the hour's share and one round of workers.
    expect(answered).toBeLessThanOrEqual(HELP_LIMITS.perHour + 4);
  });

  it('the HELP limit never holds back a STOP confirmation or a safety message', async () => {
    t.clock.set(new Date('2026-06-29T14:00:00Z'));
    const phone = await freshPhone(t.deps.db);
    await text(phone, 'JOIN');
    await text(phone, 'YES');
    expect((await t.deps.db.subscriber.findFirstOrThrow({ where: { phone } })).status).toBe(
      'active',
    );
    for (let i = 0; i < HELP_LIMITS.perHour + 3; i++) await text(phone, 'HELP');
    expect((await answersTo(phone)).filter((x) => x === 'help')).toHaveLength(HELP_LIMITS.perHour);
    await text(phone, 'he hit me and I am scared');
    await text(phone, 'STOP');
    const answers = await answersTo(phone);
    expect(answers).toContain('safety_abuse');
    expect(answers).toContain('stop_confirm');
    expect((await t.deps.db.subscriber.findFirstOrThrow({ where: { phone } })).status).toBe(
      'stopped',
    );
  });
});
