// BullMQ workers: thin, each job names a row and calls a flow. Errors decide retries: RetryLater
// (the provider did not take the message) is retried with backoff; SendLater (a program message
// that would land in quiet hours) puts the job back, delayed to the end of them, without using an
// attempt; everything a retry cannot fix is settled inside the flow.
import { DelayedError, Worker, type Job } from 'bullmq';
import type { Deps } from '../src/deps.ts';
import { deliver, SendLater } from '../src/flows/deliver.ts';
import { handleInbound } from '../src/flows/inbound.ts';
import { redisConnection, type QueueName, type SendJob } from '../src/queues.ts';
import { queuePrefix } from '../src/redis.ts';
import { startEventWorker } from './events-worker.ts';
import { lanes } from './lanes.ts';

export interface WorkerPool {
  workers: Worker[];
  close(graceMs?: number): Promise<void>;
}

export interface WorkerOptions {
  queues: readonly QueueName[];
  concurrency?: number;
}

export function startWorkers(deps: Deps, opts: WorkerOptions): WorkerPool {
  const { config, log } = deps;
  const connection = redisConnection(config.redisUrl, true);
  const concurrency = opts.concurrency ?? config.sendConcurrency;
  const sendProcessor = async (job: Job<SendJob>, token?: string) => {
    const finalAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    try {
      return await deliver(deps, job.data.messageId, { finalAttempt });
    } catch (err) {
      if (!(err instanceof SendLater)) throw err;
      // The same job (same id) waits in the delayed set until the quiet hours end; its row stays
      // queued with that time as its dueAt, so the sweep rebuilds it if Redis loses it. BullMQ's
      // delays run on the real clock, the program clock `speed` times faster (dev --speed).
      const programMs = Math.max(0, err.until.getTime() - deps.clock.now().getTime());
      await job.moveToDelayed(Date.now() + programMs / Math.max(1, config.programSpeed), token);
      throw new DelayedError();
    }
  };
  // Answers a person is waiting for go first within this process (jobs/lanes.ts).
  const lane = lanes();
  const programProcessor = async (job: Job<SendJob>, token?: string) => {
    await lane.yieldToUrgent();
    return sendProcessor(job, token);
  };
  const priorityProcessor = (job: Job<SendJob>, token?: string) =>
    lane.urgent(() => sendProcessor(job, token));
  const workers: Worker[] = [];
  const stops: (() => Promise<void>)[] = [];
  for (const name of opts.queues) {
    // Crash recovery: a worker that dies holds its jobs until their lock expires and a stalled
    // check hands them to another worker. BullMQ's defaults (30 s lock, a check every 30 s, a job
    // failed for good after stalling once) left a dead worker's jobs idle for up to a minute and
    // failed some for good; every job here is safe to run again (deliver's queued->sending claim,
    // apply-actions' processedAt), so locks are short and a job may stall several times. A job
    // that still fails for good while its row waits is revived by the sweep.
    const common = {
      connection,
      prefix: queuePrefix(config),
      autorun: true,
      lockDuration: 10_000,
      stalledInterval: 5_000,
      maxStalledCount: 5,
    };
    let worker: Worker;
    if (name === 'events') {
      // Webhook deliveries and the outbox relay: their own workers, shed first under load.
      const events = startEventWorker(deps, common);
      worker = events.worker;
      stops.push(events.stop);
    } else if (name === 'inbound') {
      worker = new Worker(
        name,
        (job: Job<{ messageId: string }>) =>
          lane.urgent(async () => (await handleInbound(deps, job.data.messageId))?.actions),
        {
          ...common,
          concurrency: Math.max(4, Math.floor(concurrency / 4)),
        },
      );
    } else {
      // The provider's rate (e.g. 100/s on a short code) is enforced across every process by
      // BullMQ's global limiter; windows of about 100 ms keep bursts within about 10% of the
      // target. Each window holds `max` jobs and lasts max/rate seconds less 4%: after a window
      // ends a worker takes a few ms (a timer, a Redis round trip) to start the next, and full
      // 100 ms windows achieved 94-98% of the target in the benchmark.
      const rate = name === 'sms' && config.sms.ratePerSecond > 0 ? config.sms.ratePerSecond : 0;
      const max = Math.max(1, Math.round(rate / 10));
      const windowMs = Math.round(((max * 1000) / rate) * 0.96);
      worker = new Worker(name, name === 'priority' ? priorityProcessor : programProcessor, {
        ...common,
        concurrency: name === 'priority' ? Math.max(8, Math.floor(concurrency / 2)) : concurrency,
        ...(rate ? { limiter: { max, duration: windowMs } } : {}),
      });
    }
    worker.on('failed', (job, err) => {
      if (job && job.attemptsMade >= (job.opts.attempts ?? 1))
        log.error({ queue: name, jobId: job.id, err: err.message }, 'job failed for good');
    });
    worker.on('error', (err) => log.error({ queue: name, err: err.message }, 'worker error'));
    workers.push(worker);
  }
  return {
    workers,
    async close(graceMs = config.shutdownGraceMs) {
      // Stop taking jobs and let those in flight finish within the grace time. A slice of it is
      // kept for closing connections, so the whole process is gone within SHUTDOWN_GRACE_MS.
      const wait = Math.max(0, graceMs - Math.min(1000, graceMs / 4));
      await Promise.all(stops.map((stop) => stop()));
      const graceful = Promise.all(workers.map((w) => w.close()));
      const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), wait).unref());
      if ((await Promise.race([graceful, timeout])) === 'timeout') {
        // BullMQ cannot force a close once a graceful one has begun (close(true) then returns the
        // graceful promise and waits for the jobs, up to the provider's 10 s timeout or longer),
        // so stop waiting instead. The jobs still running keep their locks until they expire;
        // another worker then takes them, and a send cut off mid-call stays `sending` for the
        // sweep to settle with the provider (never sent twice).
        log.warn(
          { graceMs },
          'jobs still running after the grace time; leaving them to the next worker',
        );
        connection.disconnect();
        return;
      }
      await connection.quit().catch(() => connection.disconnect());
    },
  };
}
