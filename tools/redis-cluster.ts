// Starts a throwaway Redis Cluster in the background and prints its URL, for running test files
// against a cluster (CI), and stops it again:
//
//   URL=$(node --import tsx tools/redis-cluster.ts start --dir /tmp/steady-rc [--base-port 7100])
//   TEST_REDIS_URL=$URL npx vitest run tests/engine tests/reliability tests/cluster
//   node --import tsx tools/redis-cluster.ts stop --dir /tmp/steady-rc
//
// Options of start: --masters 3, --replicas 1, --bind 127.0.0.1, --ports p1,p2,... or --base-port P
// (default: spare ports), --dir D (default: a new temp folder, printed on stderr). The nodes keep
// running after this command exits; `stop` kills them (their pids are in D/cluster.json) and
// removes D. Only the URL goes to stdout.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startRedisCluster } from './lib/redis-cluster.ts';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    masters: { type: 'string', default: '3' },
    replicas: { type: 'string', default: '1' },
    bind: { type: 'string', default: '127.0.0.1' },
    ports: { type: 'string' },
    'base-port': { type: 'string' },
    dir: { type: 'string' },
  },
});

const command = positionals[0];
if (command === 'start') {
  const dir = values.dir ?? mkdtempSync(join(tmpdir(), 'steady-redis-cluster-'));
  if (existsSync(join(dir, 'cluster.json'))) {
    console.error(`${dir} already holds a cluster: stop it first (stop --dir ${dir})`);
    process.exit(1);
  }
  mkdirSync(dir, { recursive: true });
  const cluster = await startRedisCluster({
    masters: Number(values.masters),
    replicasPerMaster: Number(values.replicas),
    bind: values.bind,
    ports: values.ports?.split(',').map(Number),
    basePort: values['base-port'] ? Number(values['base-port']) : undefined,
    dir,
    keepOnExit: true,
    // Detached, so the nodes outlive this command.
    spawn: (cmd, args, opts) => {
      const detach = opts.stdio === 'ignore';
      const child = spawn(cmd, args, { ...opts, detached: detach });
      if (detach) child.unref();
      return child;
    },
    log: (line) => console.error(line),
  });
  const nodes = await cluster.nodes();
  writeFileSync(
    join(dir, 'cluster.json'),
    JSON.stringify({ url: cluster.url, nodes }, null, 2) + '\n',
  );
  console.error(
    `Redis Cluster in ${dir}; stop it with: node --import tsx tools/redis-cluster.ts stop --dir ${dir}`,
  );
  console.log(cluster.url);
  process.exit(0);
} else if (command === 'stop') {
  if (!values.dir) {
    console.error('stop needs --dir (the folder start used)');
    process.exit(2);
  }
  const file = join(values.dir, 'cluster.json');
  if (!existsSync(file)) {
    console.error(`no cluster.json in ${values.dir}`);
    process.exit(1);
  }
  const { nodes } = JSON.parse(readFileSync(file, 'utf8')) as { nodes: { pid: number | null }[] };
  for (const { pid } of nodes) {
    if (!pid) continue;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone already */
    }
  }
  rmSync(values.dir, { recursive: true, force: true });
  console.error(`stopped ${nodes.length} nodes, removed ${values.dir}`);
} else {
  console.error('usage: tools/redis-cluster.ts start [--dir D] [--base-port P] | stop --dir D');
  process.exit(2);
}
