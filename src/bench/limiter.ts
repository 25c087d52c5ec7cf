// The sender limit: with SMS_RATE_PER_SECOND set, the service (workers.ts: BullMQ's global limiter
// in 100 ms windows) must hold the provider rate near the target. A backlog larger than the window
// can drain is due at once; the rate is what the fake provider received over `seconds`.
import { loadContent } from '../content/load.ts';
import { MESSAGES_DIR } from '../paths.ts';
import { benchPool, cleanRedis, steadyEnv, truncateBenchTables, type BenchEnv } from './env.ts';
import { startChild, startFake } from './procs.ts';
import type { Progress } from './progress.ts';
import { daytimeZones, seedEnrolled } from './seed.ts';
import { busiestWindow } from './stats.ts';

export interface LimitResult {
  target: number;
  seconds: number;
  achieved: number;
  /** Most messages in any one second and in any 100 ms of the window. */
  busiestSecond: number;
  busiest100ms: number;
  received: number;
}

const WARMUP_MS = 2000;

export async function runLimiter(
  env: BenchEnv,
  opts: { rate: number; seconds: number; progress: Progress; profileDir?: string },
): Promise<LimitResult> {
  const { rate, seconds, progress } = opts;
  const content = await loadContent(MESSAGES_DIR);
  const program = content.programs[env.config.program]!;
  const pool = benchPool(env);
  await truncateBenchTables(env, pool);
  await cleanRedis(env);
  const fake = await startFake({ profileDir: opts.profileDir });
  let child: Awaited<ReturnType<typeof startChild>> | undefined;
  try {
    child = await startChild(
      'steady',
      steadyEnv(env, fake, { SMS_RATE_PER_SECOND: String(rate) }),
      { profileDir: opts.profileDir },
    );
    // More than the window can send, so the limit (not the backlog) sets the pace throughout.
    const count = Math.ceil(rate * (seconds + WARMUP_MS / 1000) * 1.3) + 200;
    const due = new Date(Date.now() + 3000);
    await seedEnrolled(pool, program, {
      count,
      timezones: daytimeZones(new Date()),
      due,
    });
    let first = 0;
    while (!first) {
      await new Promise((r) => setTimeout(r, 100));
      if ((await fake.requests()) > 0) first = Date.now();
      if (Date.now() - due.getTime() > 30_000)
        throw new Error('limit: nothing was sent within 30 s of the due time');
    }
    const from = first + WARMUP_MS;
    const to = from + seconds * 1000;
    while (Date.now() < to + 200) {
      await new Promise((r) => setTimeout(r, 250));
      const left = Math.max(0, Math.ceil((to - Date.now()) / 1000));
      progress.update(`limit: target ${rate}/s, ${left} s left, ${await fake.requests()} sent`);
    }
    const received = (await fake.messages())
      .map((m) => m.receivedAt)
      .filter((t) => t >= from && t < to);
    return {
      target: rate,
      seconds,
      achieved: received.length / seconds,
      busiestSecond: busiestWindow(received, 1000),
      busiest100ms: busiestWindow(received, 100),
      received: received.length,
    };
  } finally {
    await child?.stop();
    await fake.stop();
    await cleanRedis(env);
    await pool.end();
  }
}
