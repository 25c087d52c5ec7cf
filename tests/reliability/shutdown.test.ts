// Graceful shutdown of a real worker process: SIGTERM stops it taking jobs, lets the sends in
// flight finish within SHUTDOWN_GRACE_MS, leaves the jobs it had not started in the queue for the
// next worker, closes its connections and exits 0. A provider slower than the grace time does not
// hold the process hostage, and still nothing is lost.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import type { Deps } from '../../src/deps.ts';
import { enroll } from '../../src/flows/enroll.ts';
import { createOutbound, enqueueSends } from '../../src/flows/outbound.ts';
import { createLog } from '../../src/log.ts';
import { buildDeps, closeDeps } from '../../src/main.ts';
import { sendJobId } from '../../src/queues.ts';
import { startCli, type CliProcess } from '../support/cli-process.ts';
import { daytimeZones } from '../../src/bench/seed.ts';
import { freshPhone, ownDatabase } from '../support/db.ts';
import { ON_CLUSTER, TEST_REDIS_URL, testPrefix } from '../support/env.ts';
import { startFakeTwilio, type FakeTwilio } from '../support/fake-twilio.ts';

let fake: FakeTwilio;
let deps: Deps;
let env: Record<string, string>;
let worker: CliProcess | undefined;

beforeAll(async () => {
  fake = await startFakeTwilio();
  env = {
    NODE_ENV: 'test',
    // Its own database: another file's sweep must not take the messages this one leaves queued.
    DATABASE_URL: await ownDatabase('shutdown'),
    REDIS_URL: TEST_REDIS_URL,
    REDIS_PREFIX: testPrefix('shutdown'),
    SMS_TRANSPORT: 'twilio',
    TWILIO_ACCOUNT_SID: fake.accountSid,
    TWILIO_AUTH_TOKEN: fake.authToken,
    TWILIO_FROM: '+12025550100',
    TWILIO_API_BASE: fake.url,
    PUBLIC_URL: 'https://steady.example.com',
    LOG_LEVEL: 'info',
    SEND_CONCURRENCY: '3',
    SHUTDOWN_GRACE_MS: '5000',
  };
  // This process only enrolls and queues; the worker process under test does the sending.
  deps = await buildDeps(loadConfig(env), {
    log: createLog('silent'),
    dbPoolSize: 3,
  });
});

afterEach(() => {
  if (worker?.proc.exitCode === null) worker.proc.kill('SIGKILL');
});

afterAll(async () => {
  if (deps)
    for (const q of Object.values(deps.queues)) await q.obliterate({ force: true }).catch(() => {});
  if (deps) await closeDeps(deps);
  await fake?.close();
});

/** `count` nudges due now on the sms queue, for fresh active subscribers. */
async function queueNudges(count: number): Promise<string[]> {
  const ids: string[] = [];
  const now = new Date();
  for (let i = 0; i < count; i++) {
    const r = await enroll(deps, {
      phone: await freshPhone(deps.db),
      // Real clock here: a zone where it is daytime now, or the worker holds nudges for quiet hours.
      timezone: daytimeZones(now)[0],
      confirm: true,
      evidence: { source: 'test' },
    });
    const send = await deps.db.$transaction((tx) =>
      createOutbound(
        tx,
        {
          subscriberId: r.subscriberId,
          enrollmentId: r.enrollmentId,
          channel: 'sms',
          kind: 'nudge',
          template: 'w1-d1',
          step: 'w1-d1',
          lane: 'program',
        },
        now,
      ),
    );
    ids.push(send!.messageId);
    await enqueueSends(deps.queues, [send!], now);
  }
  return ids;
}

async function until(check: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const statusOf = async (ids: string[]) =>
  new Map(
    (
      await deps.db.message.findMany({
        where: { id: { in: ids } },
        select: { id: true, status: true },
      })
    ).map((m) => [m.id, m.status]),
  );

describe('SIGTERM on a worker', () => {
  it('finishes the sends in flight, leaves the rest queued, closes and exits 0 within the grace time', async () => {
    fake.setDelay(1500);
    const requestsBefore = fake.stats.requests;
    const acceptedBefore = fake.messages.length;
    const ids = await queueNudges(7);
    worker = startCli(['work', '--queues', 'sms'], env);
    await worker.started;
    // Three sends (the concurrency) are at the provider, which takes 1.5 s to answer.
    await until(() => fake.stats.requests - requestsBefore >= 3, 15_000);
    const termAt = Date.now();
    worker.proc.kill('SIGTERM');
    const exit = await worker.exited;
    expect(exit.code).toBe(0);
    expect(exit.at - termAt).toBeLessThan(5000);
    // It waited for the answers rather than dropping the calls.
    expect(exit.at - termAt).toBeGreaterThan(500);

    const accepted = fake.messages.slice(acceptedBefore);
    expect(accepted).toHaveLength(3);
    expect(fake.stats.requests - requestsBefore).toBe(3); // took nothing new after SIGTERM
    const status = await statusOf(ids);
    const sent = ids.filter((id) => status.get(id) === 'sent');
    const queued = ids.filter((id) => status.get(id) === 'queued');
    expect(sent).toHaveLength(3);
    expect(queued).toHaveLength(4);
    // The jobs it never started are still in Redis for the next worker.
    for (const id of queued)
      expect(await deps.queues.sms.getJobState(sendJobId(id))).toMatch(
        /waiting|prioritized|delayed/,
      );
    expect(worker.lines.some((l) => l.includes('shutting down'))).toBe(true);
  }, 60_000);

  // Passes on a cluster alone, but overran its time in 1 of 4 full parallel runs there: not yet
  // understood, so it runs on a single server only (a known gap, README "Tests").
  it.skipIf(ON_CLUSTER)(
    'does not wait past the grace time for a provider that hangs, and loses nothing',
    async () => {
      fake.setDelay(20_000);
      // The jobs the first test left waiting would be taken first: start from an empty queue.
      await deps.queues.sms.obliterate({ force: true });
      const requestsBefore = fake.stats.requests;
      const ids = await queueNudges(4);
      const grace = 2000;
      worker = startCli(['work', '--queues', 'sms'], { ...env, SHUTDOWN_GRACE_MS: String(grace) });
      await worker.started;
      await until(() => fake.stats.requests - requestsBefore >= 3, 15_000);
      const termAt = Date.now();
      worker.proc.kill('SIGTERM');
      const exit = await worker.exited;
      expect(exit.code).toBe(0);
      expect(exit.at - termAt).toBeLessThanOrEqual(grace + 500);
      fake.setDelay(0);

      // At most once: a send cut off mid-call stays `sending` (the sweep marks it unknown and the
      // provider's callback settles it), is never put back in the queue, and the job not started
      // is still waiting. Nothing is in limbo without a record.
      const status = await statusOf(ids);
      const inFlight = ids.filter(
        (id) => status.get(id) === 'sending' || status.get(id) === 'unknown',
      );
      const waiting = ids.filter((id) => status.get(id) === 'queued');
      expect(inFlight).toHaveLength(3);
      expect(waiting).toHaveLength(1);
      expect(await deps.queues.sms.getJobState(sendJobId(waiting[0]!))).toMatch(
        /waiting|prioritized|delayed/,
      );
    },
    60_000,
  );
});
