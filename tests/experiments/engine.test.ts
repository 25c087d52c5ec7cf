// The real path: people enrolled by SMS reach a step with variants; the scheduler's claim records
// each one's variant on the message row, and the real workers send that variant's text through
// the real Twilio SDK to the local fake Twilio API.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assignVariant } from '../../src/core/experiments.ts';
import { claimDueSteps } from '../../src/flows/claim-due.ts';
import { enroll } from '../../src/flows/enroll.ts';
import { freshPhone, ownDatabase } from '../support/db.ts';
import { harness, type Harness } from '../support/harness.ts';
import { addExperiment } from './support.ts';

const STEP = 'w3-d0';
const TEXTS = {
  a: 'Week 3, variant A.\nThe first wording of this step, sent to about half of the people.',
  b: 'Week 3, variant B.\nThe second wording of this step, sent to the other half.',
};

let h: Harness;
beforeAll(async () => {
  // Monday 2026-05-04 10:00 in New York: inside the hours steps are sent.
  h = await harness({
    start: '2026-05-04T14:00:00Z',
    env: { DATABASE_URL: await ownDatabase('experiments_engine') },
  });
  addExperiment(h.deps, STEP, TEXTS);
  await h.deps.db.experimentVariantEnded.deleteMany({});
}, 60_000);
afterAll(async () => h?.close());

describe('a step with variants', () => {
  it('records each person’s variant on the message row and sends that variant’s text', async () => {
    const people: { phone: string; enrollmentId: string }[] = [];
    for (let i = 0; i < 16; i++) {
      const phone = await freshPhone(h.deps.db);
      const r = await enroll(h.deps, {
        phone,
        timezone: 'America/New_York',
        confirm: true,
        evidence: { source: 'test' },
      });
      people.push({ phone, enrollmentId: r.enrollmentId });
    }
    await h.settle(); // the welcomes
    // Everyone is due at the experiment's step now (a day with nothing sent yet).
    await h.deps.db.enrollment.updateMany({
      where: { id: { in: people.map((p) => p.enrollmentId) } },
      data: { nextStep: STEP, nextRunAt: h.clock.now(), lastSentDay: null },
    });
    await claimDueSteps(h.deps);
    await h.settle();

    const seen = new Set<string>();
    for (const p of people) {
      const row = await h.deps.db.message.findFirstOrThrow({
        where: { enrollmentId: p.enrollmentId, step: STEP },
      });
      const expected = assignVariant(p.enrollmentId, STEP, [
        { name: 'a', weight: 1 },
        { name: 'b', weight: 1 },
      ]);
      expect(row.variant).toBe(expected);
      expect(row.status).toBe('sent');
      const sent = h.smsTo(p.phone).map((m) => m.body);
      const body = sent.find((t) => t.startsWith('Week 3, variant'));
      expect(body).toBe(TEXTS[row.variant as 'a' | 'b']);
      seen.add(row.variant!);
    }
    // 16 people split by a hash: both variants went out (all on one side: 1 in 32,768).
    expect(seen).toEqual(new Set(['a', 'b']));

    // A second claim (a restart, another scheduler) writes nothing new and changes nothing.
    const before = await h.deps.db.message.findMany({
      where: { step: STEP },
      select: { id: true, variant: true },
      orderBy: { id: 'asc' },
    });
    await claimDueSteps(h.deps);
    await h.settle();
    const after = await h.deps.db.message.findMany({
      where: { step: STEP },
      select: { id: true, variant: true },
      orderBy: { id: 'asc' },
    });
    expect(after).toEqual(before);
  }, 120_000);
});
