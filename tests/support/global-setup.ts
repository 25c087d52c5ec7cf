// Runs once before the suite: makes sure the test database exists and is migrated.
import { join } from 'node:path';
import { ensureDatabase, migrate } from '../../src/db/migrate.ts';
import { TEST_DIRECT_DATABASE_URL } from './env.ts';

export default async function setup(): Promise<void> {
  // Straight to PostgreSQL when TEST_DIRECT_DATABASE_URL is set (TEST_DATABASE_URL: PgBouncer).
  await ensureDatabase(TEST_DIRECT_DATABASE_URL);
  await migrate(TEST_DIRECT_DATABASE_URL, join(process.cwd(), 'prisma', 'migrations'));
}
