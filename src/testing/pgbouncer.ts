// Starts a real PgBouncer (Debian's /usr/sbin/pgbouncer, 1.18 on these machines) for tests and
// harnesses: writes its ini and userlist to a temporary folder, runs it in the foreground (not
// daemonized) in a process group of its own, waits until it listens, and stops it. Nothing runs at
// import time; the service itself never imports this.
//
// PgBouncer refuses to run as root ("PgBouncer should not run as root"): as root it is started with
// `-u postgres` (or `-u nobody` where there is no postgres user), which drops privileges after it
// has read its files, so the folder and the files are made readable to that user. It writes
// nothing (no log file, no pid file, no unix socket): its log goes to stderr, kept in `log()`.
//
// `commandPrefix` runs it through another program, e.g. ['ip', 'netns', 'exec', 'data'] to start
// it inside a network namespace; there `probe: false` skips the TCP check from this namespace
// and readiness is PgBouncer's own "listening on" line.
import { spawn, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PgBouncerOptions {
  /** Where PgBouncer listens (default 127.0.0.1; `*` for every address). */
  listenAddr?: string;
  /** Its port (default: a spare one on this machine; required with `commandPrefix`). */
  port?: number;
  /** The PostgreSQL server behind it (default 127.0.0.1:5432). */
  upstreamHost?: string;
  upstreamPort?: number;
  /** Default `transaction`: a server connection is the client's only for one transaction. */
  poolMode?: 'session' | 'transaction' | 'statement';
  /**
   * The [databases] section. `*` is the fallback for any other name: a client asking for database
   * `x` gets `x` on the upstream server (so databases created later are reachable too). Default
   * `{ '*': '' }`; a value is extra libpq-style settings, e.g. `{ steady: 'pool_size=5' }`.
   */
  databases?: Record<string, string>;
  /**
   * `trust`: no password, but the user must be listed in the userlist (`users`). `any`: any user
   * name is accepted and every server login uses `upstreamUser`. Default `trust`.
   */
  authType?: 'trust' | 'any';
  /** Users in the userlist (default ['postgres']); the first is also the admin console's user. */
  users?: string[];
  /** With `authType: 'any'`, the user PgBouncer logs in to PostgreSQL as (default postgres). */
  upstreamUser?: string;
  /** Client connections PgBouncer accepts in all (default 1000). */
  maxClientConn?: number;
  /** Server connections per database and user (default 20). */
  defaultPoolSize?: number;
  /** More [pgbouncer] settings, written as given (they win over the ones above). */
  settings?: Record<string, string | number>;
  /** Runs `[...commandPrefix, pgbouncer, ...]`, e.g. ['ip', 'netns', 'exec', 'data']. */
  commandPrefix?: string[];
  /** The program (default PGBOUNCER_BIN or /usr/sbin/pgbouncer). */
  binary?: string;
  /** As root, the user it runs as (default postgres, else nobody). */
  runAs?: string;
  /** Check that the port accepts a TCP connection from here (default: true without a prefix). */
  probe?: boolean;
  /** The address `url()` names (default listenAddr, or 127.0.0.1 when that is `*`/0.0.0.0). */
  connectHost?: string;
  /** How long to wait for it to listen (default 10 s). */
  readyTimeoutMs?: number;
  /** Its log goes to this file (appended) instead of being kept in memory. */
  logFile?: string;
  /** Leave it running when this process ends (a background PgBouncer; stop it by its pid). */
  detach?: boolean;
}

export interface PgBouncer {
  /** postgresql://<user>@<host>:<port>/<db> through PgBouncer (user default: the first user). */
  url(dbName: string, user?: string): string;
  host: string;
  port: number;
  /** The spawned process (the prefix's, when there is one). */
  pid: number;
  /** The folder with pgbouncer.ini and userlist.txt (removed by stop). */
  dir: string;
  /** What PgBouncer logged so far (stderr). */
  log(): string;
  /** Stops it (SIGTERM to its process group, SIGKILL after 5 s) and removes its folder. */
  stop(): Promise<void>;
}

export const DEFAULT_PGBOUNCER = '/usr/sbin/pgbouncer';

/** Where PgBouncer is, or null when it is not installed. */
export function findPgBouncer(
  binary = process.env.PGBOUNCER_BIN ?? DEFAULT_PGBOUNCER,
): string | null {
  return existsSync(binary) ? binary : null;
}

/** A TCP port nobody listens on right now, on this machine's loopback. */
export function sparePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function userExists(name: string): boolean {
  try {
    return readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .some((line) => line.split(':')[0] === name);
  } catch {
    return false;
  }
}

/** A database name for the ini: others than [0-9A-Za-z_.-] are quoted as SQL identifiers. */
function iniQuote(s: string): string {
  return /^[A-Za-z0-9_.*-]+$/.test(s) ? s : `"${s.replace(/"/g, '""')}"`;
}

export function pgBouncerIni(
  o: Required<
    Pick<
      PgBouncerOptions,
      | 'listenAddr'
      | 'upstreamHost'
      | 'upstreamPort'
      | 'poolMode'
      | 'databases'
      | 'authType'
      | 'users'
      | 'upstreamUser'
      | 'maxClientConn'
      | 'defaultPoolSize'
      | 'settings'
    >
  > & { port: number; authFile: string },
): string {
  const server = `host=${o.upstreamHost} port=${o.upstreamPort}`;
  const login = o.authType === 'any' ? ` user=${o.upstreamUser}` : '';
  const databases = { '*': '', ...o.databases };
  const lines = ['[databases]'];
  for (const [name, extra] of Object.entries(databases))
    lines.push(`${iniQuote(name)} = ${server}${login}${extra ? ' ' + extra : ''}`);
  const settings: Record<string, string | number> = {
    listen_addr: o.listenAddr,
    listen_port: o.port,
    // No unix socket, log file or pid file: nothing to collide with another instance.
    unix_socket_dir: '',
    logfile: '',
    pidfile: '',
    auth_type: o.authType,
    auth_file: o.authFile,
    admin_users: o.users[0] ?? 'postgres',
    stats_users: o.users[0] ?? 'postgres',
    pool_mode: o.poolMode,
    max_client_conn: o.maxClientConn,
    default_pool_size: o.defaultPoolSize,
    // Some drivers send it at startup (JDBC, psycopg); node-postgres does not.
    ignore_startup_parameters: 'extra_float_digits',
    // A refused server login (a database not created yet) is retried soon, not after 15 s.
    server_login_retry: 1,
    log_connections: 0,
    log_disconnections: 0,
    ...o.settings,
  };
  lines.push('', '[pgbouncer]');
  for (const [k, v] of Object.entries(settings)) lines.push(`${k} = ${v}`);
  return lines.join('\n') + '\n';
}

export async function startPgBouncer(opts: PgBouncerOptions = {}): Promise<PgBouncer> {
  const binary = opts.binary ?? findPgBouncer();
  if (!binary || !existsSync(binary))
    throw new Error(
      `PgBouncer is not installed (${opts.binary ?? DEFAULT_PGBOUNCER}): apt-get install -y pgbouncer, or set PGBOUNCER_BIN`,
    );
  const prefix = opts.commandPrefix ?? [];
  const listenAddr = opts.listenAddr ?? '127.0.0.1';
  const wildcard = listenAddr === '*' || listenAddr === '0.0.0.0';
  const host = opts.connectHost ?? (wildcard ? '127.0.0.1' : listenAddr);
  if (opts.port === undefined && prefix.length)
    throw new Error('startPgBouncer: give a port when it runs through a command prefix');
  const port = opts.port ?? (await sparePort(wildcard ? '127.0.0.1' : listenAddr));
  const users = opts.users ?? ['postgres'];

  const dir = mkdtempSync(join(tmpdir(), 'steady-pgbouncer-'));
  // Read again (as the unprivileged user) on a reload: the folder and files must be readable.
  chmodSync(dir, 0o755);
  const authFile = join(dir, 'userlist.txt');
  writeFileSync(authFile, users.map((u) => `"${u.replace(/"/g, '""')}" ""`).join('\n') + '\n', {
    mode: 0o644,
  });
  const iniFile = join(dir, 'pgbouncer.ini');
  writeFileSync(
    iniFile,
    pgBouncerIni({
      listenAddr,
      port,
      upstreamHost: opts.upstreamHost ?? '127.0.0.1',
      upstreamPort: opts.upstreamPort ?? 5432,
      poolMode: opts.poolMode ?? 'transaction',
      databases: opts.databases ?? {},
      authType: opts.authType ?? 'trust',
      users,
      upstreamUser: opts.upstreamUser ?? 'postgres',
      maxClientConn: opts.maxClientConn ?? 1000,
      defaultPoolSize: opts.defaultPoolSize ?? 20,
      settings: opts.settings ?? {},
      authFile,
    }),
    { mode: 0o644 },
  );

  const args: string[] = [];
  if (process.getuid?.() === 0) {
    const runAs = opts.runAs ?? (userExists('postgres') ? 'postgres' : 'nobody');
    args.push('-u', runAs);
  }
  args.push(iniFile);
  const argv = [...prefix, binary, ...args];
  if (opts.detach && !opts.logFile)
    throw new Error('startPgBouncer: a detached PgBouncer needs a logFile');
  // Only what this PgBouncer logs counts (the file may hold an earlier run's lines).
  const startOffset =
    opts.logFile && existsSync(opts.logFile) ? readFileSync(opts.logFile, 'utf8').length : 0;
  const logFd = opts.logFile ? openSync(opts.logFile, 'a') : null;
  const child: ChildProcess = spawn(argv[0]!, argv.slice(1), {
    stdio: logFd === null ? ['ignore', 'pipe', 'pipe'] : ['ignore', logFd, logFd],
    // Its own process group: stop() reaches PgBouncer behind any wrapper in the prefix.
    detached: true,
  });
  if (logFd !== null) closeSync(logFd);
  let kept = '';
  const collect = (chunk: Buffer) => {
    kept += chunk.toString();
    if (kept.length > 200_000) kept = kept.slice(-100_000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const logged = () => {
    if (!opts.logFile) return kept;
    try {
      return readFileSync(opts.logFile, 'utf8') + kept;
    } catch {
      return kept;
    }
  };
  const output = () => logged().slice(startOffset);
  let exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      resolve();
    });
    child.once('error', (err) => {
      kept += `\n${err.message}`;
      exited = { code: null, signal: null };
      resolve();
    });
  });
  // A test process that ends without stop() must not leave PgBouncer running.
  const killOnExit = () => {
    try {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  };
  if (opts.detach) child.unref();
  else process.once('exit', killOnExit);

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    process.removeListener('exit', killOnExit);
    if (!exited && child.pid) {
      const signal = (sig: NodeJS.Signals) => {
        try {
          process.kill(-child.pid!, sig);
        } catch {
          /* already gone */
        }
      };
      signal('SIGTERM');
      const timer = setTimeout(() => signal('SIGKILL'), 5000);
      await exit;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const timeoutMs = opts.readyTimeoutMs ?? 10_000;
  const probe = opts.probe ?? prefix.length === 0;
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      if (exited)
        throw new Error(
          `PgBouncer exited (${JSON.stringify(exited)}) before it listened on ${listenAddr}:${port}:\n${output().trim()}`,
        );
      if (/listening on/.test(output()) && (!probe || (await accepts(host, port)))) break;
      if (Date.now() > deadline)
        throw new Error(
          `PgBouncer did not listen on ${host}:${port} within ${timeoutMs} ms:\n${output().trim()}`,
        );
      await new Promise((r) => setTimeout(r, 50));
    }
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    url: (dbName, user = users[0] ?? 'postgres') =>
      `postgresql://${encodeURIComponent(user)}@${host.includes(':') ? `[${host}]` : host}:${port}/${encodeURIComponent(dbName)}`,
    host,
    port,
    pid: child.pid ?? 0,
    dir,
    log: output,
    stop,
  };
}

function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
