// `npm run dev` for a newcomer with no PostgreSQL or Redis running: when the configured one does
// not answer on this machine but its programs are installed (initdb and pg_ctl, redis-server),
// dev starts a private one under .steady/ (git-ignored) on the configured port (nothing listens
// there, so it is spare), keeps its data between runs, and stops it when dev stops. Only when the
// programs are missing does it say how to install them or run them in Docker. The tests never
// come here: they use the configured services (tools/setup.mjs --test).
//
// PostgreSQL refuses to run as root, so as root the private cluster belongs to the `postgres`
// user (or `nobody` where there is none): initdb and pg_ctl run under that user's uid, and the
// cluster's folder is handed to it. It listens on TCP only (no Unix socket), trusts local
// connections, and its superuser is the user named in DATABASE_URL (postgres by default).
// Redis runs in its own process group (Ctrl-C reaches dev, which drains its jobs first and then
// stops Redis), append-only, with noeviction.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { connect } from 'node:net';
import { delimiter, join } from 'node:path';
import type { Config } from '../config.ts';
import { ROOT } from '../paths.ts';
import { isClusterUrl } from '../redis-url.ts';
import { StartupError } from '../startup-error.ts';

export interface PrivateService {
  name: 'PostgreSQL' | 'Redis';
  /** host:port it listens on. */
  address: string;
  /** Its data folder, relative to the project. */
  dir: string;
  stop(): Promise<void>;
  /** For process exit: asks it to stop without waiting. */
  stopNow(): void;
}

export interface LocalServices {
  started: PrivateService[];
  /** Banner lines for the private services (none when both were running already). */
  banner: string[];
  stop(): Promise<void>;
  stopNow(): void;
}

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/** Whether something accepts TCP connections at host:port. */
export function answers(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: host.replace(/^\[|\]$/g, ''), port, timeout: timeoutMs });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('timeout', () => (s.destroy(), resolve(false)));
    s.once('error', () => resolve(false));
  });
}

function which(name: string, extraDirs: string[] = []): string | undefined {
  return [...(process.env.PATH ?? '').split(delimiter), ...extraDirs]
    .filter(Boolean)
    .map((dir) => join(dir, name))
    .find((path) => existsSync(path));
}

/** initdb and pg_ctl: on the PATH, or where Debian, RHEL and Homebrew keep them. */
export function findPostgres(): { initdb: string; pgCtl: string; version: string } | undefined {
  const dirs: string[] = [];
  for (const [parent, pattern] of [
    ['/usr/lib/postgresql', /^\d+$/],
    ['/usr', /^pgsql-\d+$/],
    ['/opt/homebrew/opt', /^postgresql(@\d+)?$/],
    ['/usr/local/opt', /^postgresql(@\d+)?$/],
  ] as const) {
    try {
      const found = readdirSync(parent)
        .filter((n) => pattern.test(n))
        .sort((a, b) => Number(b.replace(/\D/g, '')) - Number(a.replace(/\D/g, '')));
      dirs.push(...found.map((n) => join(parent, n, 'bin')));
    } catch {
      /* not there */
    }
  }
  const initdb = which('initdb', dirs);
  const pgCtl = which('pg_ctl', dirs);
  if (!initdb || !pgCtl) return undefined;
  const v = spawnSync(pgCtl, ['--version'], { encoding: 'utf8' }).stdout ?? '';
  return { initdb, pgCtl, version: v.match(/(\d+)(\.\d+)?/)?.[1] ?? '?' };
}

export function findRedis(): string | undefined {
  return which('redis-server', ['/usr/sbin', '/usr/bin', '/opt/homebrew/bin', '/usr/local/bin']);
}

/** Who runs PostgreSQL: this user, or an unprivileged one when this is root. */
function postgresOwner(): { uid: number; gid: number; name: string } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  for (const name of ['postgres', 'nobody']) {
    const uid = spawnSync('id', ['-u', name], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', name], { encoding: 'utf8' });
    if (uid.status === 0 && gid.status === 0)
      return { name, uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  }
  throw new StartupError(
    'dev runs as root, which PostgreSQL refuses, and there is no `postgres` or `nobody` user to run a private PostgreSQL as.',
  );
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function until(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

/** A path as the banner shows it: relative to the project when inside it. */
const rel = (p: string) => (p.startsWith(ROOT + '/') ? p.slice(ROOT.length + 1) : p);

const readPid = (file: string) => {
  try {
    return Number(readFileSync(file, 'utf8').split('\n')[0]) || undefined;
  } catch {
    return undefined;
  }
};

/**
 * Private servers still running from an earlier dev that was killed (SIGKILL leaves them): they
 * would answer on the configured ports and never be stopped, so they are stopped now and started
 * again as this dev's own. Not while another dev of this project runs (it owns them).
 */
async function stopLeftovers(base: string, say: (line: string) => void): Promise<void> {
  const owner = readPid(join(base, 'dev.pid'));
  if (owner && owner !== process.pid && pidAlive(owner)) return;
  const postmaster = readPid(join(base, 'postgres', 'data', 'postmaster.pid'));
  if (postmaster && pidAlive(postmaster) && runs(postmaster, 'postgres')) {
    say('  Stopping the private PostgreSQL an earlier dev left running ...');
    process.kill(postmaster, 'SIGINT'); // fast shutdown
    await until(async () => !pidAlive(postmaster), 30_000);
  }
  const redis = readPid(join(base, 'redis', 'redis.pid'));
  // A pid file can outlive its process and the number be reused: only ever signal our server.
  if (redis && pidAlive(redis) && runs(redis, 'redis-server')) {
    say('  Stopping the private Redis an earlier dev left running ...');
    process.kill(redis, 'SIGTERM');
    await until(async () => !pidAlive(redis), 10_000);
  }
}

/** Whether process `pid` runs `program` (Linux /proc; elsewhere, trust the pid file). */
function runs(pid: number, program: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(program);
  } catch {
    return !existsSync('/proc');
  }
}

async function startPostgres(
  url: URL,
  pg: NonNullable<ReturnType<typeof findPostgres>>,
  dir: string,
): Promise<PrivateService> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || 5432);
  const data = join(dir, 'data');
  const log = join(dir, 'server.log');
  const owner = postgresOwner();
  const as = owner ? { uid: owner.uid, gid: owner.gid } : {};
  const run = (cmd: string, args: string[]) => {
    const r = spawnSync(cmd, args, { ...as, cwd: dir, encoding: 'utf8', timeout: 120_000 });
    return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ?? ''}`.trim() };
  };
  mkdirSync(dir, { recursive: true });
  if (owner) chownSync(dir, owner.uid, owner.gid);

  const pidFile = join(data, 'postmaster.pid');

  if (!existsSync(join(data, 'PG_VERSION'))) {
    const user = decodeURIComponent(url.username) || 'postgres';
    const r = run(pg.initdb, [
      '-D',
      data,
      '-U',
      user,
      '--auth=trust',
      '--encoding=UTF8',
      '--no-locale',
      '--no-instructions',
    ]);
    if (!r.ok)
      throw new StartupError(
        `Could not create a private PostgreSQL in ${rel(data)}${owner ? ` as the ${owner.name} user` : ''}:\n${r.out}` +
          (owner ? `\n(${owner.name} must be able to reach ${dir}.)` : ''),
      );
  } else {
    const made = readFileSync(join(data, 'PG_VERSION'), 'utf8').trim();
    if (made !== pg.version)
      throw new StartupError(
        `${rel(data)} was made by PostgreSQL ${made}, and this machine has ${pg.version}: install PostgreSQL ${made}, or remove ${rel(dir)} (its data goes with it) and run dev again.`,
      );
  }
  const listen = host === 'localhost' ? 'localhost' : host;
  const r = run(pg.pgCtl, [
    'start',
    '-D',
    data,
    '-l',
    log,
    '-w',
    '-t',
    '60',
    '-o',
    `-p ${port} -c listen_addresses='${listen}' -c unix_socket_directories=''`,
  ]);
  if (!r.ok || !(await until(() => answers(host, port), 10_000))) {
    const tail = existsSync(log) ? readFileSync(log, 'utf8').split('\n').slice(-8).join('\n') : '';
    throw new StartupError(
      `The private PostgreSQL in ${rel(data)} did not start on ${host}:${port}:\n${r.out}\n${tail}`,
    );
  }
  return {
    name: 'PostgreSQL',
    address: `${host}:${port}`,
    dir: rel(dir),
    // SIGINT is PostgreSQL's fast shutdown (what `pg_ctl stop -m fast` sends).
    async stop() {
      const pid = readPid(pidFile);
      if (!pid || !pidAlive(pid)) return;
      process.kill(pid, 'SIGINT');
      await until(async () => !pidAlive(pid), 30_000);
    },
    stopNow() {
      // The postmaster finishes the shutdown on its own after dev is gone.
      const pid = readPid(pidFile);
      if (pid && pidAlive(pid)) process.kill(pid, 'SIGINT');
    },
  };
}

async function startRedis(url: URL, server: string, dir: string): Promise<PrivateService> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || 6379);
  mkdirSync(dir, { recursive: true });
  const pidFile = join(dir, 'redis.pid');
  const args = [
    '--port',
    String(port),
    '--bind',
    host === 'localhost' ? '127.0.0.1' : host,
    '--dir',
    dir,
    '--appendonly',
    'yes',
    '--save',
    '',
    '--maxmemory-policy',
    'noeviction',
    '--daemonize',
    'no',
    '--logfile',
    join(dir, 'redis.log'),
  ];
  if (url.password) args.push('--requirepass', decodeURIComponent(url.password));
  const child: ChildProcess = spawn(server, args, { detached: true, stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.unref();
  const up = await Promise.race([
    until(() => answers(host, port), 10_000),
    exited.then(() => false),
  ]);
  if (!up) {
    child.kill('SIGKILL');
    const log = join(dir, 'redis.log');
    const tail = existsSync(log) ? readFileSync(log, 'utf8').split('\n').slice(-8).join('\n') : '';
    throw new StartupError(
      `The private Redis in ${rel(dir)} did not start on ${host}:${port}:\n${tail}`,
    );
  }
  writeFileSync(pidFile, String(child.pid));
  return {
    name: 'Redis',
    address: `${host}:${port}`,
    dir: rel(dir),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM'); // Redis saves the append-only file and exits
        await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      }
      rmSync(pidFile, { force: true });
    },
    stopNow() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    },
  };
}

function installHelp(missing: { name: string; url: URL; programs: string; variable: string }[]) {
  const lines = missing.map(
    (m) =>
      `${m.name} is not answering at ${m.url.hostname}:${m.url.port || (m.name === 'Redis' ? 6379 : 5432)}, and its programs (${m.programs}) are not installed, so dev cannot start a private one.`,
  );
  return new StartupError(
    [
      'Steady needs PostgreSQL and Redis:',
      ...lines.map((l) => '  - ' + l),
      '',
      'Either install them, and `npm run dev` starts private ones under .steady/ by itself:',
      '    sudo apt-get install postgresql redis-server      (Debian, Ubuntu)',
      '    brew install postgresql@16 redis                  (macOS)',
      'or run them in Docker, published on 127.0.0.1:',
      '    docker compose -f docker-compose.yml -f docker-compose.dev.yml up -d postgres redis',
      `or point ${missing.map((m) => m.variable).join(' and ')} at ones that run (in .env or the environment).`,
    ].join('\n'),
  );
}

/**
 * Makes sure the configured PostgreSQL and Redis answer, starting private ones under .steady/
 * for those that do not (on this machine, with their programs installed). A remote service that
 * does not answer is left to the usual start-up check, which names it.
 */
export async function ensureLocalServices(
  config: Config,
  opts: {
    /** Where the private servers keep their data (tests use a folder of their own). */
    base?: string;
    find?: { postgres: typeof findPostgres; redis: typeof findRedis };
    say?: (line: string) => void;
  } = {},
): Promise<LocalServices> {
  const pgUrl = new URL(config.databaseUrl);
  // A Redis Cluster is never started here: it must be running.
  const redisUrl = new URL(
    isClusterUrl(config.redisUrl) ? 'redis+cluster://cluster' : config.redisUrl,
  );
  const base = opts.base ?? join(ROOT, '.steady');
  const find = opts.find ?? { postgres: findPostgres, redis: findRedis };
  const say = opts.say ?? ((line: string) => console.log(line));
  await stopLeftovers(base, say);
  const need = {
    pg:
      LOCAL_HOSTS.has(pgUrl.hostname) &&
      !(await answers(pgUrl.hostname, Number(pgUrl.port || 5432))),
    redis:
      !isClusterUrl(config.redisUrl) &&
      LOCAL_HOSTS.has(redisUrl.hostname) &&
      !(await answers(redisUrl.hostname, Number(redisUrl.port || 6379))),
  };
  const pg = need.pg ? find.postgres() : undefined;
  const redis = need.redis ? find.redis() : undefined;
  const missing = [
    ...(need.pg && !pg
      ? [{ name: 'PostgreSQL', url: pgUrl, programs: 'initdb, pg_ctl', variable: 'DATABASE_URL' }]
      : []),
    ...(need.redis && !redis
      ? [{ name: 'Redis', url: redisUrl, programs: 'redis-server', variable: 'REDIS_URL' }]
      : []),
  ];
  if (missing.length) throw installHelp(missing);

  const started: PrivateService[] = [];
  const devPid = join(base, 'dev.pid');
  // Both kinds of stop may run (a second Ctrl-C exits while the first is still stopping), so each
  // service's stop and stopNow are safe to call again, and no service leaves the list before it
  // has stopped.
  const stopAll = async () => {
    for (const s of [...started].reverse()) await s.stop().catch(() => {});
    rmSync(devPid, { force: true });
  };
  if (need.pg || need.redis) {
    mkdirSync(base, { recursive: true });
    writeFileSync(devPid, String(process.pid));
  }
  try {
    if (need.pg && pg) {
      say(`  Starting a private PostgreSQL ${pg.version} in ${rel(join(base, 'postgres'))} ...`);
      started.push(await startPostgres(pgUrl, pg, join(base, 'postgres')));
    }
    if (need.redis && redis) {
      say(`  Starting a private Redis in ${rel(join(base, 'redis'))} ...`);
      started.push(await startRedis(redisUrl, redis, join(base, 'redis')));
    }
  } catch (err) {
    await stopAll();
    throw err;
  }
  return {
    started,
    banner: started.map(
      (s) =>
        `  ${s.name.padEnd(17)} ${s.address}, private: nothing answered there, so dev started one (data in ${s.dir}/, stops with dev)`,
    ),
    stop: stopAll,
    stopNow() {
      for (const s of started) s.stopNow();
      rmSync(devPid, { force: true });
    },
  };
}
