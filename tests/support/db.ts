import { createDb, type Db } from '../../src/db/client.ts';
import { suppressionHash } from '../../src/flows/erase.ts';
import { TEST_DATABASE_URL, TEST_DIRECT_DATABASE_URL, testConfig } from './env.ts';

/** A Prisma client on the test database. Tests create their own rows (fresh contacts) and
 * never truncate shared tables, so files can run in parallel and the suite can run twice. */
export function testDb(): Db {
  return createDb(TEST_DATABASE_URL, { max: 5 });
}

// Real area codes (libphonenumber rejects 555) with the fictional 555-01XX line numbers.
const AREAS = [
  '202',
  '206',
  '212',
  '213',
  '214',
  '303',
  '305',
  '312',
  '313',
  '404',
  '407',
  '412',
  '415',
  '503',
  '512',
  '602',
  '612',
  '615',
  '617',
  '702',
  '704',
  '713',
  '718',
  '720',
  '801',
  '804',
  '808',
  '816',
  '832',
  '916',
  '919',
  '971',
  '978',
  '510',
  '608',
  '614',
  '703',
  '727',
  '786',
  '860',
];

// Test files run in parallel workers; each worker takes its own slice of area codes, so two files
// running at once never pick the same number (and so never delete each other's subscriber).
const pool = Number(process.env.VITEST_POOL_ID ?? process.env.VITEST_WORKER_ID ?? 1);
const slices = 4;
const mine = AREAS.filter((_, i) => i % slices === (pool - 1) % slices);
let next = Math.floor(Math.random() * mine.length * 100);

// The keys tests sign with: a number an earlier run erased is suppressed under one of them.
const SECRETS = testConfig().appSecrets;

/** A fictional valid US number, 555-0100..555-0199 behind a real area code, with any subscriber
 * left on it by an earlier run removed first, and its suppression entry if an earlier run erased
 * it (the numbers are few: runs on the same database pick them again, and an erased number's
 * JOIN is ignored). */
export async function freshPhone(db: Db): Promise<string> {
  const i = next++ % (mine.length * 100);
  const phone = `+1${mine[Math.floor(i / 100)]}55501${String(i % 100).padStart(2, '0')}`;
  await db.subscriber.deleteMany({ where: { phone } });
  await db.message.deleteMany({ where: { OR: [{ toAddr: phone }, { fromAddr: phone }] } });
  await db.suppression.deleteMany({
    where: { hash: { in: SECRETS.map((k) => suppressionHash(k, phone)) } },
  });
  return phone;
}

/** A unique example.com address (never collides, so nothing to clean). */
export function freshEmail(tag = 'person'): string {
  return `${tag}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}@example.com`;
}

/**
 * A database of the test file's own (created and migrated on first use), for tests whose sweeps,
 * purges or row counts reach across the whole database and would otherwise disturb, or be
 * disturbed by, other files running beside them.
 */
export async function ownDatabase(name: string): Promise<string> {
  const { ensureDatabase, migrate } = await import('../../src/db/migrate.ts');
  const { MIGRATIONS_DIR } = await import('../../src/paths.ts');
  // Created and migrated straight on the server; used through TEST_DATABASE_URL's server, which
  // may be a PgBouncer whose `*` entry reaches any database by its name.
  const direct = new URL(TEST_DIRECT_DATABASE_URL);
  direct.pathname = `/steady_test_${name}`;
  await ensureDatabase(direct.toString());
  await migrate(direct.toString(), MIGRATIONS_DIR);
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/steady_test_${name}`;
  return url.toString();
}
