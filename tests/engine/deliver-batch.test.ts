// Deliveries share batched statements (src/flows/delivery-store.ts). Many at once, and the same
// message twice at once, must still mean one send per message, each row recorded as before.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimDueSteps } from '../../src/flows/claim-due.ts';
import { deliver } from '../../src/flows/deliver.ts';
import { enroll } from '../../src/flows/enroll.ts';
import { freshPhone, ownDatabase } from '../support/db.ts';
import { harness, type Harness } from '../support/harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await harness({
    start: '2026-05-04T13:00:00Z',
    env: { DATABASE_URL: await ownDatabase('deliver_batch') },
  });
});
afterAll(async () => h?.close());

describe('batched delivery', () => {
  it('sends each of many concurrent messages once, even when asked twice at the same moment', async () => {
    const people = [];
    for (let i = 0; i < 6; i++) {
      const phone = await freshPhone(h.deps.db);
      people.push(
        await enroll(h.deps, {
          phone,
          timezone: 'America/New_York',
          confirm: true,
          evidence: { source: 'test' },
        }),
      );
    }
    await h.settle(); // the welcomes, through the workers
    // From here the test calls deliver itself, twice per message at once: the workers stand by.
    await h.pauseWorkers();
    // Half of them are at a check-in step, so sending it must open the check-in too.
    for (const [i, p] of people.entries())
      await h.deps.db.enrollment.update({
        where: { id: p.enrollmentId },
        data: { nextStep: i % 2 ? 'w1-checkin' : 'w1-d1', nextRunAt: h.clock.now() },
      });
    const tick = await claimDueSteps(h.deps);
    expect(tick.queued).toBeGreaterThanOrEqual(people.length);
    const rows = await h.deps.db.message.findMany({
      where: { enrollmentId: { in: people.map((p) => p.enrollmentId) }, step: { not: null } },
    });
    expect(rows).toHaveLength(people.length);

    const before = h.twilio.messages.length;
    const outcomes = await Promise.all(
      rows.flatMap((m) => [deliver(h.deps, m.id), deliver(h.deps, m.id)]),
    );
    for (let i = 0; i < rows.length; i++)
      expect([outcomes[2 * i], outcomes[2 * i + 1]].sort()).toEqual(['sent', 'skipped']);
    // What the fake Twilio API received through the real SDK: one request per message.
    const sent = h.twilio.messages.slice(before);
    expect(sent).toHaveLength(rows.length);
    expect(new Set(sent.map((m) => m.to)).size).toBe(rows.length);

    const after = await h.deps.db.message.findMany({
      where: { id: { in: rows.map((m) => m.id) } },
    });
    for (const m of after) {
      expect(m).toMatchObject({ status: 'sent', attempts: 1, error: null });
      expect(sent.map((s) => s.sid)).toContain(m.providerId);
      expect(m.sentAt?.getTime()).toBe(h.clock.now().getTime());
      expect(m.body).toBeTruthy();
    }
    const checkins = await h.deps.db.checkin.findMany({
      where: { messageId: { in: rows.map((m) => m.id) } },
    });
    expect(checkins.map((c) => c.step).sort()).toEqual(
      after
        .filter((m) => m.kind === 'checkin')
        .map((m) => m.step)
        .sort(),
    );
    expect(checkins.length).toBe(people.length / 2);
    // Sending again changes nothing: the rows are sent.
    expect(await deliver(h.deps, rows[0]!.id)).toBe('skipped');
    h.resumeWorkers();
    await h.settle(); // the jobs claimDueSteps queued find their rows sent
    expect(h.twilio.messages.slice(before)).toHaveLength(rows.length);
  });

  it('skips an id that is not a message', async () => {
    expect(await deliver(h.deps, '00000000-0000-4000-8000-000000000000')).toBe('skipped');
    expect(await deliver(h.deps, 'not-a-uuid')).toBe('skipped');
  });
});
