// The fleet's network: one Linux network namespace per host (`steady-<run>-<host>`), each joined
// by a veth pair to a bridge in the root namespace (`sf<run>br`), with addresses in a private
// test range (10.213.<x>.0/24) that exist only on the bridge and inside the namespaces. The
// bridge holds .1: the harness itself (seeding, webhooks posted as Twilio, the tally) talks to the
// hosts from the root namespace, like an operator's machine on the same network.
//
// <run> is the harness's pid in base 36, so a later run can tell a crashed run's leftovers (its
// pid is gone) from a run still going, and remove only the former.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Host {
  name: string;
  ns: string;
  address: string;
  /** The root-namespace end of its veth pair: down is a cut cable. */
  veth: string;
  /** Runs a command on this host: `[...host.exec, 'redis-server', ...]`. */
  exec: string[];
}

const NS_PREFIX = 'steady-';
const LINK_PREFIX = 'sf';
const TMP_PREFIX = 'steady-fleet-';

/** Runs `ip ...` (or another command), throwing with its stderr when it fails. */
export function sh(command: string, args: string[], allowFail = false): string {
  const r = spawnSync(command, args, { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0 && !allowFail)
    throw new Error(`${command} ${args.join(' ')} failed: ${(r.stderr || String(r.error)).trim()}`);
  return r.stdout ?? '';
}

/** Why this machine cannot run the fleet, or null when it can. */
export function cannotRun(): string | null {
  if (process.platform !== 'linux') return 'the fleet harness needs Linux network namespaces';
  if (process.getuid?.() !== 0)
    return 'the fleet harness needs root (it creates network namespaces, veth pairs and a bridge): run it as root, e.g. `sudo npm run fleet`';
  const r = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  if (r.error || r.status !== 0)
    return `\`ip netns\` does not work here (${(r.stderr || String(r.error)).trim()}): install iproute2, and run where network namespaces are allowed`;
  const probe = `${NS_PREFIX}probe-${process.pid.toString(36)}`;
  const add = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  spawnSync('ip', ['netns', 'del', probe]);
  if (add.status !== 0)
    return `cannot create a network namespace (${add.stderr.trim()}): the fleet needs CAP_SYS_ADMIN and CAP_NET_ADMIN`;
  return null;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether the run named `run` is still going (its harness process lives). */
function runAlive(run: string): boolean {
  const pid = parseInt(run, 36);
  if (!Number.isFinite(pid) || pid === process.pid || !pidAlive(pid)) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('fleet');
  } catch {
    return false;
  }
}

function killNamespace(ns: string): void {
  for (const pid of sh('ip', ['netns', 'pids', ns], true).split(/\s+/).filter(Boolean)) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      /* gone already */
    }
  }
}

function deleteNamespace(ns: string): void {
  killNamespace(ns);
  // A namespace whose processes are still dying can refuse once: try again shortly.
  for (let i = 0; i < 20; i++) {
    if (spawnSync('ip', ['netns', 'del', ns]).status === 0) return;
    spawnSync('sleep', ['0.1']);
  }
}

/** Removes what crashed runs left: namespaces, links and temp folders of runs no longer alive. */
export function removeLeftovers(say: (line: string) => void = () => {}): void {
  const runOf = (name: string, re: RegExp) => re.exec(name)?.[1];
  for (const line of sh('ip', ['netns', 'list'], true).split('\n')) {
    const ns = line.split(' ')[0] ?? '';
    const run = runOf(ns, /^steady-([0-9a-z]+)-(?:data|web|work\d|sched\d)$/);
    if (!run || runAlive(run)) continue;
    say(`removing namespace ${ns} left by an earlier run`);
    deleteNamespace(ns);
  }
  for (const line of sh('ip', ['-o', 'link', 'show'], true).split('\n')) {
    const name = /^\d+:\s+([^:@\s]+)/.exec(line)?.[1] ?? '';
    // A veth goes with its namespace; a bridge of a crashed run stays (and, rarely, a veth).
    const run = runOf(name, /^sf([0-9a-z]+)(?:br|-(?:data|web|work\d|sched\d))$/);
    if (!run || runAlive(run)) continue;
    say(`removing link ${name} left by an earlier run`);
    sh('ip', ['link', 'del', name], true);
  }
  for (const entry of readdirSync(tmpdir())) {
    const run = runOf(entry, /^steady-fleet-([0-9a-z]+)$/);
    if (run && !runAlive(run)) rmSync(join(tmpdir(), entry), { recursive: true, force: true });
  }
}

/** A /24 in 10.213.0.0/16 that no route or address on this machine uses yet. */
function freeSubnet(): string {
  const used = sh('ip', ['-o', 'addr', 'show'], true) + sh('ip', ['route', 'show'], true);
  const start = (process.pid % 200) + 20;
  for (let i = 0; i < 250; i++) {
    const x = ((start + i) % 250) + 1;
    if (!used.includes(`10.213.${x}.`)) return `10.213.${x}`;
  }
  throw new Error('no free /24 in 10.213.0.0/16 for the fleet');
}

export class Network {
  readonly run = process.pid.toString(36);
  readonly subnet = freeSubnet();
  readonly bridge = `${LINK_PREFIX}${this.run}br`;
  /** The bridge's address: where the harness stands. */
  readonly gateway = `${this.subnet}.1`;
  readonly tmp = join(tmpdir(), `${TMP_PREFIX}${this.run}`);
  readonly hosts = new Map<string, Host>();
  private torn = false;
  private readonly dirs: string[] = [];

  /** Creates the bridge and one namespace per name, in that order of addresses (.2, .3, ...). */
  constructor(names: string[]) {
    try {
      sh('ip', ['link', 'add', this.bridge, 'type', 'bridge']);
      sh('ip', ['addr', 'add', `${this.gateway}/24`, 'dev', this.bridge]);
      sh('ip', ['link', 'set', this.bridge, 'up']);
      names.forEach((name, i) => this.addHost(name, `${this.subnet}.${i + 2}`));
    } catch (err) {
      this.teardown();
      throw err;
    }
  }

  private addHost(name: string, address: string): void {
    const ns = `${NS_PREFIX}${this.run}-${name}`;
    const veth = `${LINK_PREFIX}${this.run}-${name}`;
    if (veth.length > 15) throw new Error(`interface name ${veth} is too long (15 at most)`);
    const host: Host = { name, ns, address, veth, exec: ['ip', 'netns', 'exec', ns] };
    this.hosts.set(name, host);
    sh('ip', ['netns', 'add', ns]);
    sh('ip', ['link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    sh('ip', ['link', 'set', veth, 'master', this.bridge, 'up']);
    const inside = (...args: string[]) => sh('ip', ['netns', 'exec', ns, 'ip', ...args]);
    inside('link', 'set', 'lo', 'up');
    inside('addr', 'add', `${address}/24`, 'dev', 'eth0');
    inside('link', 'set', 'eth0', 'up');
  }

  host(name: string): Host {
    const h = this.hosts.get(name);
    if (!h) throw new Error(`no host ${name} in the fleet`);
    return h;
  }

  /** Cable out (`down`) or back in: packets are dropped silently, connections time out. */
  link(name: string, up: boolean): void {
    sh('ip', ['link', 'set', this.host(name).veth, up ? 'up' : 'down']);
  }

  /** `name` loses its route to `other` (a blackhole route on `name`), or gets it back; the
   * rest of the network still reaches both. */
  partition(name: string, other: string, on: boolean): void {
    const host = this.host(name);
    const address = this.host(other).address;
    const args = ['netns', 'exec', host.ns, 'ip', 'route', on ? 'add' : 'del'];
    sh('ip', [...args, 'blackhole', `${address}/32`]);
  }

  /** A folder made outside `tmp` (by a launcher) that goes with the network. */
  alsoRemove(dir: string): void {
    this.dirs.push(dir);
  }

  /** Kills every process on every host, then removes the namespaces, the bridge and the temp
   * folders. Synchronous, so a signal handler can call it; safe to call twice. */
  teardown(): void {
    if (this.torn) return;
    this.torn = true;
    for (const host of this.hosts.values()) killNamespace(host.ns);
    for (const host of this.hosts.values()) deleteNamespace(host.ns);
    for (const host of this.hosts.values()) sh('ip', ['link', 'del', host.veth], true);
    sh('ip', ['link', 'del', this.bridge], true);
    for (const dir of [this.tmp, ...this.dirs])
      if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
  }
}
