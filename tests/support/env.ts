// Tests use their own database and Redis key prefix, never those `dev` uses, so the suite can run
// beside a developer's running service and twice in a row on the same machine.
import { randomBytes } from 'node:crypto';
import { loadConfig, type Config } from '../../src/config.ts';

export const TEST_DATABASE_URL =
  process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/steady_test';
/** The test server without a pooler in between (TEST_DATABASE_URL may name a PgBouncer in
 * transaction mode): databases are created and migrated through it. Unset: TEST_DATABASE_URL. */
export const TEST_DIRECT_DATABASE_URL = process.env.TEST_DIRECT_DATABASE_URL ?? TEST_DATABASE_URL;
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** The suite is running against a Redis Cluster (`npm run test:fleet-services`). */
export const ON_CLUSTER = /^rediss?\+cluster:/.test(TEST_REDIS_URL);

/** A unique Redis prefix per test file, so queues never collide between files or runs. */
export function testPrefix(name = 'test'): string {
  return `steadytest-${name}-${randomBytes(4).toString('hex')}`;
}

export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: TEST_DATABASE_URL,
    REDIS_URL: TEST_REDIS_URL,
    REDIS_PREFIX: testPrefix(),
    LOG_LEVEL: 'silent',
    PUBLIC_URL: 'https://steady.example.com',
    // The suite runs many times on one database; the sign-up caps have their own tests.
    PENDING_CAP_PER_HOUR: '1000000',
    EMAIL_PENDING_CAP_PER_HOUR: '1000000',
    // Tests play clients at different addresses with X-Forwarded-For, as a proxy would send it.
    TRUST_PROXY: '1',
    ...overrides,
  });
}
