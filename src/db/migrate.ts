// Applies prisma/migrations in order, recorded in `_prisma_migrations` exactly as Prisma records
// them, so `prisma migrate status` and `migrate deploy` accept a database migrated here. We do it
// ourselves because Prisma's CLI cannot apply migrations through the pg adapter on these machines
// (prisma/orm#27403) and the native engine cannot be downloaded.
import { createHash, randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';

// Any constant works as long as every Steady process uses the same one.
const LOCK_ID = 72707369;

export interface MigrationResult {
  applied: string[];
  alreadyApplied: number;
}

export class MigrationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MigrationError';
  }
}

const CREATE_TABLE = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
  "id"                  VARCHAR(36) PRIMARY KEY NOT NULL,
  "checksum"            VARCHAR(64) NOT NULL,
  "finished_at"         TIMESTAMPTZ,
  "migration_name"      VARCHAR(255) NOT NULL,
  "logs"                TEXT,
  "rolled_back_at"      TIMESTAMPTZ,
  "started_at"          TIMESTAMPTZ NOT NULL DEFAULT now(),
  "applied_steps_count" INTEGER NOT NULL DEFAULT 0
)`;

export async function listMigrations(
  dir: string,
): Promise<{ name: string; sql: string; checksum: string }[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  const out = [];
  for (const name of names) {
    const sql = await readFile(join(dir, name, 'migration.sql'), 'utf8');
    out.push({ name, sql, checksum: createHash('sha256').update(sql).digest('hex') });
  }
  return out;
}

export async function migrate(
  databaseUrl: string,
  dir: string,
  log: (line: string) => void = () => {},
): Promise<MigrationResult> {
  const migrations = await listMigrations(dir);
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    // Several processes starting at once migrate one after the other: each step is one
    // transaction holding a transaction-level advisory lock, and reads what is applied under it.
    // Nothing spans two transactions (no session lock), so this is correct through PgBouncer in
    // transaction mode too, where consecutive transactions may run on different server
    // connections (README, "Behind PgBouncer").
    const locked = async <T>(step: () => Promise<T>): Promise<T> => {
      await client.query('BEGIN');
      try {
        await client.query('SELECT pg_advisory_xact_lock($1)', [LOCK_ID]);
        const out = await step();
        await client.query('COMMIT');
        return out;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw err;
      }
    };
    await locked(() => client.query(CREATE_TABLE));
    const applied: string[] = [];
    for (const m of migrations) {
      // Each migration in a transaction of its own, as `migrate deploy` does: a failing one leaves
      // nothing half-done, and a later one can use what an earlier one made (an enum value).
      const outcome = await locked(
        async (): Promise<'skipped' | 'applied' | { failed: string }> => {
          const { rows } = await client.query<{
            migration_name: string;
            checksum: string;
            finished_at: Date | null;
            rolled_back_at: Date | null;
            logs: string | null;
          }>(
            'SELECT migration_name, checksum, finished_at, rolled_back_at, logs FROM "_prisma_migrations" ORDER BY started_at',
          );
          const failed = rows.find((r) => r.finished_at === null && r.rolled_back_at === null);
          if (failed) {
            // Prisma's P3009: never run past a failed migration.
            throw new MigrationError(
              `Migration "${failed.migration_name}" failed earlier and blocks all later ones.\n` +
                `Its error: ${firstLine(failed.logs)}\n` +
                `Fix the database by hand, then mark it rolled back with\n` +
                `  UPDATE "_prisma_migrations" SET rolled_back_at = now() WHERE migration_name = '${failed.migration_name}';\n` +
                `and run \`npm run cli -- migrate\` again.`,
            );
          }
          const previous = rows.find((r) => r.finished_at !== null && r.migration_name === m.name);
          if (previous) {
            if (previous.checksum !== m.checksum)
              log(
                `warning: ${m.name} was edited after it was applied (checksum differs); not re-applied`,
              );
            return 'skipped';
          }
          const id = randomUUID();
          await client.query(
            'INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count) VALUES ($1, $2, $3, now(), 0)',
            [id, m.checksum, m.name],
          );
          log(`applying ${m.name}`);
          await client.query('SAVEPOINT migration');
          try {
            // The whole file as one simple query, inside this transaction.
            await client.query(m.sql);
          } catch (err) {
            // Undo the migration, keep its row with the error: it blocks later runs (P3009).
            const message = err instanceof Error ? err.message : String(err);
            await client.query('ROLLBACK TO SAVEPOINT migration');
            await client.query('UPDATE "_prisma_migrations" SET logs = $2 WHERE id = $1', [
              id,
              message,
            ]);
            return { failed: message };
          }
          await client.query(
            'UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = 1 WHERE id = $1',
            [id],
          );
          return 'applied';
        },
      );
      if (outcome === 'applied') applied.push(m.name);
      else if (outcome !== 'skipped')
        throw new MigrationError(
          `Migration "${m.name}" failed and was rolled back: ${outcome.failed}\n` +
            `Later migrations are blocked until it is fixed (see README, "Migrations").`,
        );
    }
    return { applied, alreadyApplied: migrations.length - applied.length };
  } finally {
    await client.end();
  }
}

function firstLine(s: string | null): string {
  return (s ?? 'no log recorded').split('\n')[0] ?? '';
}

/** Creates the database named in the URL if it does not exist (local and test use). */
export async function ensureDatabase(databaseUrl: string): Promise<boolean> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!/^[A-Za-z0-9_-]+$/.test(name)) throw new MigrationError(`Unusual database name "${name}"`);
  url.pathname = '/postgres';
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount) return false;
    try {
      await client.query(`CREATE DATABASE "${name}"`);
    } catch (err) {
      // Another process created it at the same moment.
      if ((err as { code?: string }).code !== '42P04') throw err;
      return false;
    }
    return true;
  } finally {
    await client.end();
  }
}
