// Idle subscribers must cost nothing: with 10k and with 1M people enrolled, 1% of them due, a
// scheduler tick (claimDueSteps on a batch) should take about the same time, and Redis should hold
// only the work in flight. Also captures EXPLAIN ANALYZE of the claim query at each size.
import { performance } from 'node:perf_hooks';
import { systemClock } from '../clock.ts';
import { loadContent } from '../content/load.ts';
import { createDb } from '../db/client.ts';
import { claimDueQuery, claimDueStepsOf } from '../flows/claim-due.ts';
import { createLog } from '../log.ts';
import { MESSAGES_DIR } from '../paths.ts';
import { closeQueues, createQueues } from '../queues.ts';
import { createRedis, queuePrefix } from '../redis.ts';
import { benchPool, cleanRedis, truncateBenchTables, type BenchEnv } from './env.ts';
import type { Progress } from './progress.ts';
import { prefixBytes, usedMemory } from './redis-memory.ts';
import { daytimeZones, seedEnrolled } from './seed.ts';
import { median } from './stats.ts';

export interface ScaleStep {
  enrolled: number;
  due: number;
  seedSeconds: number;
  seedRowsPerS: number;
  /** Median time of a tick claiming `batch` due rows (and writing and queueing their messages). */
  tickMs: number;
  ticksMs: number[];
  /** Median time of a tick that finds nothing due. */
  emptyTickMs: number;
  /** Redis used_memory with everyone enrolled and nothing queued, and the bench's own keys. */
  redisIdleBytes: number;
  prefixIdleBytes: number;
  /** The same once the due 1% are claimed and queued (work in flight). */
  redisQueuedBytes: number;
  prefixQueuedBytes: number;
  explain: string;
}

export interface ScaleResult {
  batch: number;
  steps: ScaleStep[];
}

const DAY = 86_400_000;

export async function runScale(
  env: BenchEnv,
  opts: { progress: Progress; sizes?: number[]; batch?: number; ticks?: number },
): Promise<ScaleResult> {
  const sizes = opts.sizes ?? [10_000, 1_000_000];
  const batch = opts.batch ?? 100;
  const ticks = opts.ticks ?? 15;
  const { progress } = opts;
  const pool = benchPool(env, 6);
  const redis = createRedis(env.redisUrl, { maxRetriesPerRequest: 1 });
  // What claimDueSteps needs, on the bench database and prefix (the scheduler's own pool size).
  const content = await loadContent(MESSAGES_DIR);
  const program = content.programs[env.config.program];
  if (!program) throw new Error(`program "${env.config.program}" is not in messages/`);
  const queueConnection = createRedis(env.redisUrl, { maxRetriesPerRequest: null });
  const deps = {
    db: createDb(env.databaseUrl, { max: 4 }),
    queues: createQueues(queueConnection, queuePrefix(env)),
    clock: systemClock,
    config: { ...env.config, databaseUrl: env.databaseUrl, redisPrefix: env.redisPrefix },
    log: createLog('silent'),
  };
  const steps: ScaleStep[] = [];
  try {
    for (const size of sizes) {
      await truncateBenchTables(env, pool);
      await cleanRedis(env);
      const due = Math.round(size / 100);
      const now = Date.now();
      const dueAt = new Date(now - 60_000);
      progress.update(`scale: seeding ${size} enrolled, ${due} due`);
      const t0 = performance.now();
      // Every 100th person is due a minute ago; the rest later in the seven weeks.
      await seedEnrolled(pool, program, {
        count: size,
        timezones: daytimeZones(new Date(now)),
        due: dueAt,
        idle: { every: 100, from: new Date(now + DAY), spreadHours: 48 * 24 },
      });
      const seedSeconds = (performance.now() - t0) / 1000;
      progress.update(`scale: ${size} enrolled, vacuum and analyze`);
      await pool.query('VACUUM ANALYZE subscribers');
      await pool.query('VACUUM ANALYZE enrollments');
      const redisIdleBytes = await usedMemory(redis);
      const prefixIdleBytes = (await prefixBytes(env.redisUrl, env.redisPrefix)).bytes;

      const explain = await explainClaim(pool, batch, program.key);
      const ticksMs: number[] = [];
      // One tick first that is not timed: it warms the caches every later tick finds warm.
      for (let k = -1; k < ticks; k++) {
        progress.update(`scale: ${size} enrolled, tick ${k + 1}/${ticks}`);
        const start = performance.now();
        const r = await claimDueStepsOf(deps, program, { batch });
        if (k >= 0) ticksMs.push(performance.now() - start);
        if (r.queued === 0) throw new Error(`scale: a tick at ${size} enrolled claimed nothing`);
        await restoreClaimed(pool);
        await cleanRedis(env);
      }
      // Claim every due row, then time ticks that find nothing.
      progress.update(`scale: ${size} enrolled, queueing the ${due} due`);
      while ((await claimDueStepsOf(deps, program, { batch: 2000 })).claimed > 0);
      const redisQueuedBytes = await usedMemory(redis);
      const prefixQueuedBytes = (await prefixBytes(env.redisUrl, env.redisPrefix)).bytes;
      const empty: number[] = [];
      for (let k = 0; k < ticks; k++) {
        const start = performance.now();
        await claimDueStepsOf(deps, program, { batch });
        empty.push(performance.now() - start);
      }
      await cleanRedis(env);
      steps.push({
        enrolled: size,
        due,
        seedSeconds,
        seedRowsPerS: (2 * size) / seedSeconds,
        tickMs: median(ticksMs) ?? 0,
        ticksMs,
        emptyTickMs: median(empty) ?? 0,
        redisIdleBytes,
        prefixIdleBytes,
        redisQueuedBytes,
        prefixQueuedBytes,
        explain,
      });
    }
    await truncateBenchTables(env, pool);
    return { batch, steps };
  } finally {
    await closeQueues(deps.queues);
    await deps.db.$disconnect();
    queueConnection.disconnect();
    redis.disconnect();
    await pool.end();
  }
}

/** EXPLAIN (ANALYZE, BUFFERS) of the scheduler's claim query, in a transaction rolled back. */
async function explainClaim(
  pool: ReturnType<typeof benchPool>,
  batch: number,
  programKey: string,
): Promise<string> {
  const q = claimDueQuery(new Date(), batch, programKey);
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const { rows } = await client.query<{ 'QUERY PLAN': string }>(
      `EXPLAIN (ANALYZE, BUFFERS) ${q.text}`,
      q.values,
    );
    return rows.map((r) => r['QUERY PLAN']).join('\n');
  } finally {
    await client.query('ROLLBACK').catch(() => {});
    client.release();
  }
}

/** Puts the rows a tick claimed back as they were (due, at the step they were at), so every timed
 * tick sees the same 1% due. */
async function restoreClaimed(pool: ReturnType<typeof benchPool>): Promise<void> {
  await pool.query(
    `UPDATE enrollments e SET "nextStep" = m.step, "nextRunAt" = m."dueAt", "lastSentDay" = NULL,
            "extraSteps" = '{}', state = 'active', "completedAt" = NULL
     FROM messages m WHERE m."enrollmentId" = e.id`,
  );
  await pool.query('TRUNCATE messages, checkins');
}
