// `experiments --json` as a real CLI process, on a database of its own seeded with known effects:
// a clear one is named, equal variants are not, and too few people give "not enough data".
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type Db } from '../../src/db/client.ts';
import type { ExperimentsReport, StepReport } from '../../src/flows/experiments.ts';
import { startCli } from '../support/cli-process.ts';
import { ownDatabase } from '../support/db.ts';
import { TEST_REDIS_URL } from '../support/env.ts';
import { seedExperiment } from './seed.ts';

let url: string;
let db: Db;
beforeAll(async () => {
  url = await ownDatabase('experiments_cli');
  db = createDb(url, { max: 2 });
  // Start afresh: the same database is reused by the next run.
  await db.$executeRaw`DELETE FROM subscribers WHERE email LIKE 'exp-%@example.com'`;
  await db.experimentVariantEnded.deleteMany({});
  const sentAt = new Date('2026-01-05T14:30:00Z');
  const program = 'steady';
  // Steps of the real program, so the report puts them in program order; whether content has
  // variants for them does not matter, the rows do.
  await seedExperiment(db, {
    program,
    step: 'w3-d0',
    sentAt,
    arms: [
      { variant: 'a', people: 200, replied: 120, rating: 4 },
      { variant: 'b', people: 200, replied: 80, rating: 3, optedOut: 6 },
    ],
  });
  await seedExperiment(db, {
    program,
    step: 'w4-d0',
    sentAt,
    arms: [
      { variant: 'a', people: 200, replied: 100 },
      { variant: 'b', people: 200, replied: 100 },
    ],
  });
  await seedExperiment(db, {
    program,
    step: 'w5-d0',
    sentAt,
    arms: [
      { variant: 'a', people: 20, replied: 19 },
      { variant: 'b', people: 20, replied: 1 },
    ],
  });
}, 60_000);
afterAll(async () => db?.$disconnect());

async function runJson(args: string[]): Promise<{ code: number | null; out: string }> {
  const cli = startCli(['experiments', ...args], {
    NODE_ENV: 'test',
    DATABASE_URL: url,
    REDIS_URL: TEST_REDIS_URL,
    LOG_LEVEL: 'silent',
  });
  const exit = await cli.exited;
  return { code: exit.code, out: cli.lines.join('\n') };
}

const stepOf = (r: ExperimentsReport, step: string): StepReport => {
  const s = r.experiments.find((x) => x.program === 'steady' && x.step === step);
  if (!s)
    throw new Error(`no report for ${step}: ${JSON.stringify(r.experiments.map((x) => x.step))}`);
  return s;
};

describe('experiments --json', () => {
  it('names the better variant of a clear effect, none of equal ones, and waits below the minimum', async () => {
    const { code, out } = await runJson(['--program', 'steady', '--json']);
    expect(code, out).toBe(0);
    const report = JSON.parse(out.split('\n').find((l) => l.startsWith('{'))!) as ExperimentsReport;
    expect(report.minNPerVariant).toBe(30);

    // 60% against 40% of 200 each.
    const clear = stepOf(report, 'w3-d0');
    const [a, b] = clear.variants;
    expect(a).toMatchObject({ name: 'a', n: 200, replyRate: { n: 200, count: 120, rate: 0.6 } });
    expect(b).toMatchObject({ name: 'b', n: 200, replyRate: { n: 200, count: 80, rate: 0.4 } });
    expect(a!.replyRate.pBest).toBeGreaterThan(0.95);
    expect(clear.replyRate).toEqual({ status: 'ok', winner: 'a' });
    expect(a!.replyRate.interval!.low).toBeGreaterThan(0.52);
    expect(a!.replyRate.interval!.high).toBeLessThan(0.67);
    // Ratings of those who answered: 4 against 3 with no spread.
    expect(a!.rating).toMatchObject({ n: 120, mean: 4 });
    expect(b!.rating).toMatchObject({ n: 80, mean: 3 });
    // Opt-outs within 48 h: 0 of 200 against 6 of 200; a has the lower rate.
    expect(b!.optOut).toMatchObject({ n: 200, count: 6 });
    expect(a!.optOut.pBest).toBeGreaterThan(0.95);
    expect(clear.optOut.winner).toBe('a');

    // 50% against 50%.
    const equal = stepOf(report, 'w4-d0');
    expect(equal.replyRate).toEqual({ status: 'ok', winner: null });
    for (const v of equal.variants) {
      expect(v.replyRate.pBest).toBeGreaterThan(0.3);
      expect(v.replyRate.pBest).toBeLessThan(0.7);
    }

    // 20 per variant: however large the difference, not enough data.
    const small = stepOf(report, 'w5-d0');
    expect(small.replyRate).toEqual({ status: 'not enough data', winner: null });
    expect(small.variants.map((v) => v.replyRate.pBest)).toEqual([null, null]);

    // The same data give the same report (the draws are seeded).
    const again = await runJson(['--program', 'steady', '--json']);
    const second = JSON.parse(again.out.split('\n').find((l) => l.startsWith('{'))!);
    expect(second.experiments).toEqual(report.experiments);
  }, 120_000);

  it('prints a table without --json and refuses an unknown program', async () => {
    const table = await runJson(['--program', 'steady']);
    expect(table.code, table.out).toBe(0);
    expect(table.out).toMatch(/steady w3-d0/);
    expect(table.out).toMatch(/reply rate: winner a/);
    expect(table.out).toMatch(/steady w5-d0[\s\S]*reply rate: not enough data/);
    const unknown = await runJson(['--program', 'nope']);
    expect(unknown.code).toBe(2);
    expect(unknown.out).toMatch(/--program "nope" is not a program/);
  }, 120_000);
});
