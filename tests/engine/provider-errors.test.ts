// Provider errors as the providers send them, through the real worker: the fake Twilio API answers
// with Twilio's status and JSON body (or resets the connection, or never answers), the real SDK
// parses it, src/channels/twilio-errors.ts maps it, and the worker's retry decision shows in the
// requests the fake received and in the message row. The same for SMTP replies from the listener.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enroll } from '../../src/flows/enroll.ts';
import { freshEmail, freshPhone, ownDatabase } from '../support/db.ts';
import type { FakeFault } from '../support/fake-twilio.ts';
import { harness, waitFor, type Harness } from '../support/harness.ts';

let h: Harness;
beforeAll(async () => {
  // Monday 09:00 in New York: no quiet hours in the way of the welcome.
  h = await harness({
    start: '2026-05-04T13:00:00Z',
    env: { DATABASE_URL: await ownDatabase('provider_errors') },
  });
});
afterAll(async () => h?.close());

/** Enrolls a fresh person (a welcome goes out at once) and returns the welcome's row once the
 * workers have finished with it. */
async function welcomeAfter(channel: 'sms' | 'email') {
  const contact =
    channel === 'sms' ? { phone: await freshPhone(h.deps.db) } : { email: freshEmail('perr') };
  const r = await enroll(h.deps, {
    ...contact,
    timezone: 'America/New_York',
    confirm: true,
    evidence: { source: 'test' },
  });
  await h.settle();
  const row = await h.deps.db.message.findFirstOrThrow({
    where: { subscriberId: r.subscriberId, template: 'welcome' },
  });
  const sub = await h.deps.db.subscriber.findUniqueOrThrow({ where: { id: r.subscriberId } });
  return { row, sub, ...contact };
}

describe('Twilio errors through the real SDK and worker', () => {
  it.each<[string, FakeFault, { status: string; error: string | null; requests: number }]>([
    [
      '21211 invalid number: failed, not retried',
      21211,
      { status: 'failed', error: 'invalid_recipient', requests: 1 },
    ],
    [
      '21614 not a mobile number: failed, not retried',
      21614,
      { status: 'failed', error: 'invalid_recipient', requests: 1 },
    ],
    [
      '21610 unsubscribed recipient: failed, opt-out recorded',
      21610,
      { status: 'failed', error: 'opted_out', requests: 1 },
    ],
    [
      '20429 too many requests: retried, then sent',
      20429,
      { status: 'sent', error: null, requests: 2 },
    ],
    ['bare 429: retried, then sent', 429, { status: 'sent', error: null, requests: 2 }],
    ['500: retried, then sent', 500, { status: 'sent', error: null, requests: 2 }],
    // The request may have reached Twilio: never retried blind; the sweep asks the provider.
    [
      'a reset connection: left sending for the sweep, not retried',
      'reset',
      { status: 'sending', error: null, requests: 1 },
    ],
    [
      'a timeout: left sending for the sweep, not retried',
      'timeout',
      { status: 'sending', error: null, requests: 1 },
    ],
  ])('%s', async (_name, fault, want) => {
    const before = h.twilio.stats.requests;
    h.twilio.failNext(fault);
    const { row, sub, phone } = await welcomeAfter('sms');
    expect(h.twilio.stats.requests - before).toBe(want.requests);
    expect({ status: row.status, error: row.error }).toEqual({
      status: want.status,
      error: want.status === 'sent' ? null : want.error,
    });
    expect(row.attempts).toBe(want.requests);
    expect(h.smsTo(phone!)).toHaveLength(want.status === 'sent' ? 1 : 0);
    if (want.status === 'sent') expect(row.providerId).toBe(h.smsTo(phone!)[0]!.sid);
    expect(sub.status).toBe(fault === 21610 ? 'stopped' : 'active');
  });

  it('a 500 on every attempt fails the message once the attempts run out', async () => {
    const before = h.twilio.stats.requests;
    h.twilio.failNext(500, 8);
    const { row, phone } = await welcomeAfter('sms');
    expect(h.twilio.stats.requests - before).toBe(8);
    expect(row).toMatchObject({ status: 'failed', error: 'provider_down', attempts: 8 });
    expect(h.smsTo(phone!)).toHaveLength(0);
  });

  it('a retry waits for its backoff: the job sits delayed until its time comes', async () => {
    h.twilio.failNext(20429);
    const phone = await freshPhone(h.deps.db);
    const r = await enroll(h.deps, {
      phone,
      timezone: 'America/New_York',
      confirm: true,
      evidence: { source: 'test' },
    });
    // Not settle(): that would run the retry at once.
    const row = await waitFor(async () => {
      const m = await h.deps.db.message.findFirst({
        where: { subscriberId: r.subscriberId, template: 'welcome', error: 'throttled' },
      });
      return m?.status === 'queued' && m;
    });
    const queue = row.lane === 'priority' ? h.deps.queues.priority : h.deps.queues.sms;
    const job = await waitFor(async () =>
      (await queue.getDelayed()).find((j) => j.data.messageId === row.id),
    );
    expect(job.attemptsMade).toBe(1);
    expect(h.smsTo(phone)).toHaveLength(0);
    await h.settle();
    expect(h.smsTo(phone)).toHaveLength(1);
  });
});

describe('SMTP replies through nodemailer and the worker', () => {
  it.each<
    [string, number, 'rcpt' | 'data', { status: string; error: string | null; attempts: number }]
  >([
    [
      '450 mailbox busy at RCPT: retried, then sent',
      450,
      'rcpt',
      { status: 'sent', error: null, attempts: 2 },
    ],
    [
      '452 too many recipients at RCPT: retried, then sent',
      452,
      'rcpt',
      { status: 'sent', error: null, attempts: 2 },
    ],
    [
      '550 no such user at RCPT: failed, not retried',
      550,
      'rcpt',
      { status: 'failed', error: 'invalid_recipient', attempts: 1 },
    ],
    [
      '554 refused at DATA: failed, not retried',
      554,
      'data',
      { status: 'failed', error: 'rejected', attempts: 1 },
    ],
    [
      '451 local error at DATA: retried, then sent',
      451,
      'data',
      { status: 'sent', error: null, attempts: 2 },
    ],
  ])('%s', async (_name, code, stage, want) => {
    h.smtp.failNext(code, { stage });
    const { row, email } = await welcomeAfter('email');
    expect({ status: row.status, error: row.error, attempts: row.attempts }).toEqual({
      ...want,
      error: want.status === 'sent' ? null : want.error,
    });
    expect(h.mailTo(email!)).toHaveLength(want.status === 'sent' ? 1 : 0);
  });
});
