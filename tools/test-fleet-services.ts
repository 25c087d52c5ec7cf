// The engine and reliability test files against the services a fleet runs on: a real Redis
// Cluster (3 masters, 1 replica each) and PgBouncer in transaction mode in front of the test
// database, both started here on spare ports and stopped at the end. CI runs it after `npm test`:
//
//   npm run --silent test:fleet-services [-- <vitest arguments, or test files instead of the set>]
//
// Migrations and per-file databases go straight to PostgreSQL (TEST_DIRECT_DATABASE_URL); every
// other query goes through PgBouncer. The chaos and fleet files are left out: they start services
// of their own. Exit code: vitest's (2 when PgBouncer or redis-server cannot start).
import { spawn } from 'node:child_process';
import { startPgBouncer, type PgBouncer } from '../src/testing/pgbouncer.ts';
import { TEST_DATABASE_URL } from '../tests/support/env.ts';
import { startRedisCluster, type RedisClusterHandle } from './lib/redis-cluster.ts';

const FILES = ['tests/engine', 'tests/reliability', 'tests/cluster'];
const EXCLUDE = ['tests/reliability/chaos.test.ts', 'tests/reliability/fleet.test.ts'];

const direct = new URL(TEST_DATABASE_URL);
let cluster: RedisClusterHandle | undefined;
let bouncer: PgBouncer | undefined;
let code = 2;
try {
  process.stderr.write('test:fleet-services: starting a Redis Cluster (3 masters, 3 replicas)\n');
  cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1 });
  process.stderr.write('test:fleet-services: starting PgBouncer (transaction mode)\n');
  bouncer = await startPgBouncer({
    upstreamHost: direct.hostname,
    upstreamPort: Number(direct.port || 5432),
    poolMode: 'transaction',
    defaultPoolSize: 20,
  });
  const pooled = bouncer.url(direct.pathname.slice(1));
  process.stderr.write(`test:fleet-services: Redis ${cluster.url}, PostgreSQL through ${pooled}\n`);
  // Files named on the command line replace the default set (`-- tests/reliability/recovery.test.ts`).
  const extra = process.argv.slice(2);
  const files = extra.some((a) => a.startsWith('tests/')) ? [] : FILES;
  const args = ['vitest', 'run', ...files, ...EXCLUDE.flatMap((f) => ['--exclude', f]), ...extra];
  code = await new Promise<number>((resolve) => {
    const child = spawn('npx', args, {
      stdio: 'inherit',
      env: {
        ...process.env,
        TEST_REDIS_URL: cluster!.url,
        TEST_DATABASE_URL: pooled,
        TEST_DIRECT_DATABASE_URL: TEST_DATABASE_URL,
      },
    });
    child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0)));
  });
} catch (err) {
  process.stderr.write(`test:fleet-services: ${(err as Error).message}\n`);
} finally {
  await bouncer?.stop().catch(() => {});
  await cluster?.stop().catch(() => {});
}
process.exit(code);
