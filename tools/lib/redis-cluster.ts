// A real, throwaway Redis Cluster: `masters` redis-server processes with `replicasPerMaster`
// replicas each, in a temp folder, without persistence, joined with `redis-cli --cluster create`.
// Used by the tests (tests/support/redis-cluster.ts), by `tools/redis-cluster.ts` (CI: start one in
// the background and print its URL) and by the fleet harness, which starts it on another host's
// address through a command prefix (`prefix: ['ip', 'netns', 'exec', ns]`) or its own `spawn`.
//
// Everything talks to the nodes with redis-cli through the same prefix, so the caller need not be
// able to reach the nodes' address itself.
import { spawn as nodeSpawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type SpawnFn = (command: string, args: string[], options: SpawnOptions) => ChildProcess;

export interface RedisClusterOptions {
  masters?: number;
  replicasPerMaster?: number;
  /** The address every node listens on and announces (default 127.0.0.1). */
  bind?: string;
  /** Ports to use (masters * (1 + replicas) of them); default: spare ports on 127.0.0.1 when there
   * is no prefix, else basePort, basePort + 1, ... */
  ports?: number[];
  basePort?: number;
  /** Where the nodes' config files and logs go (default: a new temp folder, removed by stop). */
  dir?: string;
  redisServer?: string;
  redisCli?: string;
  /** A command that execs the next one, e.g. ['ip', 'netns', 'exec', 'steady-x-data']. */
  prefix?: string[];
  /** Starts the processes (default child_process.spawn); gets the prefixed command. */
  spawn?: SpawnFn;
  /** cluster-node-timeout: how long a master must be silent before a replica takes over. */
  nodeTimeoutMs?: number;
  /** Extra redis-server arguments for every node. */
  serverArgs?: string[];
  /** How long to wait for the cluster to form (ms). */
  timeoutMs?: number;
  log?: (line: string) => void;
  /** Leave the nodes running when this process exits (default: they are killed with it). */
  keepOnExit?: boolean;
}

export interface ClusterNodeInfo {
  port: number;
  /** This harness's process for the port (null once it was killed and not restarted). */
  pid: number | null;
  id: string;
  role: 'master' | 'replica';
  /** A master's slot ranges, e.g. [[0, 5460]]. */
  slots: [number, number][];
  /** A replica's master (node id). */
  masterId: string | null;
  failed: boolean;
}

export interface RedisClusterHandle {
  /** redis+cluster://bind:p1,bind:p2,... (every node: any one is enough for a client). */
  url: string;
  bind: string;
  ports: number[];
  dir: string;
  /** What the cluster says about its nodes now (asked of a live node). */
  nodes(): Promise<ClusterNodeInfo[]>;
  /** The master that holds `key`'s slot (`{steady}` for the queues of REDIS_PREFIX=steady). */
  masterOf(key: string): Promise<ClusterNodeInfo>;
  /**
   * SIGKILLs a master (`port`, or the one holding `key`, or the first), then waits until one of its
   * replicas has taken over and every live node says cluster_state:ok. Returns both ports.
   */
  killMaster(which?: {
    port?: number;
    key?: string;
  }): Promise<{ killed: number; promoted: number }>;
  /** Starts a killed node again on its port (it rejoins, as a replica of whoever took over). */
  restart(port: number): Promise<void>;
  /** Runs redis-cli against one node (`redis-cli -h bind -p port ...args`); returns its output. */
  cli(port: number, ...args: string[]): Promise<string>;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function sparePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Spare ports whose cluster bus port (port + 10000) is free too. */
async function sparePorts(n: number): Promise<number[]> {
  const out: number[] = [];
  while (out.length < n) {
    const p = await sparePort();
    if (p + 10000 > 65535 || out.includes(p)) continue;
    const bus = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(p + 10000, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (bus) out.push(p);
  }
  return out;
}

export function parseClusterNodes(
  text: string,
  pids: Map<number, ChildProcess>,
): ClusterNodeInfo[] {
  const out: ClusterNodeInfo[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const [id, addr, flags, master] = f as [string, string, string, string];
    const port = Number(/:(\d+)(@|$)/.exec(addr)?.[1]);
    const flagSet = new Set(flags.split(','));
    const slots: [number, number][] = [];
    for (const s of f.slice(8)) {
      if (s.startsWith('[')) continue; // a slot being migrated
      const [a, b] = s.split('-').map(Number);
      slots.push([a!, b ?? a!]);
    }
    const proc = pids.get(port);
    out.push({
      port,
      pid: proc && proc.exitCode === null && proc.signalCode === null ? (proc.pid ?? null) : null,
      id,
      role: flagSet.has('master') ? 'master' : 'replica',
      slots,
      masterId: master === '-' ? null : master,
      failed: flagSet.has('fail') || flagSet.has('fail?') || flagSet.has('noaddr'),
    });
  }
  return out.sort((a, b) => a.port - b.port);
}

export async function startRedisCluster(
  opts: RedisClusterOptions = {},
): Promise<RedisClusterHandle> {
  const masters = opts.masters ?? 3;
  const replicas = opts.replicasPerMaster ?? 1;
  if (masters < 3) throw new Error('a Redis Cluster needs at least 3 masters');
  const count = masters * (1 + replicas);
  const bind = opts.bind ?? '127.0.0.1';
  const prefix = opts.prefix ?? [];
  const spawnFn: SpawnFn = opts.spawn ?? ((c, a, o) => nodeSpawn(c, a, o));
  const redisServer = opts.redisServer ?? 'redis-server';
  const redisCli = opts.redisCli ?? 'redis-cli';
  const nodeTimeout = opts.nodeTimeoutMs ?? 2000;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const log = opts.log ?? (() => {});
  const ownDir = !opts.dir;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'steady-redis-cluster-'));
  mkdirSync(dir, { recursive: true });
  const ports =
    opts.ports ??
    (opts.basePort !== undefined || prefix.length
      ? Array.from({ length: count }, (_, i) => (opts.basePort ?? 7000) + i)
      : await sparePorts(count));
  if (ports.length !== count) throw new Error(`need ${count} ports, got ${ports.length}`);

  const procs = new Map<number, ChildProcess>();
  const prefixed = (command: string, args: string[]): [string, string[]] => {
    const [head, ...rest] = [...prefix, command, ...args] as [string, ...string[]];
    return [head, rest];
  };

  const launch = (port: number) => {
    const args = [
      '--port',
      String(port),
      '--bind',
      bind,
      '--protected-mode',
      'no',
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      join(dir, `nodes-${port}.conf`),
      '--cluster-node-timeout',
      String(nodeTimeout),
      '--cluster-replica-validity-factor',
      '0',
      '--dir',
      dir,
      // Replicas write the master's snapshot to disk while syncing: one file per node.
      '--dbfilename',
      `dump-${port}.rdb`,
      '--save',
      '',
      '--appendonly',
      'no',
      '--daemonize',
      'no',
      '--maxmemory-policy',
      'noeviction',
      '--logfile',
      join(dir, `redis-${port}.log`),
      ...(opts.serverArgs ?? []),
    ];
    const [cmd, argv] = prefixed(redisServer, args);
    const proc = spawnFn(cmd, argv, { stdio: 'ignore', detached: false });
    proc.on('error', (err) => log(`redis-server :${port}: ${err.message}`));
    procs.set(port, proc);
    return proc;
  };

  const cli = (port: number, ...args: string[]): Promise<string> =>
    new Promise((resolve, reject) => {
      const [cmd, argv] = prefixed(redisCli, ['-h', bind, '-p', String(port), ...args]);
      const p = spawnFn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      p.stdout?.on('data', (d: Buffer) => (out += d.toString()));
      p.stderr?.on('data', (d: Buffer) => (err += d.toString()));
      const timer = setTimeout(() => p.kill('SIGKILL'), 60_000);
      p.once('error', (e) => (clearTimeout(timer), reject(e)));
      p.once('close', (code) => {
        clearTimeout(timer);
        if (code === 0) resolve(out);
        else
          reject(new Error(`redis-cli -p ${port} ${args.join(' ')}: exit ${code}: ${err || out}`));
      });
    });

  const alive = (port: number) => {
    const p = procs.get(port);
    return !!p && p.exitCode === null && p.signalCode === null;
  };

  const waitFor = async (what: string, check: () => Promise<boolean>, ms = timeoutMs) => {
    const until = Date.now() + ms;
    let last: unknown;
    while (Date.now() < until) {
      try {
        if (await check()) return;
      } catch (err) {
        last = err;
      }
      await sleep(100);
    }
    throw new Error(`Redis Cluster: ${what} within ${ms} ms${last ? ` (${String(last)})` : ''}`);
  };

  const info = async (port: number) => {
    const text = await cli(port, 'cluster', 'info');
    return Object.fromEntries(
      text
        .split(/\r?\n/)
        .map((l) => l.split(':'))
        .filter((kv) => kv.length === 2)
        .map(([k, v]) => [k!.trim(), v!.trim()]),
    );
  };

  const nodes = async () => {
    let last: unknown;
    for (const port of ports.filter(alive)) {
      try {
        return parseClusterNodes(await cli(port, 'cluster', 'nodes'), procs);
      } catch (err) {
        last = err;
      }
    }
    throw new Error(`no node answers: ${String(last)}`);
  };

  /** Every live node: cluster_state ok, all slots served, all live nodes known and none failed. */
  const healthy = async () => {
    const live = ports.filter(alive);
    for (const port of live) {
      const i = await info(port);
      if (i.cluster_state !== 'ok' || i.cluster_slots_ok !== '16384') return false;
    }
    const seen = await nodes();
    return live.every((p) => seen.some((n) => n.port === p && !n.failed));
  };

  // Stop the processes if this process exits without stop() (a crashed test run).
  const onExit = () => {
    for (const p of procs.values()) if (p.exitCode === null) p.kill('SIGKILL');
  };
  if (!opts.keepOnExit) process.once('exit', onExit);

  const stop = async () => {
    process.removeListener('exit', onExit);
    await Promise.all(
      [...procs.values()].map(
        (p) =>
          new Promise<void>((resolve) => {
            if (p.exitCode !== null || p.signalCode !== null) return resolve();
            const hard = setTimeout(() => p.kill('SIGKILL'), 3000);
            p.once('exit', () => (clearTimeout(hard), resolve()));
            p.kill('SIGTERM');
          }),
      ),
    );
    if (ownDir) rmSync(dir, { recursive: true, force: true });
  };

  try {
    for (const port of ports) launch(port);
    for (const port of ports)
      await waitFor(
        `redis-server on ${bind}:${port} did not answer (is redis-server installed?)`,
        async () => {
          if (!alive(port)) throw new Error(`redis-server on port ${port} exited`);
          return (await cli(port, 'ping')).trim() === 'PONG';
        },
      );
    const [cmd, argv] = prefixed(redisCli, [
      '--cluster',
      'create',
      ...ports.map((p) => `${bind}:${p}`),
      '--cluster-replicas',
      String(replicas),
      '--cluster-yes',
    ]);
    await new Promise<void>((resolve, reject) => {
      const p = spawnFn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      p.stdout?.on('data', (d: Buffer) => (out += d.toString()));
      p.stderr?.on('data', (d: Buffer) => (out += d.toString()));
      p.once('error', reject);
      p.once('close', (code) =>
        code === 0
          ? resolve()
          : reject(new Error(`redis-cli --cluster create: exit ${code}\n${out}`)),
      );
    });
    await waitFor('cluster_state did not become ok on every node', healthy);
    // Every replica attached to a master.
    await waitFor('replicas did not attach', async () => {
      const n = await nodes();
      return n.filter((x) => x.role === 'replica' && x.masterId).length === masters * replicas;
    });
  } catch (err) {
    await stop();
    throw err;
  }
  log(
    `Redis Cluster: ${masters} masters + ${masters * replicas} replicas on ${bind}:${ports.join(',')}`,
  );

  const masterOf = async (key: string) => {
    const slot = Number((await cli(ports.find(alive)!, 'cluster', 'keyslot', key)).trim());
    const m = (await nodes()).find(
      (n) => n.role === 'master' && !n.failed && n.slots.some(([a, b]) => slot >= a && slot <= b),
    );
    if (!m) throw new Error(`no master holds slot ${slot}`);
    return m;
  };

  return {
    url: `redis+cluster://${ports.map((p) => `${bind.includes(':') ? `[${bind}]` : bind}:${p}`).join(',')}`,
    bind,
    ports,
    dir,
    nodes,
    masterOf,
    cli,
    async killMaster(which = {}) {
      const all = await nodes();
      const target =
        which.port !== undefined
          ? all.find((n) => n.port === which.port)
          : which.key !== undefined
            ? await masterOf(which.key)
            : all.find((n) => n.role === 'master' && !n.failed && alive(n.port));
      if (!target || target.role !== 'master') throw new Error('no such live master');
      const replicaPorts = all.filter((n) => n.masterId === target.id).map((n) => n.port);
      if (!replicaPorts.some(alive)) throw new Error(`master :${target.port} has no live replica`);
      const proc = procs.get(target.port)!;
      await new Promise<void>((resolve) => {
        proc.once('exit', () => resolve());
        proc.kill('SIGKILL');
      });
      log(`Redis Cluster: killed master :${target.port}`);
      let promoted = 0;
      await waitFor(
        `no replica of :${target.port} took over`,
        async () => {
          const now = await nodes();
          const p = now.find(
            (n) => replicaPorts.includes(n.port) && n.role === 'master' && !n.failed,
          );
          if (!p) return false;
          promoted = p.port;
          for (const port of ports.filter(alive)) {
            const i = await info(port);
            if (i.cluster_state !== 'ok') return false;
          }
          return true;
        },
        Math.max(timeoutMs, nodeTimeout * 10),
      );
      log(`Redis Cluster: :${promoted} took over from :${target.port}`);
      return { killed: target.port, promoted };
    },
    async restart(port) {
      if (alive(port)) return;
      launch(port);
      await waitFor(`:${port} did not rejoin`, healthy);
    },
    stop,
  };
}
