// Starts PgBouncer (transaction pooling, trust, `*` for every database) in the background in front
// of a PostgreSQL server and prints its URL, for CI and for trying Steady behind a pooler:
//
//   node --import tsx tools/pgbouncer.ts [--port 6432] [--upstream 127.0.0.1:5432] [--db steady_test]
//        [--pool-size 20] [--log FILE] [--pid-file FILE]
//
// It prints one line, the URL of --db through PgBouncer, and exits 0 once PgBouncer accepts
// connections (it keeps running; stop it with `kill $(cat FILE)` from --pid-file). Its log goes to
// --log (default: pgbouncer-<port>.log in the system's temp folder). Exit 1, with PgBouncer's own
// words, when it cannot start (not installed: apt-get install -y pgbouncer).
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startPgBouncer } from '../src/testing/pgbouncer.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '6432' },
    upstream: { type: 'string', default: '127.0.0.1:5432' },
    db: { type: 'string', default: 'steady_test' },
    'pool-size': { type: 'string', default: '20' },
    log: { type: 'string' },
    'pid-file': { type: 'string' },
  },
});
const port = Number(values.port);
const [upstreamHost = '127.0.0.1', upstreamPort = '5432'] = values.upstream.split(':');
const logFile = values.log ?? join(tmpdir(), `pgbouncer-${port}.log`);
try {
  const bouncer = await startPgBouncer({
    port,
    upstreamHost,
    upstreamPort: Number(upstreamPort),
    poolMode: 'transaction',
    defaultPoolSize: Number(values['pool-size']),
    logFile,
    detach: true,
  });
  if (values['pid-file']) writeFileSync(values['pid-file'], `${bouncer.pid}\n`);
  console.log(bouncer.url(values.db));
} catch (err) {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
}
