// Builds real Deps for integration tests and runs what the `work` role runs: the test database,
// real Redis under a fresh key prefix, the real content, the real BullMQ workers (jobs/workers.ts),
// SMS through the real Twilio SDK to a local fake Twilio API, and email through nodemailer to a
// local SMTP listener. Tests wait for outcomes (`settle`, `waitFor`) and assert on what the fake
// provider and the SMTP listener received and on database rows.
//
// Time is a fake clock the test moves. The workers read it (deps.clock) for every row they write,
// but BullMQ delays run on real time: a send due later on the fake clock (a check-in reminder in
// quiet hours) is enqueued with a delay of hours. `settle` therefore promotes a delayed job once
// its message's `dueAt` has come on the fake clock, and a retry (no `dueAt`, or one already past)
// at once instead of after its real backoff: the queue decided to retry, the test need not wait.
import { startWorkers, type WorkerPool } from '../../jobs/workers.ts';
import type { EmailSender, SmsSender } from '../../src/channels/port.ts';
import { smtpEmail } from '../../src/channels/smtp.ts';
import { twilioSms } from '../../src/channels/twilio.ts';
import { fakeClock, type FakeClock } from '../../src/clock.ts';
import type { Config } from '../../src/config.ts';
import type { Deps } from '../../src/deps.ts';
import { createLog, type Log } from '../../src/log.ts';
import { enroll } from '../../src/flows/enroll.ts';
import { buildDeps, closeDeps } from '../../src/main.ts';
import { withKeySuffix } from '../../src/content/programs.ts';
import { QUEUE_NAMES, type QueueName } from '../../src/queues.ts';
import { deleteKeys, queuePrefix } from '../../src/redis.ts';
import { freshPhone } from './db.ts';
import { testConfig } from './env.ts';
import { startFakeTwilio, type FakeTwilio, type FakeTwilioMessage } from './fake-twilio.ts';
import { startSmtpSink, type SinkMessage, type SmtpSink } from './smtp-sink.ts';
import { waitFor } from './wait.ts';

export { waitFor } from './wait.ts';

/** How long the SDK waits for the fake Twilio API to answer (production: 10 s). A `timeout` fault
 * costs a test this long, so it is short. */
export const TEST_TWILIO_TIMEOUT_MS = 1500;

export interface Harness {
  deps: Deps;
  clock: FakeClock;
  config: Config;
  /** The local fake Twilio API: what it accepted (`messages`), `failNext(...)` to make it fail. */
  twilio: FakeTwilio;
  /** The local SMTP listener: what it accepted (`messages`), `failNext(...)` to refuse. */
  smtp: SmtpSink;
  /** The real workers (null with `workers: false` until `startWorkers()`). */
  readonly workers: WorkerPool | null;
  /** Starts the real workers if they are not running (for a harness made with `workers: false`). */
  startWorkers(): WorkerPool;
  /** SMS the fake Twilio API accepted for one number, oldest first. */
  smsTo(phone: string): FakeTwilioMessage[];
  /** Email the SMTP listener accepted for one address, oldest first. */
  mailTo(address: string): SinkMessage[];
  /**
   * Waits until no job is waiting, prioritized or active in any queue (twice in a row, so the jobs
   * a finished job queued are counted), promoting delayed jobs that are due on the fake clock.
   * Throws, naming the counts, if that takes longer than `timeout` ms.
   */
  settle(opts?: { timeout?: number }): Promise<void>;
  /** Deletes every Redis key under this harness's prefixes (the queues' `{prefix}:` on a cluster
   * too), on every master of a cluster: Redis restarted without persistence. */
  loseRedisKeys(): Promise<void>;
  /** Stops the workers taking new jobs (to set up a race by hand); `resumeWorkers` undoes it. */
  pauseWorkers(): Promise<void>;
  resumeWorkers(): void;
  close(): Promise<void>;
}

export interface HarnessOptions {
  start?: string;
  env?: Record<string, string>;
  /** A port fake for a unit test of one flow; integration tests use the real adapters. */
  sms?: SmsSender;
  email?: EmailSender;
  log?: Log;
  /** Start the real workers now (default true). Tests of pages and webhooks that assert on
   * queued jobs, not on their outcome, pass false. */
  workers?: boolean;
}

export async function harness(opts: HarnessOptions = {}): Promise<Harness> {
  const [twilio, smtp] = await Promise.all([startFakeTwilio(), startSmtpSink()]);
  const config = testConfig({
    SMS_TRANSPORT: 'twilio',
    TWILIO_ACCOUNT_SID: twilio.accountSid,
    TWILIO_AUTH_TOKEN: twilio.authToken,
    TWILIO_FROM: '+12025550100',
    TWILIO_API_BASE: twilio.url,
    EMAIL_TRANSPORT: 'smtp',
    SMTP_URL: smtp.url,
    // Few connections per file: files run in parallel against one PostgreSQL.
    SEND_CONCURRENCY: '8',
    ...opts.env,
  });
  const clock = fakeClock(opts.start ?? '2026-05-04T13:00:00Z');
  // The adapters main.ts builds for this configuration (buildSms, buildEmail), with a shorter
  // provider timeout so a test of an unanswered request takes seconds, not ten. A test of the
  // dev outbox sets SMS_TRANSPORT / EMAIL_TRANSPORT=outbox and gets what buildDeps makes of it.
  const sms =
    opts.sms ??
    (config.sms.transport === 'twilio'
      ? twilioSms({
          accountSid: config.sms.accountSid!,
          authToken: config.sms.authToken,
          from: config.sms.from,
          apiBase: config.sms.apiBase,
          timeoutMs: TEST_TWILIO_TIMEOUT_MS,
        })
      : undefined);
  const email =
    opts.email ??
    (config.email.transport === 'smtp'
      ? smtpEmail({
          url: config.email.smtpUrl!,
          pool: true,
          bounceAddress: config.email.bounceAddress,
        })
      : undefined);
  const deps = await buildDeps(config, {
    clock,
    sms,
    email,
    log: opts.log ?? createLog('silent'),
    dbPoolSize: 4,
  });
  // Each harness runs its own copies of the programs under unique keys: the scheduler claims only
  // its programs' enrollments, so test files running in parallel never claim each other's rows.
  deps.programs = withKeySuffix(deps.programs, config.redisPrefix.slice(-8));
  // The same workers the `work` role starts (src/roles.ts), on every queue.
  let workers: WorkerPool | null = null;
  const start = () => (workers ??= startWorkers(deps, { queues: QUEUE_NAMES }));
  if (opts.workers !== false) start();

  // Webhook deliveries (`events`) name no message and run on their own backoff: settle neither
  // promotes nor waits for them (tests/webhooks wait for their receiver instead).
  const SETTLED = QUEUE_NAMES.filter((n): n is Exclude<QueueName, 'events'> => n !== 'events');

  /** Delayed jobs whose time has come on the fake clock, and retries, run now. */
  const promoteDue = async () => {
    for (const name of SETTLED) {
      const delayed = await deps.queues[name].getDelayed();
      if (!delayed.length) continue;
      const ids = delayed.map((j) => j.data.messageId);
      const rows = await deps.db.message.findMany({
        where: { id: { in: ids } },
        select: { id: true, dueAt: true },
      });
      const dueAt = new Map(rows.map((r) => [r.id, r.dueAt]));
      const now = clock.now().getTime();
      for (const job of delayed) {
        const due = dueAt.get(job.data.messageId);
        if (!due || due.getTime() <= now) await job.promote().catch(() => {}); // taken meanwhile
      }
    }
  };

  const busy = async () => {
    const counts = await Promise.all(
      SETTLED.map(async (name) => [
        name,
        await deps.queues[name].getJobCounts('waiting', 'prioritized', 'active'),
      ]),
    );
    const total = counts.reduce(
      (n, [, c]) => n + Object.values(c as Record<string, number>).reduce((a, b) => a + b, 0),
      0,
    );
    return { total, counts: Object.fromEntries(counts) as Record<string, unknown> };
  };

  const settle = async ({ timeout = 15_000 } = {}) => {
    if (!workers) throw new Error('settle() needs the workers: call startWorkers() first');
    let idle = 0;
    let last: Record<string, unknown> = {};
    await waitFor(
      async () => {
        await promoteDue();
        const b = await busy();
        last = b.counts;
        idle = b.total === 0 ? idle + 1 : 0;
        return idle >= 2;
      },
      { timeout, interval: 15, message: () => `queues still busy: ${JSON.stringify(last)}` },
    );
  };

  return {
    deps,
    clock,
    config,
    twilio,
    smtp,
    get workers() {
      return workers;
    },
    startWorkers: start,
    smsTo: (phone) => twilio.messages.filter((m) => m.to === phone),
    mailTo: (address) =>
      smtp.messages.filter((m) =>
        m.envelope.to.some((a) => a.toLowerCase() === address.toLowerCase()),
      ),
    settle,
    async loseRedisKeys() {
      await deleteKeys(deps.redis, `${config.redisPrefix}:*`);
      const queues = queuePrefix(config);
      if (queues !== config.redisPrefix) await deleteKeys(deps.redis, `${queues}:*`);
    },
    async pauseWorkers() {
      await Promise.all((workers?.workers ?? []).map((w) => w.pause()));
    },
    resumeWorkers() {
      for (const w of workers?.workers ?? []) w.resume();
    },
    async close() {
      await workers?.close(2000);
      for (const q of Object.values(deps.queues))
        await q.obliterate({ force: true }).catch(() => {});
      await closeDeps(deps);
      await Promise.all([twilio.close(), smtp.close()]);
    },
  };
}

/** A confirmed SMS subscriber on a fresh number, enrolled as the CLI would (welcome queued). */
export async function enrolledByPhone(h: Harness, timezone = 'America/New_York') {
  const phone = await freshPhone(h.deps.db);
  const r = await enroll(h.deps, { phone, timezone, confirm: true, evidence: { source: 'test' } });
  return { ...r, phone };
}
