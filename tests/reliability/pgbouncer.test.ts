// Steady behind a real PgBouncer in transaction mode (README, "Behind PgBouncer"): PgBouncer 1.18
// (Debian's, /usr/sbin/pgbouncer) is started on a spare port in front of the test server, with a
// small pool, so consecutive transactions of one client land on different server connections.
// Through it run the migrator (and with DIRECT_DATABASE_URL around it), the real workers
// delivering a welcome and a nudge to the fake Twilio, the scheduler's claim, the sweep, a Twilio
// status callback, interactive transactions and the check-in export's cursor.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeCheckinExport } from '../../src/flows/checkin-export.ts';
import { claimDueSteps } from '../../src/flows/claim-due.ts';
import { requeueLost } from '../../src/flows/sweep.ts';
import { ensureDatabase, listMigrations, migrate } from '../../src/db/migrate.ts';
import { buildApp } from '../../src/http/app.ts';
import { routeModules } from '../../src/http/modules.ts';
import { MIGRATIONS_DIR } from '../../src/paths.ts';
import { findPgBouncer, startPgBouncer, type PgBouncer } from '../../src/testing/pgbouncer.ts';
import { freshPhone } from '../support/db.ts';
import { TEST_DIRECT_DATABASE_URL } from '../support/env.ts';
import { enrolledByPhone, harness, type Harness } from '../support/harness.ts';
import { postToTwilioWebhook } from '../support/twilio-post.ts';

// CI installs PgBouncer (apt-get install -y pgbouncer); elsewhere the file says why it skips.
const installed = findPgBouncer() !== null;
if (!installed) console.warn('PgBouncer is not installed (apt-get install -y pgbouncer): skipped');

const upstream = new URL(TEST_DIRECT_DATABASE_URL);
let bouncer: PgBouncer;

/** The test server's URL of database `name`, straight (no PgBouncer). */
function directUrl(name: string): string {
  const u = new URL(TEST_DIRECT_DATABASE_URL);
  u.pathname = `/${name}`;
  return u.toString();
}

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** PgBouncer's admin console (simple queries only). */
function admin<T extends pg.QueryResultRow>(sql: string): Promise<T[]> {
  return withClient(bouncer.url('pgbouncer'), async (c) => (await c.query<T>(sql)).rows);
}

async function dropDatabase(name: string): Promise<void> {
  await withClient(directUrl('postgres'), (c) =>
    c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
  );
}

beforeAll(async () => {
  if (!installed) return;
  bouncer = await startPgBouncer({
    upstreamHost: upstream.hostname,
    upstreamPort: Number(upstream.port || 5432),
    poolMode: 'transaction',
    // Fewer server connections than the harness's clients: transactions share them.
    defaultPoolSize: 3,
    maxClientConn: 200,
  });
});
afterAll(async () => bouncer?.stop());

describe.skipIf(!installed)('the PgBouncer launcher', () => {
  it('runs a real PgBouncer in transaction mode that reaches any database through `*`', async () => {
    const [pool] = await admin<{ key: string; value: string }>('SHOW CONFIG').then((rows) =>
      rows.filter((r) => r.key === 'pool_mode'),
    );
    expect(pool?.value).toBe('transaction');
    const name = await withClient(bouncer.url('postgres'), async (c) => {
      return (await c.query<{ d: string }>('SELECT current_database() AS d')).rows[0]!.d;
    });
    expect(name).toBe('postgres');
    expect(bouncer.log()).toMatch(/listening on/);
  });

  it('says why when it cannot start (the port is taken)', async () => {
    await expect(startPgBouncer({ port: bouncer.port, readyTimeoutMs: 3000 })).rejects.toThrow(
      /PgBouncer exited|did not listen/,
    );
  });
});

describe.skipIf(!installed)('migrations', () => {
  const fresh = () => `steady_test_pgb_${process.pid}_${randomBytes(3).toString('hex')}`;

  it('`migrate` with DIRECT_DATABASE_URL creates and migrates the database without PgBouncer', async () => {
    const name = fresh();
    try {
      const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'migrate'], {
        cwd: process.cwd(),
        encoding: 'utf8',
        timeout: 60_000,
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          NODE_ENV: 'test',
          DATABASE_URL: bouncer.url(name),
          DIRECT_DATABASE_URL: directUrl(name),
        },
      });
      expect(r.stderr + r.stdout).toMatch(new RegExp(`created database ${name}`));
      expect(r.status).toBe(0);
      // PgBouncer never saw the database: nothing asked for it through `*`.
      const dbs = await admin<{ name: string }>('SHOW DATABASES');
      expect(dbs.map((d) => d.name)).not.toContain(name);
      // And the service reaches the migrated database through PgBouncer.
      const n = await withClient(bouncer.url(name), async (c) => {
        const { rows } = await c.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM "_prisma_migrations" WHERE finished_at IS NOT NULL',
        );
        return rows[0]!.n;
      });
      expect(n).toBe((await listMigrations(MIGRATIONS_DIR)).length);
    } finally {
      await dropDatabase(name);
    }
  });

  it('without it, migrating through PgBouncer is still correct: each step holds a transaction lock', async () => {
    const name = fresh();
    try {
      // CREATE DATABASE is one statement outside a transaction: fine through PgBouncer too.
      expect(await ensureDatabase(bouncer.url(name))).toBe(true);
      // Three migrators at once through a pool of three server connections.
      const results = await Promise.all(
        [1, 2, 3].map(() => migrate(bouncer.url(name), MIGRATIONS_DIR)),
      );
      const total = (await listMigrations(MIGRATIONS_DIR)).length;
      expect(results.reduce((n, r) => n + r.applied.length, 0)).toBe(total);
      const rows = await withClient(directUrl(name), async (c) => {
        const r = await c.query<{ migration_name: string; finished: boolean }>(
          'SELECT migration_name, finished_at IS NOT NULL AS finished FROM "_prisma_migrations"',
        );
        return r.rows;
      });
      expect(rows).toHaveLength(total);
      expect(rows.every((r) => r.finished)).toBe(true);
      // Nothing is left holding the migration lock on a pooled server connection.
      const held = await withClient(directUrl('postgres'), async (c) => {
        const r = await c.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND objid = 72707369`,
        );
        return r.rows[0]!.n;
      });
      expect(held).toBe(0);
    } finally {
      await dropDatabase(name);
    }
  });

  it('why no session lock: through PgBouncer it outlives the client that took it', async () => {
    const key = 900_000 + Math.floor(Math.random() * 100_000);
    await withClient(bouncer.url('postgres'), (c) => c.query('SELECT pg_advisory_lock($1)', [key]));
    // The client is gone, but its server connection went back to PgBouncer's pool holding the lock.
    try {
      const free = await withClient(directUrl('postgres'), async (c) => {
        const r = await c.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [key]);
        if (r.rows[0]!.ok) await c.query('SELECT pg_advisory_unlock($1)', [key]);
        return r.rows[0]!.ok;
      });
      expect(free).toBe(false);
    } finally {
      await withClient(directUrl('postgres'), (c) =>
        c.query(
          `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND objid = $1`,
          [key],
        ),
      );
    }
  });
});

describe.skipIf(!installed)('Steady through PgBouncer', () => {
  const dbName = 'steady_test_pgbouncer';
  let h: Harness;
  let app: FastifyInstance;

  beforeAll(async () => {
    await ensureDatabase(directUrl(dbName));
    await migrate(directUrl(dbName), MIGRATIONS_DIR);
    h = await harness({
      start: '2026-05-04T13:00:00Z',
      env: { DATABASE_URL: bouncer.url(dbName) },
    });
    app = await buildApp(h.deps, { modules: routeModules });
  });
  afterAll(async () => {
    await app?.close();
    await h?.close();
  });

  const enrolled = () => enrolledByPhone(h);

  it('the real workers send the welcome, the scheduler claims the first nudge, Twilio reports it', async () => {
    const r = await enrolled();
    await h.settle();
    expect(h.smsTo(r.phone)).toHaveLength(1);

    const e = await h.deps.db.enrollment.findUniqueOrThrow({ where: { id: r.enrollmentId } });
    h.clock.set(e.nextRunAt!);
    const tick = await claimDueSteps(h.deps);
    expect(tick.claimed).toBeGreaterThanOrEqual(1);
    await h.settle();
    const sms = h.smsTo(r.phone);
    expect(sms).toHaveLength(2);
    const nudge = await h.deps.db.message.findFirstOrThrow({ where: { providerId: sms[1]!.sid } });
    expect(nudge).toMatchObject({ status: 'sent', step: e.nextStep });

    const res = await postToTwilioWebhook(app, h.config, `/webhooks/twilio/status?m=${nudge.id}`, {
      MessageSid: sms[1]!.sid,
      MessageStatus: 'delivered',
    });
    expect(res.statusCode).toBe(204);
    await expect
      .poll(
        async () => (await h.deps.db.message.findUniqueOrThrow({ where: { id: nudge.id } })).status,
      )
      .toBe('delivered');
  });

  it('the sweep queues again what Redis lost', async () => {
    await h.pauseWorkers();
    let subs;
    try {
      subs = await Promise.all([enrolled(), enrolled()]);
      await h.loseRedisKeys();
    } finally {
      h.resumeWorkers();
    }
    await h.settle();
    for (const s of subs) expect(h.smsTo(s.phone)).toHaveLength(0);
    expect(await requeueLost(h.deps, { staleMs: 0 })).toBeGreaterThanOrEqual(2);
    await h.settle();
    for (const s of subs) expect(h.smsTo(s.phone)).toHaveLength(1);
  });

  it('an interactive transaction keeps one server connection and rolls back whole', async () => {
    // More transactions at once than PgBouncer has server connections: each still sees one
    // backend and one transaction id from BEGIN to COMMIT.
    const seen = await Promise.all(
      Array.from({ length: 8 }, () =>
        h.deps.db.$transaction(
          async (tx) => {
            const ids: string[] = [];
            for (let i = 0; i < 3; i++) {
              const [row] = await tx.$queryRaw<{ pid: number; xid: string }[]>`
                SELECT pg_backend_pid() AS pid, txid_current()::text AS xid`;
              ids.push(`${row!.pid}/${row!.xid}`);
              await new Promise((r) => setTimeout(r, 5));
            }
            return ids;
          },
          { isolationLevel: 'Serializable' },
        ),
      ),
    );
    for (const ids of seen) expect(new Set(ids).size).toBe(1);

    const phone = await freshPhone(h.deps.db);
    await expect(
      h.deps.db.$transaction(async (tx) => {
        await tx.subscriber.create({ data: { phone, timezone: 'America/New_York' } });
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect(await h.deps.db.subscriber.count({ where: { phone } })).toBe(0);
  });

  it('the check-in export reads its cursor inside one transaction', async () => {
    const [count] = await h.deps.db.$queryRaw<
      { n: number }[]
    >`SELECT count(*)::int AS n FROM checkins`;
    const n = count!.n;
    let out = '';
    const rows = await writeCheckinExport(
      { db: h.deps.db, config: h.config },
      { format: 'jsonl', program: null, since: null },
      async (chunk) => {
        out += chunk;
      },
    );
    expect(rows).toBe(n);
    expect(out.split('\n').filter(Boolean)).toHaveLength(n);
  });

  it('went through PgBouncer', async () => {
    const stats = await admin<{ database: string; total_xact_count: string }>('SHOW STATS');
    const mine = stats.find((s) => s.database === dbName);
    expect(Number(mine?.total_xact_count ?? 0)).toBeGreaterThan(10);
  });
});
