// Quiet hours at the last moment: a program message claimed before 21:00 local that the real
// workers only get to after it (a backlog, a retry) is not sent then but at the end of the quiet
// hours (08:00 local), its row still queued meanwhile, also when Redis loses its job; answers to a
// person's own message and safety messages still go out at once. Real workers, the real Twilio SDK
// against the fake Twilio API, SMTP to the local sink, on the harness's fake clock.
import type { FastifyInstance } from 'fastify';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimDueSteps } from '../../src/flows/claim-due.ts';
import { enroll } from '../../src/flows/enroll.ts';
import { createOutbound, enqueueSends } from '../../src/flows/outbound.ts';
import { requeueLost } from '../../src/flows/sweep.ts';
import { buildApp } from '../../src/http/app.ts';
import { metrics } from '../../src/metrics.ts';
import { sendJobId } from '../../src/queues.ts';
import { freshEmail, freshPhone, ownDatabase } from '../support/db.ts';
import type { FakeTwilioMessage } from '../support/fake-twilio.ts';
import { harness, waitFor, type Harness } from '../support/harness.ts';
import { postToTwilioWebhook } from '../support/twilio-post.ts';

const NY = 'America/New_York';
/** An instant given as New York wall time, e.g. local('2026-05-04T20:55'). */
const local = (wall: string) => DateTime.fromISO(wall, { zone: NY }).toJSDate();

let h: Harness;
let app: FastifyInstance;
/** The fake clock's time when the fake Twilio API took each message (by index in `messages`). */
const clockAtTwilio = new Map<number, Date>();
/** Makes the next Messages request fail with a 500 once, after moving the clock (a slow failure). */
let failNextAndMoveClockTo: Date | null = null;

beforeAll(async () => {
  h = await harness({
    start: '2026-05-04T13:00:00Z', // Monday 09:00 in New York
    env: { DATABASE_URL: await ownDatabase('quiet_send') },
  });
  app = await buildApp(h.deps);
  h.twilio.setBehavior(() => {
    if (failNextAndMoveClockTo) {
      h.clock.set(failNextAndMoveClockTo);
      failNextAndMoveClockTo = null;
      return { status: 500, code: 20500 };
    }
    // Answered synchronously after this: the message takes the next index.
    clockAtTwilio.set(h.twilio.messages.length, h.clock.now());
    return null;
  });
});
afterAll(async () => {
  await app?.close();
  await h?.close();
});

const sentAtClock = (m: FakeTwilioMessage) => clockAtTwilio.get(h.twilio.messages.indexOf(m));
const deferrals = (channel: string, kind: string) =>
  metrics.get('steady_quiet_hours_deferrals_total', { channel, kind });

async function enrolledSms() {
  const phone = await freshPhone(h.deps.db);
  const r = await enroll(h.deps, { phone, timezone: NY, confirm: true, evidence: { source: 't' } });
  await h.settle(); // the welcome
  expect(h.smsTo(phone)).toHaveLength(1);
  return { ...r, phone };
}

/** The enrollment's next step falls due at `due` (as if the program had planned it then). */
async function dueAt(enrollmentId: string, due: Date) {
  await h.deps.db.enrollment.update({
    where: { id: enrollmentId },
    data: { nextRunAt: due, lastSentDay: null },
  });
}

const stepMessage = (enrollmentId: string) =>
  h.deps.db.message.findFirstOrThrow({ where: { enrollmentId, step: { not: null } } });

describe('a program message that reaches the worker in quiet hours', () => {
  it('claimed at 20:55, reached at 21:05 behind a backlog: sent at 08:00 the next morning, not at 21:05', async () => {
    const r = await enrolledSms();
    await dueAt(r.enrollmentId, local('2026-05-04T20:50'));
    const before = deferrals('sms', 'nudge');

    // The workers are busy elsewhere (paused) when the step is claimed at 20:55 ...
    h.clock.set(local('2026-05-04T20:55'));
    await h.pauseWorkers();
    try {
      const tick = await claimDueSteps(h.deps);
      expect(tick.queued).toBeGreaterThanOrEqual(1);
      // ... and only get to it at 21:05.
      h.clock.set(local('2026-05-04T21:05'));
    } finally {
      h.resumeWorkers();
    }
    await h.settle();

    const m = await stepMessage(r.enrollmentId);
    expect(m.kind).toBe('nudge');
    expect(h.smsTo(r.phone)).toHaveLength(1); // the welcome only: nothing went out at 21:05
    expect(m).toMatchObject({ status: 'queued', sentAt: null, error: null, attempts: 0 });
    expect(m.dueAt).toEqual(local('2026-05-05T08:00'));
    expect(await h.deps.queues.sms.getJobState(sendJobId(m.id))).toBe('delayed');
    expect(deferrals('sms', 'nudge')).toBe(before + 1);
    // It is the next local day's program message: the next step cannot come the same day.
    const e = await h.deps.db.enrollment.findUniqueOrThrow({ where: { id: r.enrollmentId } });
    expect(e.lastSentDay).toBe('2026-05-05');

    h.clock.set(local('2026-05-05T07:59'));
    await h.settle();
    expect(h.smsTo(r.phone)).toHaveLength(1);

    h.clock.set(local('2026-05-05T08:00'));
    await h.settle();
    const sms = h.smsTo(r.phone);
    expect(sms).toHaveLength(2);
    expect(sentAtClock(sms[1]!)).toEqual(local('2026-05-05T08:00'));
    const sent = await h.deps.db.message.findUniqueOrThrow({ where: { id: m.id } });
    expect(sent).toMatchObject({ status: 'sent', providerId: sms[1]!.sid, attempts: 1 });
    expect(sent.sentAt).toEqual(local('2026-05-05T08:00'));
    expect(deferrals('sms', 'nudge')).toBe(before + 1);
  });

  it('a retry that comes after 21:00 (the provider failed at 20:59) waits for 08:00 too', async () => {
    const r = await enrolledSms();
    await dueAt(r.enrollmentId, local('2026-05-05T20:55'));
    h.clock.set(local('2026-05-05T20:59'));
    // Twilio answers the first try with a 500, and by then it is 21:01.
    failNextAndMoveClockTo = local('2026-05-05T21:01');
    await claimDueSteps(h.deps);
    await h.settle();

    expect(failNextAndMoveClockTo).toBeNull(); // the first try did reach the provider
    const m = await stepMessage(r.enrollmentId);
    expect(h.smsTo(r.phone)).toHaveLength(1);
    expect(m).toMatchObject({ status: 'queued', attempts: 1 });
    expect(m.dueAt).toEqual(local('2026-05-06T08:00'));

    h.clock.set(local('2026-05-06T08:00'));
    await h.settle();
    const sms = h.smsTo(r.phone);
    expect(sms).toHaveLength(2);
    expect(sentAtClock(sms[1]!)).toEqual(local('2026-05-06T08:00'));
    expect(await h.deps.db.message.findUniqueOrThrow({ where: { id: m.id } })).toMatchObject({
      status: 'sent',
      attempts: 2,
      sentAt: local('2026-05-06T08:00'),
    });
  });

  it('a held message whose job Redis lost is rebuilt by the sweep at 08:00, not before', async () => {
    const r = await enrolledSms();
    await dueAt(r.enrollmentId, local('2026-05-06T20:50'));
    h.clock.set(local('2026-05-06T20:55'));
    await h.pauseWorkers();
    try {
      await claimDueSteps(h.deps);
      h.clock.set(local('2026-05-06T21:05'));
    } finally {
      h.resumeWorkers();
    }
    await h.settle();
    const m = await stepMessage(r.enrollmentId);
    expect(m.status).toBe('queued');
    expect(m.dueAt).toEqual(local('2026-05-07T08:00'));

    // Redis loses every job under this file's prefix.
    await h.pauseWorkers();
    try {
      await h.loseRedisKeys();
    } finally {
      h.resumeWorkers();
    }
    expect(await h.deps.queues.sms.getJobState(sendJobId(m.id))).toBe('unknown');

    // The sweep in the night leaves it alone: it is not due yet.
    h.clock.set(local('2026-05-07T02:00'));
    await requeueLost(h.deps, { staleMs: 0 });
    expect(await h.deps.queues.sms.getJobState(sendJobId(m.id))).toBe('unknown');
    await h.settle();
    expect(h.smsTo(r.phone)).toHaveLength(1);
    expect((await h.deps.db.message.findUniqueOrThrow({ where: { id: m.id } })).status).toBe(
      'queued',
    );

    // At 08:00 it queues it again, and it goes out then.
    h.clock.set(local('2026-05-07T08:00'));
    expect(await requeueLost(h.deps, { staleMs: 0 })).toBeGreaterThanOrEqual(1);
    await h.settle();
    const sms = h.smsTo(r.phone);
    expect(sms).toHaveLength(2);
    expect(sentAtClock(sms[1]!)).toEqual(local('2026-05-07T08:00'));
    expect((await h.deps.db.message.findUniqueOrThrow({ where: { id: m.id } })).sentAt).toEqual(
      local('2026-05-07T08:00'),
    );
  });

  it('an email check-in reminder that reaches the worker at 22:00 waits for 08:00', async () => {
    const email = freshEmail('quiet');
    const r = await enroll(h.deps, {
      email,
      timezone: NY,
      confirm: true,
      evidence: { source: 't' },
    });
    await h.settle();
    const mails = h.mailTo(email).length;
    const before = deferrals('email', 'system');
    // Due at 20:30 on the program lane, but the queue only gets to it at 22:00.
    h.clock.set(local('2026-05-07T22:00'));
    const send = await h.deps.db.$transaction((tx) =>
      createOutbound(
        tx,
        {
          subscriberId: r.subscriberId,
          enrollmentId: r.enrollmentId,
          channel: 'email',
          kind: 'system',
          template: 'checkin_reminder',
          lane: 'program',
          dueAt: local('2026-05-07T20:30'),
          dedupeKey: `quiet-reminder-${r.enrollmentId}`,
        },
        h.clock.now(),
      ),
    );
    await enqueueSends(h.deps.queues, [send!], h.clock.now());
    await h.settle();
    expect(h.mailTo(email)).toHaveLength(mails);
    expect(deferrals('email', 'system')).toBe(before + 1);
    const held = await h.deps.db.message.findUniqueOrThrow({ where: { id: send!.messageId } });
    expect(held).toMatchObject({ status: 'queued', dueAt: local('2026-05-08T08:00') });

    h.clock.set(local('2026-05-08T08:00'));
    await h.settle();
    expect(h.mailTo(email)).toHaveLength(mails + 1);
    expect(
      await h.deps.db.message.findUniqueOrThrow({ where: { id: send!.messageId } }),
    ).toMatchObject({ status: 'sent', sentAt: local('2026-05-08T08:00') });
  });
});

describe('answers and safety messages in quiet hours', () => {
  let sid = 0;
  /** An inbound SMS through the signed webhook; resolves once it is read and answered. */
  async function text(from: string, body: string) {
    const MessageSid = `SM${Date.now().toString(16)}${(sid++).toString().padStart(8, '0')}quiet`;
    const res = await postToTwilioWebhook(app, h.config, '/webhooks/twilio/sms', {
      MessageSid,
      From: from,
      To: '+12025550100',
      Body: body,
    });
    expect(res.statusCode).toBe(200);
    const row = await h.deps.db.message.findFirstOrThrow({
      where: { providerId: MessageSid, direction: 'in' },
    });
    await waitFor(async () =>
      Boolean((await h.deps.db.message.findUnique({ where: { id: row.id } }))?.processedAt),
    );
    await h.settle();
  }

  it('STOP is confirmed and a disclosure answered at once at 23:00, nothing held', async () => {
    const stopper = await enrolledSms();
    const disclosing = await enrolledSms();
    const before = metrics.get('steady_quiet_hours_deferrals_total', {
      channel: 'sms',
      kind: 'system',
    });
    const late = local('2026-05-08T23:00');
    h.clock.set(late);

    await text(stopper.phone, 'STOP');
    const stop = h.smsTo(stopper.phone);
    expect(stop).toHaveLength(2);
    expect(sentAtClock(stop[1]!)).toEqual(late);
    expect(
      await h.deps.db.message.findFirstOrThrow({
        where: { subscriberId: stopper.subscriberId, providerId: stop[1]!.sid },
      }),
    ).toMatchObject({ template: 'stop_confirm', status: 'sent', sentAt: late });

    await text(disclosing.phone, "he took my phone again and said he'd hurt me if I text you");
    const safety = h.smsTo(disclosing.phone);
    expect(safety).toHaveLength(2);
    expect(sentAtClock(safety[1]!)).toEqual(late);
    expect(
      await h.deps.db.message.findFirstOrThrow({
        where: { subscriberId: disclosing.subscriberId, providerId: safety[1]!.sid },
      }),
    ).toMatchObject({ kind: 'safety', template: 'safety_abuse', status: 'sent', sentAt: late });

    expect(
      metrics.get('steady_quiet_hours_deferrals_total', { channel: 'sms', kind: 'system' }),
    ).toBe(before);
    expect(deferrals('sms', 'safety')).toBe(0);
  });
});
