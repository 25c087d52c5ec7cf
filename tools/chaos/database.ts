// The chaos run's database: dropped and created afresh each run, migrated with the project's own
// migrator, and a way to cut every connection the fleet holds (as a failover or a DBA would).
import pg from 'pg';
import { ensureDatabase, migrate } from '../../src/db/migrate.ts';
import { MIGRATIONS_DIR } from '../../src/paths.ts';

/** Connections the harness itself opens carry this name and survive the cuts. */
export const HARNESS_APP_NAME = 'steady-chaos-harness';

export function harnessUrl(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  url.searchParams.set('application_name', HARNESS_APP_NAME);
  return url.toString();
}

function dbName(databaseUrl: string): string {
  return decodeURIComponent(new URL(databaseUrl).pathname.replace(/^\//, ''));
}

export async function resetDatabase(databaseUrl: string): Promise<void> {
  const name = dbName(databaseUrl);
  if (!/^steady_chaos[A-Za-z0-9_]*$/.test(name))
    throw new Error(
      `refusing to drop "${name}": the chaos database's name must start with steady_chaos`,
    );
  const admin = new URL(databaseUrl);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
  await ensureDatabase(databaseUrl);
  await migrate(databaseUrl, MIGRATIONS_DIR);
}

/** pg_terminate_backend on every connection to the chaos database but the harness's own. */
export async function cutConnections(databaseUrl: string): Promise<number> {
  const client = new pg.Client({ connectionString: harnessUrl(databaseUrl) });
  await client.connect();
  try {
    const r = await client.query<{ ok: boolean }>(
      `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
       WHERE datname = $1 AND pid <> pg_backend_pid() AND application_name <> $2`,
      [dbName(databaseUrl), HARNESS_APP_NAME],
    );
    return r.rows.filter((row) => row.ok).length;
  } finally {
    await client.end();
  }
}
