// The benchmark end to end with a tiny n: every part runs, the summary has its shape, and every
// message reached the fake provider exactly once. Not a timed test: the figures are not checked.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { benchEnv, dropBenchDatabase } from '../../src/bench/env.ts';
import { progress } from '../../src/bench/progress.ts';
import { runBench } from '../../src/bench/run.ts';
import { testConfig } from '../support/env.ts';

const FIELDS = [
  'n',
  'ceiling_per_s',
  'steady_per_s',
  'ratio',
  'lateness_p50_ms',
  'lateness_p99_ms',
  'safety_p50_ms',
  'safety_p99_ms',
  'redis_peak_bytes',
  'rss_peak_mb',
  'cpu_s_per_1000',
  'tick_ms_10k',
  'tick_ms_1m',
  'redis_bytes_1m',
  'limit_target',
  'limit_achieved',
];

describe('bench', () => {
  it(
    'runs every part with a tiny n and sends each message exactly once',
    { timeout: 300_000 },
    async () => {
      const n = 300;
      // Its own database and prefix, made for this run and dropped after it: a real benchmark's
      // data is never touched, and two checkouts running the suite at once do not collide.
      const tag = randomBytes(3).toString('hex');
      const env = benchEnv(testConfig(), {
        database: `steady_bench_smoke_${tag}`,
        prefix: `steadybench-smoke-${tag}`,
      });
      const report = await runBench(env, {
        n,
        parts: ['ceiling', 'steady', 'safety', 'scale', 'limit'],
        progress: progress({ enabled: false }),
        safetyReplies: 5,
        scaleSizes: [1000, 3000],
        limitRate: 50,
        limitSeconds: 3,
      }).finally(() => dropBenchDatabase(env));
      const s = report.summary;
      expect(Object.keys(s)).toEqual(FIELDS);
      for (const field of FIELDS) expect(typeof s[field as keyof typeof s], field).toBe('number');
      expect(s.n).toBe(n);

      expect(report.ceiling).toMatchObject({ sent: n, providerReceived: n, duplicates: 0 });
      // The nudges and one safety message per reply, each once.
      expect(report.steady).toMatchObject({ sent: n, providerReceived: n + 5, duplicates: 0 });
      expect(report.steady?.safety).toMatchObject({ replies: 5, answered: 5, failures: [] });
      expect(report.steady?.problems).toEqual([]);
      expect(report.scale?.steps.map((st) => st.enrolled)).toEqual([1000, 3000]);
      expect(report.limit?.received).toBeGreaterThan(0);
    },
  );
});
