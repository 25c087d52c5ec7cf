// Start-up checks shared by every role: clear messages naming host:port and what to do.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb } from '../../src/db/client.ts';
import { checkServices, StartupError } from '../../src/main.ts';
import { testConfig, TEST_DATABASE_URL } from '../support/env.ts';

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as { port: number };
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

let lru: ChildProcess;
let lruPort: number;
beforeAll(async () => {
  lruPort = await freePort();
  lru = spawn(
    'redis-server',
    [
      '--port',
      String(lruPort),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--maxmemory-policy',
      'allkeys-lru',
    ],
    { stdio: 'ignore' },
  );
  const probe = new Redis({
    port: lruPort,
    lazyConnect: true,
    retryStrategy: () => 100,
    maxRetriesPerRequest: null,
  });
  for (let i = 0; i < 50; i++) {
    if (
      await probe.connect().then(
        () => true,
        () => false,
      )
    )
      break;
    await new Promise((r) => setTimeout(r, 100));
  }
  probe.disconnect();
});
afterAll(() => {
  lru?.kill('SIGKILL');
});

describe('start-up checks', () => {
  it('refuse a Redis that may evict jobs, and say how to fix it', async () => {
    const cfg = testConfig({ REDIS_URL: `redis://127.0.0.1:${lruPort}` });
    const db = createDb(TEST_DATABASE_URL, { max: 1 });
    const redis = new Redis(cfg.redisUrl, { maxRetriesPerRequest: 1 });
    try {
      const err = await checkServices(cfg, db, redis).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(StartupError);
      expect((err as Error).message).toMatch(/allkeys-lru/);
      expect((err as Error).message).toMatch(/maxmemory-policy noeviction/);
      expect((err as Error).message).toContain(`127.0.0.1:${lruPort}`);
    } finally {
      redis.disconnect();
      await db.$disconnect();
    }
  });

  it('name an unreachable PostgreSQL and Redis with host:port and how to start them', async () => {
    const [pgPort, redisPort] = [await freePort(), await freePort()];
    const cfg = testConfig({
      DATABASE_URL: `postgresql://postgres@127.0.0.1:${pgPort}/steady`,
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
    });
    const db = createDb(cfg.databaseUrl, { max: 1 });
    const redis = new Redis(cfg.redisUrl, {
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      lazyConnect: true,
    });
    redis.on('error', () => {});
    try {
      const err = (await checkServices(cfg, db, redis).then(
        () => null,
        (e: unknown) => e,
      )) as Error;
      expect(err).toBeInstanceOf(StartupError);
      expect(err.message).toContain(`PostgreSQL is not reachable at 127.0.0.1:${pgPort}`);
      expect(err.message).toContain(`Redis is not reachable at 127.0.0.1:${redisPort}`);
      expect(err.message).toMatch(/pg_ctlcluster|docker compose/);
      expect(err.message).toMatch(/redis-server/);
    } finally {
      redis.disconnect();
      await db.$disconnect();
    }
  });
});
