// Steady itself: N people due at the same moment, the service running as `dev` runs it (web,
// workers and scheduler in one child process, default concurrency), Twilio's API faked over HTTP.
// Runs until every nudge is recorded as sent; optionally, disclosures arrive through the signed
// webhook while the backlog drains (safety-load.ts).
import { loadContent } from '../content/load.ts';
import { MESSAGES_DIR } from '../paths.ts';
import { perThousand, servicesPerThousand } from './ceiling.ts';
import { benchPool, cleanRedis, steadyEnv, truncateBenchTables, type BenchEnv } from './env.ts';
import { serviceCpu, startChild, startFake, type Usage } from './procs.ts';
import type { Progress } from './progress.ts';
import { sampleMemory } from './redis-memory.ts';
import {
  safetyLatencies,
  sendDisclosures,
  type Disclosures,
  type SafetyResult,
} from './safety-load.ts';
import { daytimeZones, replierPhone, seedEnrolled } from './seed.ts';
import { percentile } from './stats.ts';

export interface SteadyResult {
  n: number;
  perS: number;
  seconds: number;
  sent: number;
  providerReceived: number;
  duplicates: number;
  latenessP50Ms: number | null;
  latenessP99Ms: number | null;
  redisPeakBytes: number;
  redisBaselineBytes: number;
  steady: Usage & { cpuSPer1000: number };
  fake: (Usage & { cpuSPer1000: number | null }) | null;
  services: { postgresCpuSPer1000: number; redisCpuSPer1000: number } | null;
  seedRowsPerS: number;
  safety: SafetyResult | null;
  problems: string[];
}

export interface SteadyOptions {
  n: number;
  progress: Progress;
  /** Disclosure replies sent while the backlog drains (0: none), `safetySpacingMs` apart. */
  safetyReplies?: number;
  safetySpacingMs?: number;
  profileDir?: string;
  /** Extra settings for the service (e.g. SMS_RATE_PER_SECOND). */
  settings?: Record<string, string>;
}

const LOOKAHEAD_MS = 2000; // jobs/scheduler.ts claims this far ahead

export async function runSteady(env: BenchEnv, opts: SteadyOptions): Promise<SteadyResult> {
  const { n, progress } = opts;
  const replies = opts.safetyReplies ?? 0;
  const content = await loadContent(MESSAGES_DIR);
  const program = content.programs[env.config.program];
  if (!program) throw new Error(`program "${env.config.program}" is not in messages/`);
  const pool = benchPool(env);
  await truncateBenchTables(env, pool);
  await cleanRedis(env);
  const fake = await startFake({ profileDir: opts.profileDir });
  let child: Awaited<ReturnType<typeof startChild>> | undefined;
  try {
    const zones = daytimeZones(new Date());
    // The people who will write in: enrolled and active, their next step not due for a day.
    const repliers = Array.from({ length: replies }, (_, i) => replierPhone(i));
    if (replies) {
      const tomorrow = new Date(Date.now() + 86_400_000);
      await seedEnrolled(pool, program, {
        count: replies,
        phones: repliers,
        timezones: zones,
        due: tomorrow,
      });
    }
    progress.update('steady: starting the service');
    child = await startChild('steady', steadyEnv(env, fake, opts.settings), {
      profileDir: opts.profileDir,
    });
    const before = await child.usage();
    const fakeBefore = await fake.usage();
    const servicesBefore = serviceCpu();

    // Everyone is due at `due`, a moment after seeding ends; the running scheduler picks them up
    // as production's would (claiming up to 2 s ahead).
    const seedStart = Date.now();
    const due = new Date(seedStart + n / 40 + LOOKAHEAD_MS + 1000);
    progress.update(`steady: seeding ${n} people due at ${due.toISOString()}`);
    await seedEnrolled(pool, program, { count: n, timezones: zones, due });
    const seedRowsPerS = (2 * n) / ((Date.now() - seedStart) / 1000);
    await pool.query('ANALYZE subscribers; ANALYZE enrollments');
    const redisBaseline = sampleMemory(env.redisUrl);
    const redisBaselineBytes = await redisBaseline.stop();
    const memory = sampleMemory(env.redisUrl);

    let disclosures: Promise<Disclosures> | undefined;
    const expected = n + replies;
    const started = Date.now();
    let sent = 0;
    for (;;) {
      await new Promise((r) => setTimeout(r, 250));
      const received = await fake.requests();
      const elapsed = (Date.now() - Math.max(started, due.getTime() - LOOKAHEAD_MS)) / 1000;
      progress.update(
        `steady: ${received}/${expected} sent  ${elapsed > 0 ? Math.round(received / elapsed) : 0}/s  redis ${Math.round(memory.last() / 1e6)} MB${disclosures ? '  (disclosures sent)' : ''}`,
      );
      // Replies arrive once the backlog is draining (a tenth of it sent).
      if (replies && !disclosures && received >= Math.min(n, Math.max(1, n / 10)))
        disclosures = sendDisclosures(child.ready.url!, fake, repliers, opts.safetySpacingMs);
      if (received >= expected) {
        const { rows } = await pool.query<{ nudges: string; safety: string }>(
          `SELECT count(*) FILTER (WHERE kind IN ('nudge', 'checkin')) AS nudges, count(*) FILTER (WHERE kind = 'safety') AS safety
           FROM messages WHERE direction = 'out' AND status = 'sent'`,
        );
        sent = Number(rows[0]?.nudges ?? 0);
        if (sent >= n && Number(rows[0]?.safety ?? 0) >= replies) break;
      }
      if ((Date.now() - started) / 1000 > Math.max(600, n / 50))
        throw new Error(
          `steady: ${received}/${expected} sent after ${Math.round((Date.now() - started) / 1000)} s; giving up`,
        );
    }
    const after = await child.usage();
    const fakeAfter = await fake.usage();
    const servicesAfter = serviceCpu();
    const redisPeakBytes = await memory.stop();

    const { rows: span } = await pool.query<{ first: Date; last: Date }>(
      `SELECT min("createdAt") AS first, max("sentAt") AS last FROM messages WHERE kind IN ('nudge', 'checkin')`,
    );
    // From the moment the messages were due (or first claimed, if later) to the last one sent.
    const first = Math.max(due.getTime(), span[0]?.first.getTime() ?? 0);
    const seconds = ((span[0]?.last.getTime() ?? 0) - first) / 1000;

    progress.update('steady: reading what the provider received');
    const received = await fake.messages();
    const at = new Map(received.map((m) => [m.sid, m.receivedAt]));
    const { rows: sentRows } = await pool.query<{ providerId: string; dueAt: Date }>(
      `SELECT "providerId", "dueAt" FROM messages WHERE kind IN ('nudge', 'checkin') AND status = 'sent'`,
    );
    const lateness: number[] = [];
    for (const r of sentRows) {
      const t = at.get(r.providerId);
      if (t !== undefined) lateness.push(t - r.dueAt.getTime());
    }
    const safety = disclosures ? await safetyLatencies(pool, received, await disclosures) : null;
    const cpu = after.cpuS - before.cpuS;
    const services = servicesPerThousand(servicesBefore, servicesAfter, n);
    return {
      n,
      perS: n / seconds,
      seconds,
      sent,
      providerReceived: received.length,
      duplicates: received.length - new Set(received.map((m) => m.to)).size,
      latenessP50Ms: percentile(lateness, 50),
      latenessP99Ms: percentile(lateness, 99),
      redisPeakBytes,
      redisBaselineBytes,
      steady: { ...after, cpuSPer1000: (cpu / n) * 1000 },
      fake: fakeAfter ? { ...fakeAfter, cpuSPer1000: perThousand(fakeBefore, fakeAfter, n) } : null,
      services,
      seedRowsPerS,
      safety,
      problems: child.problems,
    };
  } finally {
    await child?.stop();
    await fake.stop();
    await pool.end();
  }
}
