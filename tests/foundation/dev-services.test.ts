// `npm run dev` without running services: private PostgreSQL and Redis are started from the
// installed programs when nothing answers on the configured (local) ports, keep their data between
// runs, and stop when asked; with the programs missing, the message says how to get them. Real
// servers, in a folder of this test's own (never the project's .steady/), on spare ports.
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import {
  answers,
  ensureLocalServices,
  findPostgres,
  findRedis,
} from '../../src/commands/dev-services.ts';
import { StartupError } from '../../src/startup-error.ts';
import { testConfig } from '../support/env.ts';

async function sparePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as { port: number };
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

// As root, the private PostgreSQL runs as the postgres user, which must be able to enter here.
const base = mkdtempSync(join(tmpdir(), 'steady-devservices-'));
chmodSync(base, 0o755);
afterAll(() => rmSync(base, { recursive: true, force: true }));

const installed = Boolean(findPostgres() && findRedis());

describe('private services for dev', () => {
  it.skipIf(!installed)(
    'starts PostgreSQL and Redis where nothing answers, keeps their data, and stops them',
    async () => {
      const [pgPort, redisPort] = [await sparePort(), await sparePort()];
      const config = testConfig({
        DATABASE_URL: `postgresql://postgres@127.0.0.1:${pgPort}/postgres`,
        REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      });
      const lines: string[] = [];
      const say = (l: string) => lines.push(l);

      const first = await ensureLocalServices(config, { base, say });
      try {
        expect(first.started.map((s) => s.name)).toEqual(['PostgreSQL', 'Redis']);
        expect(first.banner.join('\n')).toContain(`127.0.0.1:${pgPort}`);
        expect(first.banner.join('\n')).toContain(`127.0.0.1:${redisPort}`);
        const db = new pg.Client({ connectionString: config.databaseUrl });
        await db.connect();
        await db.query('CREATE TABLE kept (n int); INSERT INTO kept VALUES (42)');
        await db.end();
        const redis = new Redis(config.redisUrl);
        await redis.set('kept', 'yes');
        expect(await redis.config('GET', 'maxmemory-policy')).toEqual([
          'maxmemory-policy',
          'noeviction',
        ]);
        redis.disconnect();
      } finally {
        await first.stop();
      }
      expect(await answers('127.0.0.1', pgPort)).toBe(false);
      expect(await answers('127.0.0.1', redisPort)).toBe(false);
      expect(existsSync(join(base, 'postgres', 'data', 'PG_VERSION'))).toBe(true);

      // The second run finds the data the first left.
      const second = await ensureLocalServices(config, { base, say });
      try {
        const db = new pg.Client({ connectionString: config.databaseUrl });
        await db.connect();
        expect((await db.query('SELECT n FROM kept')).rows).toEqual([{ n: 42 }]);
        await db.end();
        const redis = new Redis(config.redisUrl);
        expect(await redis.get('kept')).toBe('yes');
        redis.disconnect();
      } finally {
        await second.stop();
      }
      expect(await answers('127.0.0.1', pgPort)).toBe(false);
      expect(lines.filter((l) => l.includes('Starting a private'))).toHaveLength(4);
    },
    120_000,
  );

  it('starts nothing when the configured services answer', async () => {
    const local = await ensureLocalServices(testConfig(), {
      base,
      find: {
        postgres: () => {
          throw new Error('not looked for');
        },
        redis: () => {
          throw new Error('not looked for');
        },
      },
    });
    expect(local.started).toEqual([]);
    expect(local.banner).toEqual([]);
  });

  it('without the programs, says how to install them or run them in Docker', async () => {
    const [pgPort, redisPort] = [await sparePort(), await sparePort()];
    const config = testConfig({
      DATABASE_URL: `postgresql://postgres@127.0.0.1:${pgPort}/steady`,
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
    });
    const err = await ensureLocalServices(config, {
      base,
      find: { postgres: () => undefined, redis: () => undefined },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StartupError);
    const message = (err as Error).message;
    expect(message).toContain(`PostgreSQL is not answering at 127.0.0.1:${pgPort}`);
    expect(message).toContain(`Redis is not answering at 127.0.0.1:${redisPort}`);
    expect(message).toContain('apt-get install postgresql redis-server');
    expect(message).toContain('docker compose -f docker-compose.yml -f docker-compose.dev.yml');
  });

  it('leaves a service on another machine to the usual start-up check', async () => {
    const config = testConfig({
      // Never contacted: only local hosts are probed.
      DATABASE_URL: 'postgresql://postgres@db.invalid:5432/steady',
      REDIS_URL: 'redis://cache.invalid:6379',
    });
    const local = await ensureLocalServices(config, {
      base,
      find: { postgres: () => undefined, redis: () => undefined },
    });
    expect(local.started).toEqual([]);
  });
});
