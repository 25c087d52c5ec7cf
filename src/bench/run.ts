// Runs the benchmark's parts in order (ceiling, Steady with safety replies, scale, sender limit)
// on the bench database and prefix, and gathers one result. Each part starts from empty tables
// and queues; the run ends by removing the bench's Redis keys and emptying its tables.
import { runCeiling, type CeilingResult } from './ceiling.ts';
import {
  benchPool,
  cleanRedis,
  lockBench,
  prepareDatabase,
  truncateBenchTables,
  type BenchEnv,
} from './env.ts';
import { runLimiter, type LimitResult } from './limiter.ts';
import type { Progress } from './progress.ts';
import { runScale, type ScaleResult } from './scale.ts';
import { round } from './stats.ts';
import { runSteady, type SteadyResult } from './steady-run.ts';

export const PARTS = ['ceiling', 'steady', 'safety', 'scale', 'limit'] as const;
export type Part = (typeof PARTS)[number];

export interface BenchOptions {
  n: number;
  parts: readonly Part[];
  progress: Progress;
  /** Disclosure replies during the drain, and the time between two. */
  safetyReplies?: number;
  safetySpacingMs?: number;
  limitRate?: number;
  limitSeconds?: number;
  scaleSizes?: number[];
  /** Write CPU profiles of every child process here (node --cpu-prof). */
  profileDir?: string;
}

/** The one-line summary (`--json`); fields of parts not run are null. */
export interface BenchSummary {
  n: number;
  ceiling_per_s: number | null;
  steady_per_s: number | null;
  ratio: number | null;
  lateness_p50_ms: number | null;
  lateness_p99_ms: number | null;
  safety_p50_ms: number | null;
  safety_p99_ms: number | null;
  redis_peak_bytes: number | null;
  rss_peak_mb: number | null;
  cpu_s_per_1000: number | null;
  tick_ms_10k: number | null;
  tick_ms_1m: number | null;
  redis_bytes_1m: number | null;
  limit_target: number | null;
  limit_achieved: number | null;
}

export interface BenchReport {
  /** The program the steady and scale parts enrolled people into (PROGRAM). */
  program: string;
  summary: BenchSummary;
  ceiling: CeilingResult | null;
  steady: SteadyResult | null;
  scale: ScaleResult | null;
  limit: LimitResult | null;
  seconds: number;
}

export async function runBench(env: BenchEnv, opts: BenchOptions): Promise<BenchReport> {
  const started = Date.now();
  const { progress, n } = opts;
  const has = (p: Part) => opts.parts.includes(p);
  progress.update('preparing the bench database');
  await prepareDatabase(env);
  const lock = await lockBench(env);
  await cleanRedis(env);
  let ceiling: CeilingResult | null = null;
  let steady: SteadyResult | null = null;
  let scale: ScaleResult | null = null;
  let limit: LimitResult | null = null;
  try {
    if (has('ceiling')) {
      ceiling = await runCeiling(env, { n, progress, profileDir: opts.profileDir });
      progress.note(
        `ceiling: ${Math.round(ceiling.perS)} msg/s (${n} in ${ceiling.seconds.toFixed(1)} s)`,
      );
    }
    if (has('steady') || has('safety')) {
      steady = await runSteady(env, {
        n,
        progress,
        safetyReplies: has('safety') ? (opts.safetyReplies ?? 100) : 0,
        safetySpacingMs: opts.safetySpacingMs,
        profileDir: opts.profileDir,
      });
      progress.note(
        `steady: ${Math.round(steady.perS)} msg/s (${n} in ${steady.seconds.toFixed(1)} s)` +
          (steady.safety ? `; safety p99 ${steady.safety.p99Ms} ms` : ''),
      );
    }
    if (has('scale')) {
      scale = await runScale(env, { progress, sizes: opts.scaleSizes });
      progress.note(
        `scale: ticks ${scale.steps.map((s) => `${s.enrolled}: ${s.tickMs.toFixed(1)} ms`).join(', ')}`,
      );
    }
    if (has('limit')) {
      limit = await runLimiter(env, {
        rate: opts.limitRate ?? 100,
        seconds: opts.limitSeconds ?? 60,
        progress,
        profileDir: opts.profileDir,
      });
      progress.note(`limit: ${limit.achieved.toFixed(1)}/s against ${limit.target}/s`);
    }
  } finally {
    progress.update('cleaning up');
    await cleanRedis(env).catch(() => {});
    const pool = benchPool(env, 1);
    await truncateBenchTables(env, pool).catch(() => {});
    await pool.end();
    await lock.release();
    progress.done();
  }
  const scaleAt = (size: number) => scale?.steps.find((s) => s.enrolled === size) ?? null;
  const largest = scale?.steps[scale.steps.length - 1] ?? null;
  const smallest = scale?.steps[0] ?? null;
  const summary: BenchSummary = {
    n,
    ceiling_per_s: round(ceiling?.perS ?? null),
    steady_per_s: round(steady?.perS ?? null),
    ratio: ceiling && steady ? round(steady.perS / ceiling.perS, 2) : null,
    lateness_p50_ms: round(steady?.latenessP50Ms ?? null),
    lateness_p99_ms: round(steady?.latenessP99Ms ?? null),
    safety_p50_ms: round(steady?.safety?.p50Ms ?? null),
    safety_p99_ms: round(steady?.safety?.p99Ms ?? null),
    redis_peak_bytes: steady?.redisPeakBytes ?? null,
    rss_peak_mb: round(steady?.steady.rssPeakMb ?? null),
    cpu_s_per_1000: round(steady?.steady.cpuSPer1000 ?? null, 3),
    tick_ms_10k: round((scaleAt(10_000) ?? smallest)?.tickMs ?? null, 1),
    tick_ms_1m: round((scaleAt(1_000_000) ?? largest)?.tickMs ?? null, 1),
    redis_bytes_1m: (scaleAt(1_000_000) ?? largest)?.redisQueuedBytes ?? null,
    limit_target: limit?.target ?? null,
    limit_achieved: round(limit?.achieved ?? null, 1),
  };
  return {
    program: env.config.program,
    summary,
    ceiling,
    steady,
    scale,
    limit,
    seconds: (Date.now() - started) / 1000,
  };
}
