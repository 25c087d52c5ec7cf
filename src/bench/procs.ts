// The benchmark's process tree: the fake Twilio API and the Steady (or bare pipeline) process run
// as child processes of the orchestrator, so each one's CPU and memory can be told apart and the
// orchestrator's own polling does not share their event loops.
import { fork, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ROOT } from '../paths.ts';

export interface Usage {
  /** CPU seconds (user + system) since the process started. */
  cpuS: number;
  /** Largest resident set seen, in MB. */
  rssPeakMb: number;
}

const TICKS = 100; // USER_HZ on Linux

/** Node flags for a TypeScript child: the tsx loader, plus a CPU profile when asked for. */
function nodeFlags(profileDir?: string): string[] {
  return ['--import', 'tsx', ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [])];
}

export interface FakeMessage {
  sid: string;
  to: string;
  body: string;
  receivedAt: number;
}

export interface FakeProcess {
  url: string;
  accountSid: string;
  authToken: string;
  /** Requests the fake has answered so far (cheap: for progress). */
  requests(): Promise<number>;
  messages(): Promise<FakeMessage[]>;
  usage(): Promise<Usage>;
  stop(): Promise<Usage | null>;
}

/** Starts tests/support/fake-twilio.ts in its own process (a `fake` child) and waits for its URL. */
export async function startFake(opts: { profileDir?: string } = {}): Promise<FakeProcess> {
  const child = await startChild('fake', {}, opts);
  const info = child.ready.fake;
  if (!info) throw new Error('fake Twilio started without telling its URL');
  return {
    ...info,
    async requests() {
      const res = await fetch(`${info.url}/_fake/behavior`, { method: 'POST', body: '{}' });
      return ((await res.json()) as { stats: { requests: number } }).stats.requests;
    },
    async messages() {
      const res = await fetch(`${info.url}/_fake/messages`);
      return (await res.json()) as FakeMessage[];
    },
    usage: () => child.usage(),
    stop: () => child.stop(),
  };
}

/** Messages between the orchestrator and a child (src/bench/child.ts). */
export type ToChild =
  { type: 'go'; n: number; batch: number } | { type: 'usage' } | { type: 'stop' };
export type FromChild =
  | { type: 'ready'; url?: string; fake?: { url: string; accountSid: string; authToken: string } }
  | { type: 'usage'; cpuS: number; rssPeakMb: number }
  | { type: 'stopped' }
  | { type: 'failed'; message: string };

export interface ChildProcessHandle {
  pid: number;
  ready: Omit<Extract<FromChild, { type: 'ready' }>, 'type'>;
  send(msg: ToChild): void;
  /** CPU seconds (process.cpuUsage) and peak RSS, reported by the child itself. */
  usage(): Promise<Usage>;
  /** Lines the child logged at error or above (the first few), for the report. */
  problems: string[];
  stop(): Promise<Usage | null>;
}

/**
 * Forks src/bench/child.ts in a role, with `env` over the inherited environment. Its stdout
 * (the service's JSON log, at the usual level) is read and dropped, except errors.
 */
export async function startChild(
  role: 'steady' | 'ceiling' | 'fake',
  env: Record<string, string>,
  opts: { profileDir?: string } = {},
): Promise<ChildProcessHandle> {
  // The settings travel as an argument; the child lays them over its inherited environment.
  const child = fork(join(ROOT, 'src', 'bench', 'child.ts'), [role, JSON.stringify(env)], {
    cwd: ROOT,
    execArgv: nodeFlags(opts.profileDir),
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const problems: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (problems.length < 20 && /"level":(5|6)\d/.test(line)) problems.push(line);
  });
  const waiters: ((m: FromChild) => boolean)[] = [];
  child.on('message', (m: FromChild) => {
    for (let i = 0; i < waiters.length; i++) if (waiters[i]!(m)) waiters.splice(i--, 1);
  });
  const next = <T extends FromChild['type']>(type: T, timeoutMs = 60_000) =>
    new Promise<Extract<FromChild, { type: T }>>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${role} process: no "${type}" within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const onExit = (code: number | null) =>
        reject(new Error(`${role} process exited (${code}) while waiting for "${type}"`));
      child.once('exit', onExit);
      waiters.push((m) => {
        if (m.type === 'failed') {
          clearTimeout(timer);
          child.off('exit', onExit);
          reject(new Error(`${role} process failed: ${m.message}`));
          return true;
        }
        if (m.type !== type) return false;
        clearTimeout(timer);
        child.off('exit', onExit);
        resolve(m as Extract<FromChild, { type: T }>);
        return true;
      });
    });
  const ready = await next('ready', 120_000);
  let lastUsage: Usage | null = null;
  const usage = async () => {
    child.send({ type: 'usage' } satisfies ToChild);
    const u = await next('usage', 30_000);
    lastUsage = { cpuS: u.cpuS, rssPeakMb: u.rssPeakMb };
    return lastUsage;
  };
  return {
    pid: child.pid!,
    ready: { url: ready.url, fake: ready.fake },
    problems,
    send: (msg) => child.send(msg),
    usage,
    async stop() {
      if (child.exitCode !== null) return lastUsage;
      const final = await usage().catch(() => lastUsage);
      child.send({ type: 'stop' } satisfies ToChild);
      await next('stopped', 60_000).catch(() => {});
      await stopChild(child);
      return final;
    },
  };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

/** CPU seconds used so far by PostgreSQL (every backend, plus exited ones the postmaster reaped)
 * and by Redis, read from /proc. Shared services: other users of them show up too. */
export function serviceCpu(): { postgres: number; redis: number } | null {
  try {
    let postgres = 0;
    let redis = 0;
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      let stat: string;
      try {
        stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      } catch {
        continue;
      }
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const own = (Number(f[11]) + Number(f[12])) / TICKS;
      const reaped = (Number(f[13]) + Number(f[14])) / TICKS;
      if (name.startsWith('postgres') || name === 'postmaster') postgres += own + reaped;
      else if (name.startsWith('redis-server')) redis += own;
    }
    return { postgres, redis };
  } catch {
    return null;
  }
}
