// Steady on a real Redis Cluster (3 masters, 3 replicas, started by this file): the queues and the
// real workers deliver SMS through the fake Twilio, the provider's rate limiter holds, the web's
// rate limits, sign-in counts, console-session style keys and cron slots work, and when the master
// holding the queues is killed a replica takes over and jobs go on (a job the dead master had not
// yet handed to its replica is rebuilt by the sweep from PostgreSQL).
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimSlot } from '../../jobs/cron.ts';
import { claimDueSteps } from '../../src/flows/claim-due.ts';
import { requeueLost } from '../../src/flows/sweep.ts';
import { countGuess, GUESS_LIMIT } from '../../src/http/admin/guess-limit.ts';
import { rateLimit, refundRateLimit } from '../../src/http/rate-limit.ts';
import { deleteKeys, queuePrefix, scanKeys } from '../../src/redis.ts';
import { ownDatabase } from '../support/db.ts';
import { enrolledByPhone, harness, waitFor, type Harness } from '../support/harness.ts';
import { startRedisCluster, type RedisClusterHandle } from '../support/redis-cluster.ts';

let cluster: RedisClusterHandle;
let h: Harness;
let database: string;

beforeAll(async () => {
  cluster = await startRedisCluster();
  database = await ownDatabase('cluster');
  h = await harness({
    start: '2026-05-04T13:00:00Z',
    // 20 SMS a second across every worker (BullMQ's limiter, in the queue's slot).
    env: { DATABASE_URL: database, REDIS_URL: cluster.url, SMS_RATE_PER_SECOND: '20' },
  });
}, 120_000);
afterAll(async () => {
  await h?.close();
  await cluster?.stop();
});

const enrolled = () => enrolledByPhone(h);

/** One after another: the harness has a small database pool, shared with the workers. */
async function some(n: number) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(await enrolled());
  return out;
}

describe('on a Redis Cluster', () => {
  it('connects as a cluster client and keeps every queue key in the slot of {prefix}', async () => {
    expect(h.deps.redis).toBeInstanceOf(Cluster);
    const prefix = queuePrefix(h.config);
    expect(prefix).toBe(`{${h.config.redisPrefix}}`);
    const r = await enrolled();
    await h.settle();
    expect(h.smsTo(r.phone)).toHaveLength(1);
    // Every key BullMQ wrote lives on the one master that holds the hash tag's slot.
    const owner = await cluster.masterOf(prefix);
    const where = new Set<string>();
    await scanKeys(h.deps.redis, `${prefix}:*`, async (keys, node) => {
      if (keys.length) where.add(String(node.options.port));
    });
    expect([...where]).toEqual([String(owner.port)]);
  });

  it('the real workers deliver program messages through the fake Twilio, at the provider rate', async () => {
    const people = await some(20);
    await h.settle();
    for (const p of people) expect(h.smsTo(p.phone)).toHaveLength(1); // the welcomes
    // The first program step of all twenty, due at once: claimed and sent on the `sms` queue.
    const due = await h.deps.db.enrollment.findMany({
      where: { id: { in: people.map((p) => p.enrollmentId) } },
      select: { nextRunAt: true },
    });
    h.clock.set(new Date(Math.max(...due.map((e) => e.nextRunAt!.getTime()))));
    await claimDueSteps(h.deps);
    await h.settle({ timeout: 30_000 });
    const steps = people.map((p) => h.smsTo(p.phone)[1]!);
    for (const s of steps) expect(s).toBeDefined();
    const times = steps.map((s) => s.receivedAt).sort((a, b) => a - b);
    // 20 at 20/s: about a second (windows of 2 per ~96 ms); without the limiter ~0.1 s.
    expect(times.at(-1)! - times[0]!).toBeGreaterThan(700);
  });

  it('rate limits, sign-in counts (with the refund script) and cron slots work', async () => {
    const deps = h.deps;
    const got = [];
    for (let i = 0; i < 4; i++) got.push((await rateLimit(deps, 'cluster:a', 3, 60)).ok);
    expect(got).toEqual([true, true, true, false]);
    await refundRateLimit(deps, 'cluster:a');
    expect((await rateLimit(deps, 'cluster:a', 3, 60)).ok).toBe(false); // 4 - 1 + 1 = 4 > 3
    expect(await deps.redis.ttl(`${h.config.redisPrefix}:rl:cluster:a`)).toBeGreaterThan(0);

    const ip = '203.0.113.77';
    const attempts = [];
    for (let i = 0; i <= GUESS_LIMIT.attempts; i++)
      attempts.push(await countGuess(deps, ip, 'api'));
    expect(attempts.slice(0, GUESS_LIMIT.attempts).every((a) => a.refused === null)).toBe(true);
    expect(attempts.at(-1)!.refused).not.toBeNull();

    const slot = new Date('2026-05-04T13:00:00Z');
    const claims = await Promise.all([1, 2, 3].map(() => claimSlot(deps, 'cluster-test', slot)));
    expect(claims.filter(Boolean)).toHaveLength(1);

    // Deleting by pattern reaches every master.
    expect(await deleteKeys(deps.redis, `${h.config.redisPrefix}:rl:*`)).toBeGreaterThan(0);
    expect(await deps.redis.exists(`${h.config.redisPrefix}:rl:cluster:a`)).toBe(0);
  });

  it('a master dies: a replica takes over, and jobs continue (lost ones rebuilt by the sweep)', async () => {
    // Work in flight when the master holding the queues dies.
    await h.pauseWorkers();
    const before = await some(5);
    const failover = await cluster.killMaster({ key: queuePrefix(h.config) });
    expect(failover.promoted).not.toBe(failover.killed);
    h.resumeWorkers();
    // New work after the failover.
    const after = await some(5);
    // A job the dead master had not yet copied to its replica is gone; the sweep queues it again.
    await waitFor(
      async () => {
        await requeueLost(h.deps, { staleMs: 0 });
        await h.settle({ timeout: 30_000 });
        return [...before, ...after].every((p) => h.smsTo(p.phone).length >= 1);
      },
      { timeout: 60_000, interval: 500 },
    );
    // Each welcome exactly once.
    for (const p of [...before, ...after]) expect(h.smsTo(p.phone)).toHaveLength(1);
  }, 120_000);
});
