// The ceiling: the same machinery as Steady with none of its logic. A table of due rows claimed in
// batches with FOR UPDATE SKIP LOCKED, one BullMQ job per row, a worker (Steady's concurrency)
// that makes one HTTP POST to the fake provider through the real twilio SDK and inserts one row.
// It is what these 2 cores can do at all; Steady's rate is reported as a fraction of it.
import { Queue, Worker, type Job } from 'bullmq';
import pg from 'pg';
import { twilioSms } from '../channels/twilio.ts';
import type { Config } from '../config.ts';
import { redisConnection, SEND_JOB_OPTIONS } from '../queues.ts';
import { createRedis, queuePrefix } from '../redis.ts';
import { benchPool, CEILING_QUEUE, steadyEnv, truncateBenchTables, type BenchEnv } from './env.ts';
import { serviceCpu, startChild, startFake, type Usage } from './procs.ts';
import type { Progress } from './progress.ts';
import { sampleMemory } from './redis-memory.ts';
import { ceilingPhone } from './seed.ts';

// About as long as a program nudge (two SMS segments).
const BODY =
  'Week 2, a midweek thought. Try to be the same person on Tuesday as on Saturday. Warm one week ' +
  'and distant the next is hard on anyone, and harder for someone who has been let down. Steady beats perfect.';

interface BareJob {
  id: number;
  to: string;
}

/** The bare pipeline, inside the `ceiling` child process. */
export async function startBarePipeline(config: Config) {
  const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 10 });
  const sms = twilioSms({
    accountSid: config.sms.accountSid!,
    authToken: config.sms.authToken,
    from: config.sms.from,
    apiBase: config.sms.apiBase,
  });
  const queueConnection = createRedis(config.redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue<BareJob>(CEILING_QUEUE, {
    connection: queueConnection,
    prefix: queuePrefix(config),
  });
  const workerConnection = redisConnection(config.redisUrl, true);
  const statusCallback = `${config.publicUrl}/webhooks/twilio/status`;
  const worker = new Worker<BareJob>(
    CEILING_QUEUE,
    async (job: Job<BareJob>) => {
      const sent = await sms.send({
        messageId: String(job.data.id),
        to: job.data.to,
        body: BODY,
        statusCallback,
      });
      await pool.query('INSERT INTO bench_sent (id, provider_id, sent_at) VALUES ($1, $2, $3)', [
        job.data.id,
        sent.providerId,
        new Date(),
      ]);
    },
    {
      connection: workerConnection,
      prefix: queuePrefix(config),
      concurrency: config.sendConcurrency,
    },
  );
  worker.on('error', () => {});
  let running = true;
  return {
    /** Claims every due row in batches, enqueueing each batch, until `n` rows are claimed. */
    async claimAll(n: number, batch: number): Promise<void> {
      let claimed = 0;
      while (running && claimed < n) {
        const { rows } = await pool.query<{ id: string; phone: string }>(
          `UPDATE bench_due SET claimed_at = now()
           WHERE id IN (SELECT id FROM bench_due WHERE claimed_at IS NULL AND due_at <= now()
                        ORDER BY due_at LIMIT $1 FOR UPDATE SKIP LOCKED)
           RETURNING id, phone`,
          [batch],
        );
        if (rows.length === 0) {
          await new Promise((r) => setTimeout(r, 50));
          continue;
        }
        claimed += rows.length;
        await queue.addBulk(
          rows.map((r) => ({
            name: 'send',
            data: { id: Number(r.id), to: r.phone },
            opts: { ...SEND_JOB_OPTIONS, jobId: `c-${r.id}` },
          })),
        );
      }
    },
    async stop() {
      running = false;
      await worker.close();
      await queue.close();
      await sms.close?.();
      await pool.end();
      workerConnection.disconnect();
      queueConnection.disconnect();
    },
  };
}

export interface CeilingResult {
  perS: number;
  sent: number;
  providerReceived: number;
  duplicates: number;
  seconds: number;
  cpuSPer1000: number;
  rssPeakMb: number;
  redisPeakBytes: number;
  fakeCpuSPer1000: number | null;
  services: { postgresCpuSPer1000: number; redisCpuSPer1000: number } | null;
}

export async function runCeiling(
  env: BenchEnv,
  opts: { n: number; progress: Progress; profileDir?: string },
): Promise<CeilingResult> {
  const { n, progress } = opts;
  const pool = benchPool(env);
  const fake = await startFake({ profileDir: opts.profileDir });
  let child: Awaited<ReturnType<typeof startChild>> | undefined;
  try {
    await truncateBenchTables(env, pool);
    progress.update(`ceiling: seeding ${n} rows`);
    for (let from = 0; from < n; from += 50_000) {
      const ids = Array.from({ length: Math.min(50_000, n - from) }, (_, i) => from + i + 1);
      await pool.query(
        'INSERT INTO bench_due (id, phone, due_at) SELECT id, phone, now() FROM unnest($1::bigint[], $2::text[]) AS u(id, phone)',
        [ids, ids.map(ceilingPhone)],
      );
    }
    await pool.query('ANALYZE bench_due');
    child = await startChild('ceiling', steadyEnv(env, fake), { profileDir: opts.profileDir });
    const before = await child.usage();
    const fakeBefore = await fake.usage();
    const servicesBefore = serviceCpu();
    const memory = sampleMemory(env.redisUrl);
    const started = Date.now();
    child.send({ type: 'go', n, batch: env.config.schedulerBatch });
    let done = 0;
    while (done < n) {
      await new Promise((r) => setTimeout(r, 250));
      const received = await fake.requests();
      const elapsed = (Date.now() - started) / 1000;
      progress.update(`ceiling: ${received}/${n} sent  ${Math.round(received / elapsed)}/s`);
      if (received >= n)
        done = Number(
          (await pool.query<{ c: string }>('SELECT count(*) AS c FROM bench_sent')).rows[0]?.c ?? 0,
        );
      if (elapsed > Math.max(600, n / 50))
        throw new Error(`ceiling: only ${done}/${n} sent after ${Math.round(elapsed)} s`);
    }
    const after = await child.usage();
    const fakeAfter = await fake.usage();
    const servicesAfter = serviceCpu();
    const redisPeakBytes = await memory.stop();
    const { rows } = await pool.query<{ first: Date; last: Date }>(
      'SELECT (SELECT min(claimed_at) FROM bench_due) AS first, (SELECT max(sent_at) FROM bench_sent) AS last',
    );
    const seconds = ((rows[0]?.last.getTime() ?? 0) - (rows[0]?.first.getTime() ?? 0)) / 1000;
    const messages = await fake.messages();
    const distinct = new Set(messages.map((m) => m.to)).size;
    return {
      perS: n / seconds,
      sent: done,
      providerReceived: messages.length,
      duplicates: messages.length - distinct,
      seconds,
      cpuSPer1000: ((after.cpuS - before.cpuS) / n) * 1000,
      rssPeakMb: after.rssPeakMb,
      redisPeakBytes,
      fakeCpuSPer1000: perThousand(fakeBefore, fakeAfter, n),
      services: servicesPerThousand(servicesBefore, servicesAfter, n),
    };
  } finally {
    await child?.stop();
    await fake.stop();
    await pool.end();
  }
}

type ServiceCpu = ReturnType<typeof serviceCpu>;

export function servicesPerThousand(before: ServiceCpu, after: ServiceCpu, n: number) {
  return before && after
    ? {
        postgresCpuSPer1000: ((after.postgres - before.postgres) / n) * 1000,
        redisCpuSPer1000: ((after.redis - before.redis) / n) * 1000,
      }
    : null;
}

export function perThousand(before: Usage | null, after: Usage | null, n: number): number | null {
  return before && after ? ((after.cpuS - before.cpuS) / n) * 1000 : null;
}
