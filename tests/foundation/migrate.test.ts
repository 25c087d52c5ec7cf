// The migrator against a scratch database: applies in order, records rows as Prisma does, is a
// no-op the second time, and refuses to go past a failed migration.
import { createHash } from 'node:crypto';
import { mkdtempSync, mkdirSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDatabase, migrate, MigrationError } from '../../src/db/migrate.ts';
import { MIGRATIONS_DIR } from '../../src/paths.ts';
import { TEST_DATABASE_URL } from '../support/env.ts';

const url = TEST_DATABASE_URL.replace(/\/[^/]+$/, `/steady_migrate_${process.pid}`);
const admin = TEST_DATABASE_URL.replace(/\/[^/]+$/, '/postgres');

async function sql<T extends pg.QueryResultRow>(q: string, params: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(q, params)).rows;
  } finally {
    await c.end();
  }
}

beforeAll(async () => {
  await ensureDatabase(url);
});
afterAll(async () => {
  const c = new pg.Client({ connectionString: admin });
  await c.connect();
  await c.query(`DROP DATABASE IF EXISTS "steady_migrate_${process.pid}" WITH (FORCE)`);
  await c.end();
});

describe('migrate', () => {
  it('applies the migrations, records them as Prisma does, and a second run is a no-op', async () => {
    const first = await migrate(url, MIGRATIONS_DIR);
    expect(first.applied.length).toBeGreaterThanOrEqual(1);
    const rows = await sql<{
      id: string;
      checksum: string;
      migration_name: string;
      finished_at: Date | null;
      applied_steps_count: number;
      logs: string | null;
    }>(
      'SELECT id, checksum, migration_name, finished_at, applied_steps_count, logs FROM _prisma_migrations ORDER BY migration_name',
    );
    expect(rows.map((r) => r.migration_name)).toEqual(first.applied);
    const { readFileSync } = await import('node:fs');
    for (const r of rows) {
      expect(r.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(r.checksum).toBe(
        createHash('sha256')
          .update(readFileSync(join(MIGRATIONS_DIR, r.migration_name, 'migration.sql')))
          .digest('hex'),
      );
      expect(r.finished_at).not.toBeNull();
      expect(r.applied_steps_count).toBe(1);
      expect(r.logs).toBeNull();
    }
    const second = await migrate(url, MIGRATIONS_DIR);
    expect(second.applied).toEqual([]);
    expect(second.alreadyApplied).toBe(first.applied.length);
    expect(await sql('SELECT 1 FROM _prisma_migrations')).toHaveLength(rows.length);
  });

  it('rolls back a failing migration, records its error, and blocks later runs with a clear message', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'steady-mig-'));
    cpSync(MIGRATIONS_DIR, dir, { recursive: true });
    mkdirSync(join(dir, '99990101000000_broken'));
    // The first statement would succeed; the second fails, so the whole file must roll back.
    writeFileSync(
      join(dir, '99990101000000_broken', 'migration.sql'),
      'CREATE TABLE "half_done" (id int);\nSELECT * FROM "no_such_table";\n',
    );
    await expect(migrate(url, dir)).rejects.toThrow(/99990101000000_broken.*rolled back/s);
    expect(await sql(`SELECT to_regclass('public.half_done') AS t`)).toEqual([{ t: null }]);
    const [row] = await sql<{ finished_at: Date | null; logs: string }>(
      `SELECT finished_at, logs FROM _prisma_migrations WHERE migration_name = '99990101000000_broken'`,
    );
    expect(row?.finished_at).toBeNull();
    expect(row?.logs).toMatch(/no_such_table/);

    const again = migrate(url, dir);
    await expect(again).rejects.toBeInstanceOf(MigrationError);
    await expect(migrate(url, dir)).rejects.toThrow(
      /failed earlier and blocks all later ones[\s\S]*rolled_back_at/,
    );
    // Marked rolled back by hand (after fixing the file), the run goes on.
    await sql(
      `UPDATE _prisma_migrations SET rolled_back_at = now() WHERE migration_name = '99990101000000_broken'`,
    );
    writeFileSync(
      join(dir, '99990101000000_broken', 'migration.sql'),
      'CREATE TABLE "half_done" (id int);\n',
    );
    const fixed = await migrate(url, dir);
    expect(fixed.applied).toEqual(['99990101000000_broken']);
  });
});
