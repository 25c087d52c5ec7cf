// Ending a variant from the console: the page lists the experiment, the form (signed in, with
// its CSRF token) ends the variant, the audit records who did it, new assignments skip it and
// assignments already made keep it. The JSON API does the same with the bearer token.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimDueSteps } from '../../src/flows/claim-due.ts';
import { consolePhone, consoleTestbed, signIn, type ConsoleTestbed } from '../admin/helpers.ts';
import { ownDatabase } from '../support/db.ts';
import { addExperiment } from './support.ts';

const STEP = 'w3-d0';
let t: ConsoleTestbed;
let program: string;

beforeAll(async () => {
  // Monday 2026-05-04 10:00 in New York.
  t = await consoleTestbed({
    start: '2026-05-04T14:00:00Z',
    env: { DATABASE_URL: await ownDatabase('experiments_console') },
  });
  program = addExperiment(t.deps, STEP, {
    a: 'Week 3, first wording.\nA plain idea for today.',
    b: 'Week 3, second wording.\nAnother plain idea for today.',
  });
  // The database is kept between runs: start with no variant ended.
  await t.deps.db.experimentVariantEnded.deleteMany({});
}, 60_000);
afterAll(async () => t?.close());

/** `n` people whose next step is the experiment's, due now; returns their enrollment ids. */
async function dueAtStep(n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const sub = await t.deps.db.subscriber.create({
      data: {
        phone: await consolePhone(t.deps.db),
        timezone: 'America/New_York',
        status: 'active',
      },
    });
    const e = await t.deps.db.enrollment.create({
      data: {
        subscriberId: sub.id,
        program,
        channel: 'sms',
        state: 'active',
        nextStep: STEP,
        nextRunAt: t.clock.now(),
        startedAt: new Date(t.clock.now().getTime() - 14 * 86_400_000),
      },
    });
    ids.push(e.id);
  }
  await claimDueSteps(t.deps);
  return ids;
}

async function variantsOf(ids: string[]): Promise<(string | null)[]> {
  const rows = await t.deps.db.message.findMany({
    where: { enrollmentId: { in: ids }, step: STEP },
    select: { enrollmentId: true, variant: true },
  });
  expect(rows).toHaveLength(ids.length);
  return ids.map((id) => rows.find((r) => r.enrollmentId === id)!.variant);
}

describe('the experiments page', () => {
  it('ends a variant through the form: audited, new assignments skip it, old ones keep it', async () => {
    const first = await dueAtStep(16);
    const before = await variantsOf(first);
    expect(new Set(before)).toEqual(new Set(['a', 'b'])); // 16 people: both (1 in 32,768 not)

    const op = await signIn(t);
    const pageRes = await op.get('/admin/experiments');
    expect(pageRes.statusCode).toBe(200);
    expect(pageRes.headers['content-security-policy']).toBeDefined();
    expect(pageRes.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // no inline scripts
    expect(pageRes.body).toContain(`${program} · ${STEP}`);
    expect(pageRes.body).toMatch(/Reply rate: not enough data/);
    const buttons = (html: string) =>
      html.match(new RegExp(`aria-label="End variant [a-z] of ${STEP}"`, 'g')) ?? [];
    expect(buttons(pageRes.body)).toHaveLength(2);

    // Without the CSRF token: refused, nothing ended.
    const forged = await op.post(
      '/admin/experiments/end',
      { program, step: STEP, variant: 'b' },
      { csrf: false },
    );
    expect(forged.statusCode).toBe(403);
    expect(await t.deps.db.experimentVariantEnded.count()).toBe(0);

    const res = await op.post('/admin/experiments/end', { program, step: STEP, variant: 'b' });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/admin/experiments?done=variant-ended');
    const ended = await t.deps.db.experimentVariantEnded.findMany();
    expect(ended).toMatchObject([{ program, step: STEP, variant: 'b' }]);
    const audit = await t.deps.db.auditEvent.findFirstOrThrow({
      where: { action: 'experiment.end_variant', target: `${program}/${STEP}/b` },
    });
    expect(audit.actor).toBe(ended[0]!.endedBy);
    expect(audit.actor).toMatch(/\S/);
    expect(audit.detail).toMatchObject({ via: 'console', variant: 'b' });

    // Assignments already made keep their variant; new ones all go to a.
    expect(await variantsOf(first)).toEqual(before);
    const second = await dueAtStep(12);
    expect(await variantsOf(second)).toEqual(Array(12).fill('a'));

    // The last variant running cannot be ended; the page says why and shows who ended b.
    const last = await op.post('/admin/experiments/end', { program, step: STEP, variant: 'a' });
    expect(last.headers.location).toBe('/admin/experiments?failed=last_variant');
    const after = await op.get(last.headers.location as string);
    expect(after.body).toMatch(/the last variant running for the step/);
    expect(after.body).toMatch(/ended <time/);
    expect(buttons(after.body)).toHaveLength(0);
    expect(await t.deps.db.experimentVariantEnded.count()).toBe(1);
  }, 120_000);
});

describe('the JSON API', () => {
  const bearer = () => ({ authorization: `Bearer ${t.config.adminToken}` });

  it('reports the experiments, ends a variant once, and audits it as the token', async () => {
    addExperiment(t.deps, 'w4-d0', { a: 'Week 4, one.\nText.', b: 'Week 4, two.\nText.' });
    const list = await t.app.inject({
      method: 'GET',
      url: '/admin/api/experiments',
      headers: bearer(),
    });
    expect(list.statusCode).toBe(200);
    const report = list.json() as {
      minNPerVariant: number;
      experiments: { program: string; step: string; variants: { name: string; n: number }[] }[];
    };
    expect(report.minNPerVariant).toBe(30);
    const mine = report.experiments.find((e) => e.program === program && e.step === 'w4-d0');
    expect(mine?.variants).toMatchObject([
      { name: 'a', n: 0 },
      { name: 'b', n: 0 },
    ]);

    const end = () =>
      t.app.inject({
        method: 'POST',
        url: '/admin/api/experiments/end',
        headers: bearer(),
        payload: { program, step: 'w4-d0', variant: 'b' },
      });
    const first = await end();
    expect(first.statusCode).toBe(200);
    expect(first.json()).toMatchObject({ ok: true, program, step: 'w4-d0', variant: 'b' });
    const again = await end();
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ error: 'already_ended' });
    expect(
      await t.deps.db.auditEvent.count({
        where: {
          action: 'experiment.end_variant',
          actor: 'api-token',
          target: `${program}/w4-d0/b`,
        },
      }),
    ).toBe(1);

    const unknown = await t.app.inject({
      method: 'POST',
      url: '/admin/api/experiments/end',
      headers: bearer(),
      payload: { program, step: 'w4-d0', variant: 'zz' },
    });
    expect(unknown.statusCode).toBe(404);
    const bad = await t.app.inject({
      method: 'POST',
      url: '/admin/api/experiments/end',
      headers: bearer(),
      payload: { program },
    });
    expect(bad.statusCode).toBe(400);
    const noToken = await t.app.inject({ method: 'GET', url: '/admin/api/experiments' });
    expect(noToken.statusCode).toBe(401);
  });
});
