// Throughput across hosts (`npm run fleet -- --bench`): the same data host (PostgreSQL behind
// PgBouncer, a 3+3 Redis Cluster, a fake Twilio that never fails or throttles), and Steady's real
// roles on their own hosts: first one scheduler and ONE worker host, then one scheduler and TWO
// worker hosts (then, if asked, two of each). Each round seeds N people due now on emptied tables,
// waits until the fake provider has accepted N messages, and measures messages per second (the
// median of per-second rates between 10% and 90% delivered, and overall) and where the CPU went
// in that window: every process of every host, from /proc, as a share of one core. The hosts are
// network namespaces on one machine: they share its cores, which the report says.
import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import pg from 'pg';
import { loadConfig } from '../../src/config.ts';
import { loadContent } from '../../src/content/load.ts';
import { selectPrograms } from '../../src/content/programs.ts';
import { MESSAGES_DIR } from '../../src/paths.ts';
import { cliStarted, Fleet, spawnChild } from '../chaos/children.ts';
import { harnessUrl } from '../chaos/database.ts';
import { sleep } from '../chaos/ports.ts';
import { seed } from '../chaos/seed.ts';
import type { DataHost } from './data-host.ts';
import { Network } from './netns.ts';
import { openFleet, roleEnv, secs, startFakeOn, startFleetData, withTimeout } from './run.ts';

export interface BenchRoundSpec {
  workers: number;
  schedulers: number;
}

export interface BenchOptions {
  n: number;
  /** Longest a round may take once seeded, in seconds. */
  timeoutSec: number;
  rounds?: BenchRoundSpec[];
  plain?: boolean;
  logDir?: string;
  say?: (line: string) => void;
  onNetwork?: (network: Network) => void;
}

export interface BenchRound {
  workers: number;
  schedulers: number;
  /** From the start of seeding to the Nth message at the provider. */
  seconds: number;
  msgs_per_s: {
    /** Median of the per-second rates between 10% and 90% delivered. */
    median: number;
    /** N / seconds. */
    overall: number;
  };
  /** The measured (10% -> 90%) window, in seconds. */
  window_s: number;
  /** Messages the provider accepted this round (N when nothing went out twice). */
  accepted: number;
  /** Due messages left in the database in a status other than sent/delivered after the round. */
  not_sent: number;
  /** CPU over the window as a share of one core (1.0 = one core flat out), by process group. */
  cpu: Record<string, number>;
  /** The whole machine's busy time over the window, in cores (of `cores`). */
  machine_busy_cores: number;
  /** CPU seconds the fleet's own processes (every host's, the kernel's interrupts) spent per
   * 1000 messages in the window: what a machine with nothing else on it would divide its cores
   * by. */
  fleet_cpu_s_per_1000: number;
}

export interface BenchReport {
  n: number;
  cores: number;
  rounds: BenchRound[];
  /** Two worker hosts / one (median and overall rates). */
  ratio: { median: number; overall: number } | null;
  /** One sentence: where the time went, and what that means. */
  bottleneck: string;
  data: string;
  logDir: string;
}

export const BENCH_HOSTS = ['data', 'sched1', 'sched2', 'work1', 'work2'] as const;

const DEFAULT_ROUNDS: BenchRoundSpec[] = [
  { workers: 1, schedulers: 1 },
  { workers: 2, schedulers: 1 },
];

const TICK_S = 1 / 100; // USER_HZ
/** Every process of this machine outside the fleet's namespaces but the harness: the busy time
 * the fleet's groups do not explain. */
const OUTSIDE = 'other processes on this machine';
/** Interrupt time (/proc/stat irq + softirq): the bridge's and the veths' packets, mostly. */
const KERNEL = 'kernel interrupts (network)';
const SAMPLE_MS = 500;

export async function runBench(opts: BenchOptions): Promise<BenchReport> {
  const say = opts.say ?? (() => {});
  const specs = opts.rounds ?? DEFAULT_ROUNDS;
  const needSched = Math.max(...specs.map((r) => r.schedulers));
  const needWork = Math.max(...specs.map((r) => r.workers));
  if (needSched > 2 || needWork > 2) throw new Error('the bench network has two hosts of each');
  const hostNames = BENCH_HOSTS.filter(
    (h) =>
      h === 'data' ||
      (h.startsWith('sched') && Number(h.slice(5)) <= needSched) ||
      (h.startsWith('work') && Number(h.slice(4)) <= needWork),
  );
  const { network, logDir, logFor, logs } = openFleet('fleet-bench', [...hostNames], opts, say);
  const stops: (() => Promise<unknown>)[] = [];
  let data: DataHost | undefined;
  try {
    const dataHost = network.host('data');
    data = await startFleetData(network, logDir, opts.plain, say);
    const fakeInfo = await startFakeOn(dataHost, logFor('fake-twilio'), {
      failRate: 0,
      throttleRate: 0,
      keep: false,
    });
    stops.push(fakeInfo.stop);
    const accepted = async () => {
      const res = await fetch(`${fakeInfo.url}/_fake/behavior`, { method: 'POST', body: '{}' });
      const { stats } = (await res.json()) as { stats: { requests: number; failures: number } };
      return stats.requests - stats.failures;
    };
    // Nothing serves PUBLIC_URL: the fake never calls back, and there are no replies.
    const env = roleEnv(data, fakeInfo, `http://${network.gateway}:3000`);
    const program = selectPrograms(await loadContent(MESSAGES_DIR), loadConfig(env)).default;

    const cpu = new CpuSampler(network, await data.redisLabels?.().catch(() => ({})));
    const rounds: BenchRound[] = [];
    for (const [i, spec] of specs.entries()) {
      if (i > 0) await emptyTables(data.directDatabaseUrl);
      const label = `round ${i + 1} (${spec.workers} worker${spec.workers > 1 ? 's' : ''}, ${spec.schedulers} scheduler${spec.schedulers > 1 ? 's' : ''})`;
      say(`${label}: starting the roles`);
      const role = (hostName: string, command: string) => {
        const host = network.host(hostName);
        return spawnChild(
          hostName,
          'src/cli.ts',
          [command],
          { ...env, HOST: host.address },
          logFor(`${hostName}-round${i + 1}`),
          cliStarted,
          host.exec,
        );
      };
      const schedulers = new Fleet((k) => role(`sched${k + 1}`, 'schedule'), spec.schedulers);
      const workers = new Fleet((k) => role(`work${k + 1}`, 'work'), spec.workers);
      const stopRoles = () =>
        Promise.all([schedulers.stop(8000), workers.stop(8000)]).then(() => undefined);
      stops.unshift(stopRoles);
      try {
        await withTimeout(
          Promise.all([schedulers.ready(), workers.ready()]),
          90_000,
          `the roles did not start within 90 s (see the logs in ${logDir})`,
        );
        rounds.push(
          await measureRound(spec, {
            n: opts.n,
            timeoutSec: opts.timeoutSec,
            databaseUrl: data.directDatabaseUrl,
            program,
            accepted,
            cpu,
            say: (line) => say(`${label}: ${line}`),
          }),
        );
      } finally {
        await stopRoles().catch(() => {});
        stops.splice(stops.indexOf(stopRoles), 1);
      }
      const r = rounds[rounds.length - 1]!;
      say(
        `${label}: ${num(r.msgs_per_s.median)} msg/s median, ${num(r.msgs_per_s.overall)} overall, ${r.seconds} s`,
      );
    }
    const one = rounds.find((r) => r.workers === 1 && r.schedulers === 1);
    const two = rounds.find((r) => r.workers === 2 && r.schedulers === 1);
    const ratio =
      one && two
        ? {
            median: round2(two.msgs_per_s.median / one.msgs_per_s.median),
            overall: round2(two.msgs_per_s.overall / one.msgs_per_s.overall),
          }
        : null;
    const cores = availableParallelism();
    return {
      n: opts.n,
      cores,
      rounds,
      ratio,
      bottleneck: bottleneck(rounds, cores, ratio),
      data: data.describe,
      logDir,
    };
  } finally {
    say('stopping the roles and the fake, then the data host');
    for (const stop of stops) await stop().catch(() => {});
    await data?.stop().catch(() => {});
    network.teardown();
    for (const l of logs) l.end();
    say('network removed');
  }
}

/** TRUNCATE every table the service writes (all but the migrations' own), so the next round
 * starts from the same empty tables as the first. */
async function emptyTables(databaseUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: harnessUrl(databaseUrl) });
  await client.connect();
  try {
    const { rows } = await client.query<{ t: string }>(
      `SELECT quote_ident(tablename) AS t FROM pg_tables
       WHERE schemaname = 'public' AND tablename <> '_prisma_migrations'`,
    );
    if (rows.length) await client.query(`TRUNCATE ${rows.map((r) => r.t).join(', ')} CASCADE`);
  } finally {
    await client.end();
  }
}

interface Sample {
  t: number; // ms since the round's t0
  count: number;
  cpu: CpuSnapshot;
}

async function measureRound(
  spec: BenchRoundSpec,
  o: {
    n: number;
    timeoutSec: number;
    databaseUrl: string;
    program: Parameters<typeof seed>[1];
    accepted: () => Promise<number>;
    cpu: CpuSampler;
    say: (line: string) => void;
  },
): Promise<BenchRound> {
  const base = await o.accepted();
  const t0 = Date.now();
  const samples: Sample[] = [{ t: 0, count: 0, cpu: o.cpu.snapshot() }];
  // Seeding runs while the roles already poll: the scheduler claims the first rows at once, as it
  // would when a crowd comes due. Sampling goes on meanwhile.
  let seeding = true;
  const seeded = seed(o.databaseUrl, o.program, o.n, 0).finally(() => (seeding = false));
  let lastSay = 0;
  let count = 0;
  for (;;) {
    await sleep(SAMPLE_MS - ((Date.now() - t0) % SAMPLE_MS));
    count = (await o.accepted().catch(() => base + count)) - base;
    samples.push({ t: Date.now() - t0, count, cpu: o.cpu.snapshot() });
    if (!seeding && count >= o.n) break;
    if (Date.now() - t0 > o.timeoutSec * 1000) {
      o.say(`timed out after ${o.timeoutSec} s with ${count}/${o.n} at the provider`);
      break;
    }
    if (Date.now() - lastSay > 5000) {
      lastSay = Date.now();
      o.say(`t+${secs(t0)}s ${count}/${o.n} at the provider${seeding ? ' (seeding)' : ''}`);
    }
  }
  await seeded;
  const end = samples[samples.length - 1]!;
  const seconds = end.t / 1000;
  // The steady part: from the first sample at 10% delivered to the first at 90%.
  let a = samples.findIndex((s) => s.count >= o.n * 0.1);
  let b = samples.findIndex((s) => s.count >= o.n * 0.9);
  if (a < 0 || b < 0 || b - a < 2) [a, b] = [0, samples.length - 1];
  const from = samples[a]!;
  const to = samples[b]!;
  const rates: number[] = [];
  for (let t = from.t; t + 1000 <= to.t; t += 1000)
    rates.push(countAt(samples, t + 1000) - countAt(samples, t));
  if (!rates.length) rates.push(((to.count - from.count) * 1000) / Math.max(1, to.t - from.t));
  const windowS = (to.t - from.t) / 1000;
  const usage = o.cpu.between(from.cpu, to.cpu, windowS);
  return {
    workers: spec.workers,
    schedulers: spec.schedulers,
    seconds: Math.round(seconds * 10) / 10,
    msgs_per_s: {
      median: Math.round(median(rates)),
      overall: Math.round(Math.min(count, o.n) / seconds),
    },
    window_s: Math.round(windowS * 10) / 10,
    accepted: count,
    not_sent: await notSent(o.databaseUrl),
    cpu: usage.groups,
    machine_busy_cores: usage.machineBusyCores,
    fleet_cpu_s_per_1000: round2(
      (Object.entries(usage.groups)
        .filter(([g]) => g !== OUTSIDE && !g.startsWith('harness'))
        .reduce((sum, [, share]) => sum + share, 0) *
        windowS *
        1000) /
        Math.max(1, to.count - from.count),
    ),
  };
}

/** The provider's count at `t` ms, read off the samples by linear interpolation. */
function countAt(samples: Sample[], t: number): number {
  for (let i = 1; i < samples.length; i++) {
    const p = samples[i - 1]!;
    const q = samples[i]!;
    if (q.t >= t) return p.count + ((q.count - p.count) * (t - p.t)) / Math.max(1, q.t - p.t);
  }
  return samples[samples.length - 1]!.count;
}

async function notSent(databaseUrl: string): Promise<number> {
  const client = new pg.Client({ connectionString: harnessUrl(databaseUrl) });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>(
      `SELECT count(*) AS n FROM messages
       WHERE direction = 'out' AND step IS NOT NULL AND status NOT IN ('sent', 'delivered')`,
    );
    return Number(rows[0]?.n ?? 0);
  } finally {
    await client.end();
  }
}

// ---- CPU, from /proc -------------------------------------------------------------------------

interface CpuSnapshot {
  /** Clock ticks (user + system, plus reaped children's) by process group. */
  groups: Map<string, number>;
  /** /proc/stat's first line: busy and total ticks, all cores together. */
  busy: number;
  total: number;
  harnessUs: number;
}

/** Reads every process of every fleet host. A group's ticks are its live processes' own time
 * plus the time of children they have reaped (cutime + cstime), so a PostgreSQL backend that
 * exits keeps counting, through the postmaster. */
class CpuSampler {
  private readonly byInode = new Map<number, string>();

  constructor(
    network: Network,
    private readonly redisLabels: Record<number, string> = {},
  ) {
    for (const h of network.hosts.values())
      this.byInode.set(statSync(`/run/netns/${h.ns}`).ino, h.name);
  }

  snapshot(): CpuSnapshot {
    const groups = new Map<string, number>();
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const ns = /net:\[(\d+)\]/.exec(readlinkSync(`/proc/${entry}/ns/net`))?.[1];
        const host = ns ? this.byInode.get(Number(ns)) : undefined;
        if (!host) continue;
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        const close = stat.lastIndexOf(')');
        const comm = stat.slice(stat.indexOf('(') + 1, close);
        const f = stat.slice(close + 2).split(' ');
        // After the command: state (3), ... utime (14), stime (15), cutime (16), cstime (17).
        const ticks = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
        const group = this.groupOf(host, comm, entry);
        groups.set(group, (groups.get(group) ?? 0) + ticks);
      } catch {
        /* the process went in between */
      }
    }
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
    const [user, nice, system, idle, iowait, irq, softirq, steal] = line.slice(1).map(Number);
    const busy = user! + nice! + system! + irq! + softirq! + (steal ?? 0);
    groups.set(KERNEL, irq! + softirq!);
    const usage = process.cpuUsage();
    return { groups, busy, total: busy + idle! + iowait!, harnessUs: usage.user + usage.system };
  }

  private groupOf(host: string, comm: string, pid: string): string {
    if (host.startsWith('work')) return `worker ${host}`;
    if (host.startsWith('sched')) return `scheduler ${host}`;
    if (comm === 'postgres') return 'postgres (all processes)';
    if (comm === 'pgbouncer') return 'pgbouncer';
    if (comm.startsWith('redis-server')) {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      const port = Number(cmd[cmd.indexOf('--port') + 1]) || Number(/:(\d+)/.exec(cmd[0]!)?.[1]);
      const label = this.redisLabels[port];
      return `redis :${port || '?'}${label ? ` (${label})` : ''}`;
    }
    if (comm === 'node') return 'fake Twilio';
    return `data: ${comm}`;
  }

  /** Shares of one core over `seconds`, by group, plus the harness and what no group explains. */
  between(
    a: CpuSnapshot,
    b: CpuSnapshot,
    seconds: number,
  ): { groups: Record<string, number>; machineBusyCores: number } {
    const cores = availableParallelism();
    const out: [string, number][] = [];
    let named = 0;
    for (const [group, ticks] of b.groups) {
      const s = ((ticks - (a.groups.get(group) ?? 0)) * TICK_S) / seconds;
      named += s;
      out.push([group, s]);
    }
    const harness = (b.harnessUs - a.harnessUs) / 1e6 / seconds;
    out.push(['harness (this process)', harness]);
    named += harness;
    const busyCores = ((b.busy - a.busy) / Math.max(1, b.total - a.total)) * cores;
    // What the fleet's processes, the harness and the interrupts do not explain: other processes
    // on this machine (read as the rest of /proc/stat's busy time: summing their own /proc
    // entries misleads when one exits whose parent has gone too).
    out.push([OUTSIDE, Math.max(0, busyCores - named)]);
    out.sort((x, y) => y[1] - x[1]);
    return {
      groups: Object.fromEntries(out.map(([g, s]) => [g, round2(s)])),
      machineBusyCores: round2(busyCores),
    };
  }
}

// ---- the verdict -------------------------------------------------------------------------------

function bottleneck(
  rounds: BenchRound[],
  cores: number,
  ratio: { median: number; overall: number } | null,
): string {
  const last =
    rounds.find((r) => r.workers === 2 && r.schedulers === 1) ?? rounds[rounds.length - 1];
  if (!last) return '';
  const busy = last.machine_busy_cores / cores;
  const others = Math.max(...rounds.map((r) => r.cpu[OUTSIDE] ?? 0));
  const top = Object.entries(last.cpu)
    .filter(([g]) => g !== OUTSIDE && g !== KERNEL)
    .slice(0, 3)
    .map(([g, s]) => `${g} ${pct(s)}`)
    .join(', ');
  const scaled =
    ratio === null
      ? ''
      : ratio.median >= 1.6
        ? `a second worker host nearly doubled throughput (x${ratio.median}). `
        : ratio.median >= 1.15
          ? `a second worker host added ${pct(ratio.median - 1)} (x${ratio.median}). `
          : ratio.median >= 0.9
            ? `a second worker host barely changed throughput (x${ratio.median}). `
            : `a second worker host lowered throughput (x${ratio.median}). `;
  const where =
    busy >= 0.85
      ? `The machine's ${cores} cores were ${pct(busy)} busy: every "host" is a namespace on the same ${cores} cores, so the shared CPU is the limit here, not the worker count; `
      : `The machine's ${cores} cores were ${pct(busy)} busy, so something other than CPU (a lock, a round trip, a single-threaded process) limits it; `;
  const perK = Math.min(...rounds.map((r) => r.fleet_cpu_s_per_1000));
  const ceiling =
    perK > 0
      ? ` At ${perK} CPU s per 1000 messages, ${cores} dedicated cores would carry about ${num((cores * 1000) / perK)} msg/s.`
      : '';
  const shared =
    others >= 0.1
      ? ` Processes outside the fleet took up to ${pct(others)} of a core meanwhile: the figures are from a shared machine.`
      : '';
  return `${scaled.charAt(0).toUpperCase()}${scaled.slice(1)}${where}the biggest consumers with ${last.workers} workers: ${top} (100% = one core).${ceiling}${shared}`;
}

// ---- printing ----------------------------------------------------------------------------------

export function formatBench(r: BenchReport): string {
  const head = r.rounds.map(
    (x) =>
      `${x.workers} worker${x.workers > 1 ? 's' : ''}${x.schedulers > 1 ? `, ${x.schedulers} sched` : ''}`,
  );
  const rows: string[][] = [['', ...head]];
  const add = (what: string, f: (x: BenchRound) => string) => rows.push([what, ...r.rounds.map(f)]);
  add('messages/s, median of 1 s (10-90%)', (x) => num(x.msgs_per_s.median));
  add('messages/s overall (N / seconds)', (x) => num(x.msgs_per_s.overall));
  add('seconds (seeding -> Nth at provider)', (x) => x.seconds.toFixed(1));
  add('window measured (10% -> 90%)', (x) => `${x.window_s.toFixed(1)} s`);
  add('accepted by provider / not sent', (x) => `${num(x.accepted)} / ${x.not_sent}`);
  rows.push(['CPU over the window (100% = one core)', ...r.rounds.map(() => '')]);
  const groups = [...new Set(r.rounds.flatMap((x) => Object.keys(x.cpu)))].sort((g, h) => {
    const order = (s: string) =>
      s === OUTSIDE ? 3 : s === KERNEL ? 2 : s.startsWith('harness') ? 1 : 0;
    const peak = (s: string) => Math.max(...r.rounds.map((x) => x.cpu[s] ?? 0));
    return order(g) - order(h) || peak(h) - peak(g);
  });
  for (const g of groups) add(`  ${g}`, (x) => (x.cpu[g] === undefined ? '-' : pct(x.cpu[g])));
  add(`  machine busy (${r.cores} cores = ${r.cores * 100}%)`, (x) => pct(x.machine_busy_cores));
  add('fleet CPU s per 1000 messages (all hosts)', (x) => x.fleet_cpu_s_per_1000.toFixed(2));
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const lines = [
    `Steady across hosts: n = ${num(r.n)} per round, one data host, ${r.cores} cores shared by every host (namespaces)`,
    '',
    ...rows.map((row) =>
      row
        .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
        .join('  ')
        .trimEnd(),
    ),
    '',
  ];
  if (r.ratio)
    lines.push(
      `ratio two worker hosts / one: ${r.ratio.median.toFixed(2)} (median), ${r.ratio.overall.toFixed(2)} (overall)`,
    );
  lines.push(r.bottleneck, `data host: ${r.data}`);
  return lines.join('\n');
}

/** The --json line. */
export function benchSummary(r: BenchReport): Record<string, unknown> {
  return {
    n: r.n,
    cores: r.cores,
    rounds: r.rounds,
    ratio: r.ratio,
    bottleneck: r.bottleneck,
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const round2 = (x: number) => Math.round(x * 100) / 100;
const pct = (x: number | undefined) => (x === undefined ? '-' : `${Math.round(x * 100)}%`);
const num = (x: number) => Math.round(x).toLocaleString('en-US');
