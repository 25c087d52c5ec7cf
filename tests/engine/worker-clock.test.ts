// The real workers on a fake clock. BullMQ delays run on real time, so a send due hours later on
// the program clock (a reminder that waits out quiet hours) sits delayed; the harness runs it once
// its `dueAt` has come on the fake clock, and the worker stamps it with that clock's time.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enroll } from '../../src/flows/enroll.ts';
import { createOutbound, enqueueSends } from '../../src/flows/outbound.ts';
import { sendJobId } from '../../src/queues.ts';
import { freshPhone, ownDatabase } from '../support/db.ts';
import { harness, type Harness } from '../support/harness.ts';

let h: Harness;
beforeAll(async () => {
  // Monday 22:00 in New York: quiet hours.
  h = await harness({
    start: '2026-05-05T02:00:00Z',
    env: { DATABASE_URL: await ownDatabase('worker_clock') },
  });
});
afterAll(async () => h?.close());

describe('workers on a fake clock', () => {
  it('a send due later on the program clock waits for that time, then goes out stamped with it', async () => {
    const phone = await freshPhone(h.deps.db);
    const r = await enroll(h.deps, {
      phone,
      timezone: 'America/New_York',
      confirm: true,
      evidence: { source: 'test' },
    });
    await h.settle();
    const before = h.smsTo(phone).length;
    const now = h.clock.now();
    const dueAt = new Date(now.getTime() + 10 * 3600_000); // 08:00 the next morning
    const send = await h.deps.db.$transaction((tx) =>
      createOutbound(
        tx,
        {
          subscriberId: r.subscriberId,
          enrollmentId: r.enrollmentId,
          channel: 'sms',
          kind: 'system',
          template: 'checkin_reminder',
          lane: 'program',
          dueAt,
          dedupeKey: `clock-${r.enrollmentId}`,
        },
        now,
      ),
    );
    await enqueueSends(h.deps.queues, [send!], now);

    await h.settle();
    expect(await h.deps.queues.sms.getJobState(sendJobId(send!.messageId))).toBe('delayed');
    expect(h.smsTo(phone)).toHaveLength(before);

    h.clock.advance({ hours: 9, minutes: 59 });
    await h.settle();
    expect(h.smsTo(phone)).toHaveLength(before);

    h.clock.advance({ minutes: 1 });
    await h.settle();
    expect(h.smsTo(phone)).toHaveLength(before + 1);
    const row = await h.deps.db.message.findUniqueOrThrow({ where: { id: send!.messageId } });
    expect(row.status).toBe('sent');
    expect(row.sentAt).toEqual(dueAt);
  });
});
