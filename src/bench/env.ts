// Where the benchmark runs: its own database (`steady_bench`, created and migrated here) and its
// own Redis key prefix, never those of `dev` or the tests. Every part starts by emptying the bench
// tables, and the run ends by removing every key under the bench prefix.
import { Queue } from 'bullmq';
import pg from 'pg';
import type { Config } from '../config.ts';
import { ensureDatabase, migrate } from '../db/migrate.ts';
import { MIGRATIONS_DIR } from '../paths.ts';
import { QUEUE_NAMES } from '../queues.ts';
import { createRedis, deleteKeys, queuePrefix } from '../redis.ts';

export const BENCH_DATABASE = 'steady_bench';
export const BENCH_PREFIX = 'steadybench';
/** The bare pipeline's queue, beside Steady's own queues under the bench prefix. */
export const CEILING_QUEUE = 'ceiling';

export interface BenchEnv {
  /** The configuration the command was started with (concurrency, batch and pool defaults). */
  config: Config;
  databaseUrl: string;
  /** The same database with no pooler in between (DIRECT_DATABASE_URL's server): the session lock
   * and creating, migrating and dropping the database go through it. */
  directDatabaseUrl: string;
  redisUrl: string;
  redisPrefix: string;
}

/** The bench's place: `steady_bench*` on the configured server, a `steadybench*` Redis prefix. The
 * names are checked, since every part empties the tables and deletes the keys it finds there. */
export function benchEnv(
  config: Config,
  opts: { database?: string; prefix?: string } = {},
): BenchEnv {
  const database = opts.database ?? BENCH_DATABASE;
  const prefix = opts.prefix ?? BENCH_PREFIX;
  if (!database.startsWith(BENCH_DATABASE) || !prefix.startsWith(BENCH_PREFIX))
    throw new Error(
      `the benchmark runs only on a ${BENCH_DATABASE}* database and ${BENCH_PREFIX}* prefix`,
    );
  const url = new URL(config.databaseUrl);
  url.pathname = '/' + database;
  const direct = new URL(config.directDatabaseUrl);
  direct.pathname = '/' + database;
  return {
    config,
    databaseUrl: url.toString(),
    directDatabaseUrl: direct.toString(),
    redisUrl: config.redisUrl,
    redisPrefix: prefix,
  };
}

/** Tables of the bare pipeline (the ceiling): due rows with a partial index, and a send log. */
const CEILING_TABLES = `
CREATE TABLE IF NOT EXISTS bench_due (
  id bigint PRIMARY KEY,
  phone text NOT NULL,
  due_at timestamptz NOT NULL,
  claimed_at timestamptz
);
CREATE INDEX IF NOT EXISTS bench_due_unclaimed_idx ON bench_due (due_at) WHERE claimed_at IS NULL;
CREATE TABLE IF NOT EXISTS bench_sent (
  id bigint NOT NULL,
  provider_id text NOT NULL,
  sent_at timestamptz NOT NULL
);`;

/** Creates and migrates the bench database (idempotent), plus the ceiling's own tables. */
export async function prepareDatabase(env: BenchEnv): Promise<void> {
  await ensureDatabase(env.directDatabaseUrl);
  await migrate(env.directDatabaseUrl, MIGRATIONS_DIR);
  const client = new pg.Client({ connectionString: env.databaseUrl });
  await client.connect();
  try {
    await client.query(CEILING_TABLES);
  } finally {
    await client.end();
  }
}

/** One benchmark at a time per bench database: two would empty each other's tables. Holds a
 * session lock until `release` (or until the process ends). */
export async function lockBench(env: BenchEnv): Promise<{ release(): Promise<void> }> {
  const client = new pg.Client({ connectionString: env.directDatabaseUrl });
  await client.connect();
  const { rows } = await client.query<{ ok: boolean }>(
    "SELECT pg_try_advisory_lock(hashtext('steady-bench')) AS ok",
  );
  if (!rows[0]?.ok) {
    await client.end();
    const db = new URL(env.databaseUrl).pathname.slice(1);
    throw new Error(`another benchmark is running on database ${db}; wait for it to finish`);
  }
  return { release: () => client.end() };
}

/** Drops a bench database (the smoke test makes its own each run). */
export async function dropBenchDatabase(env: BenchEnv): Promise<void> {
  const url = new URL(env.directDatabaseUrl);
  const name = url.pathname.slice(1);
  if (!name.startsWith(BENCH_DATABASE)) throw new Error(`refusing to drop "${name}"`);
  url.pathname = '/postgres';
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

export function benchPool(env: BenchEnv, max = 4): pg.Pool {
  return new pg.Pool({ connectionString: env.databaseUrl, max });
}

const TABLES = [
  'audit_events',
  'checkins',
  'consent_events',
  'enrollments',
  'messages',
  'outbox',
  'safety_flags',
  'subscribers',
  'suppressions',
  'bench_due',
  'bench_sent',
];

/** Empties every bench table. Guarded: only ever on a database whose name says it is a bench. */
export async function truncateBenchTables(env: BenchEnv, pool: pg.Pool): Promise<void> {
  const { rows } = await pool.query<{ db: string }>('SELECT current_database() AS db');
  const db = rows[0]?.db ?? '';
  if (!db.startsWith(BENCH_DATABASE)) throw new Error(`refusing to truncate tables in "${db}"`);
  await pool.query(`TRUNCATE ${TABLES.map((t) => `"${t}"`).join(', ')} CASCADE`);
}

/** Removes the bench's queues and every other key under its prefix (cron slots, limits). */
export async function cleanRedis(env: BenchEnv): Promise<void> {
  const redis = createRedis(env.redisUrl, { maxRetriesPerRequest: null });
  const prefix = queuePrefix(env);
  try {
    for (const name of [...QUEUE_NAMES, CEILING_QUEUE]) {
      const q = new Queue(name, { connection: redis, prefix });
      await q.obliterate({ force: true }).catch(() => {});
      await q.close();
    }
    // Every master of a cluster; the queues' keys there are under `{prefix}:`.
    await deleteKeys(redis, `${env.redisPrefix}:*`);
    if (prefix !== env.redisPrefix) await deleteKeys(redis, `${prefix}:*`);
  } finally {
    redis.disconnect();
  }
}

/** Environment for a Steady process of the bench: the bench database and prefix, Twilio routed to
 * the local fake, web on a free port. Everything else comes from the caller's environment, so the
 * concurrency, batch and pool settings are those `dev` would use. */
export function steadyEnv(
  env: BenchEnv,
  fake: { url: string; accountSid: string; authToken: string },
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    DATABASE_URL: env.databaseUrl,
    REDIS_URL: env.redisUrl,
    REDIS_PREFIX: env.redisPrefix,
    SMS_TRANSPORT: 'twilio',
    TWILIO_ACCOUNT_SID: fake.accountSid,
    TWILIO_AUTH_TOKEN: fake.authToken,
    TWILIO_FROM: BENCH_FROM,
    TWILIO_API_BASE: fake.url,
    PUBLIC_URL: BENCH_PUBLIC_URL,
    PORT: '0',
    HOST: '127.0.0.1',
    INBOUND_SMTP_PORT: '0',
    ...extra,
  };
}

export const BENCH_FROM = '+12025550100';
/** The URL webhooks are signed for (Twilio signs the public URL, not the one we connect to). */
export const BENCH_PUBLIC_URL = 'http://steady-bench.localhost';
