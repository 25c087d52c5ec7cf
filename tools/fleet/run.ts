// One fleet run: Steady on six hosts joined by a real (virtual) network. The data host runs
// PostgreSQL, Redis and a fake Twilio that fails 10% of requests; one host runs `serve`, two run
// `work` and two run `schedule`, each the real CLI inside its own network namespace. The harness
// seeds N due subscribers, posts disclosures through the signed webhook to the web host, and
// meanwhile cuts one worker host's cable for 10 s, partitions one scheduler host from the data
// host for a few seconds and kills a Redis master. The verdict comes from the chaos tally: the
// fake provider's log against the database.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.ts';
import { createLog } from '../../src/log.ts';
import { buildDeps, closeDeps } from '../../src/main.ts';
import { ROOT } from '../../src/paths.ts';
import type { FakeTwilioMessage } from '../../tests/support/fake-twilio.ts';
import { postStatusCallbacks } from '../chaos/callbacks.ts';
import { cliStarted, Fleet, openLog, spawnChild } from '../chaos/children.ts';
import { harnessUrl } from '../chaos/database.ts';
import { injectDisclosures, type InjectResult, type InjectTarget } from '../chaos/inject.ts';
import { sleep } from '../chaos/ports.ts';
import { ProgressProbe, type Progress } from '../chaos/progress.ts';
import { seed } from '../chaos/seed.ts';
import { CHAOS_SWEEP, startSweeper } from '../chaos/sweeper.ts';
import { passed, tally, type Tally } from '../chaos/tally.ts';
import { startDataHost, type DataHost } from './data-host.ts';
import { Network, type Host } from './netns.ts';

export const HOSTS = ['data', 'web', 'work1', 'work2', 'sched1', 'sched2'] as const;

// Said by a person in danger in words the screen must catch (the first is the issue's own).
export const FLEET_DISCLOSURES = [
  'he choked me last night and i am scared to go home',
  'he hit me again last night and I am scared to go home',
  'my boyfriend hit me and took my phone',
];

export interface FleetOptions {
  n: number;
  disclosures: number;
  timeoutSec: number;
  /** How long the worker host's cable stays out (10 s) and the scheduler's partition (4 s). */
  cutMs?: number;
  partitionMs?: number;
  /** One PostgreSQL and one redis-server instead of PgBouncer and a Redis Cluster. */
  plain?: boolean;
  logDir?: string;
  say?: (line: string) => void;
  /** Called with the network once it exists, so a signal handler can tear it down. */
  onNetwork?: (network: Network) => void;
}

export interface FleetReport extends Tally {
  hosts: Record<string, string>;
  pass: boolean;
  events: {
    linkCut: string;
    partition: string;
    redisKill: string;
    restarts: number;
  };
  inject: InjectResult;
  sweeper: Record<string, number>;
  callbacks: { posted: number; failed: number };
  data: string;
  logDir: string;
}

export const FROM = '+12025550100';
export const REDIS_PREFIX = 'fleet';
export const WEB_PORT = 3000;
export const FAKE_PORT = 8080;

// The sweep in test time, as in the chaos run, but a `sending` row waits 20 s (not 12) before the
// provider is asked about it: the window must outlast the cable cut plus the Twilio client's 10 s
// timeout, since a request written just before the cut can still reach the provider once the
// cable is back (TCP retransmits it, 12.6 s after the first try with Linux's backoff). Asking
// before then could miss it and send again: a duplicate made by the harness's compressed time,
// not by Steady (production waits a minute).
export const FLEET_SWEEP = { ...CHAOS_SWEEP, sendingStaleMs: 20_000, retryStaleMs: 20_000 };

export async function runFleet(opts: FleetOptions): Promise<FleetReport> {
  const say = opts.say ?? (() => {});
  const { network, logDir, logFor, logs } = openFleet('fleet', [...HOSTS], opts, say);
  const hosts = Object.fromEntries([...network.hosts.values()].map((h) => [h.name, h.address]));
  const harnessStops: (() => Promise<unknown>)[] = [];
  const processStops: (() => Promise<unknown>)[] = [];
  let data: DataHost | undefined;
  try {
    const dataHost = network.host('data');
    data = await startFleetData(network, logDir, opts.plain, say);

    const fake = await startFakeOn(dataHost, logFor('fake-twilio'), {
      failRate: 0.05,
      throttleRate: 0.05,
    });
    processStops.push(fake.stop);
    const { url: fakeUrl, accountSid, authToken } = fake;

    const web = network.host('web');
    const publicUrl = `http://${web.address}:${WEB_PORT}`;
    const env = roleEnv(data, { url: fakeUrl, accountSid, authToken }, publicUrl);
    // Each role on its own host, listening (where it listens) on that host's address.
    const role = (hostName: string, command: string) => {
      const host = network.host(hostName);
      return spawnChild(
        hostName,
        'src/cli.ts',
        [command],
        { ...env, HOST: host.address },
        logFor(hostName),
        cliStarted,
        host.exec,
      );
    };
    const webRole = new Fleet(() => role('web', 'serve'), 1);
    processStops.push(() => webRole.stop(8000));
    const schedulers = new Fleet((i) => role(`sched${i + 1}`, 'schedule'), 2);
    processStops.push(() => schedulers.stop(8000));
    const workers = new Fleet((i) => role(`work${i + 1}`, 'work'), 2);
    processStops.push(() => workers.stop(8000));
    await withTimeout(
      Promise.all([webRole.ready(), schedulers.ready(), workers.ready()]),
      90_000,
      `the fleet did not start within 90 s (see the logs in ${logDir})`,
    );
    say(`fleet up: web ${publicUrl}, 2 workers, 2 schedulers, fake Twilio ${fakeUrl}`);

    // The harness's own view: the sweep (in test time) and the progress probe, straight to
    // PostgreSQL from the bridge.
    const config = loadConfig({
      ...env,
      DATABASE_URL: harnessUrl(data.directDatabaseUrl),
      DIRECT_DATABASE_URL: harnessUrl(data.directDatabaseUrl),
      LOG_LEVEL: 'warn',
    });
    const deps = await buildDeps(config, {
      log: createLog('warn', logFor('harness')),
      dbPoolSize: 3,
    });
    harnessStops.unshift(() => closeDeps(deps));
    const probe = new ProgressProbe(data.directDatabaseUrl);
    harnessStops.unshift(() => probe.close());

    const seeded = await seed(
      data.directDatabaseUrl,
      deps.programs.default,
      opts.n,
      opts.disclosures,
    );
    const t0 = Date.now();
    say(`seeded ${opts.n} due subscribers and ${opts.disclosures} who will write in`);
    const sweeper = startSweeper(deps, 1000, FLEET_SWEEP);
    harnessStops.unshift(() => sweeper.stop());

    let progress: Progress = await probe.read();
    let workDone = false;
    const events = { linkCut: '', partition: '', redisKill: '', restarts: 0 };
    const at = async (fraction: number, latestMs: number) => {
      while (!workDone && progress.settled < opts.n * fraction && Date.now() - t0 < latestMs)
        await sleep(50);
    };
    const cutMs = opts.cutMs ?? 10_000;
    const partitionMs = opts.partitionMs ?? 4_000;
    // The three faults run whatever the progress: each waits for its moment (a share of the work
    // settled, or a time), and the run does not end before each is over.
    const linkCut = (async () => {
      await at(0.1, 30_000);
      network.link('work1', false);
      say(`t+${secs(t0)}s work1's cable out (${network.host('work1').veth} down)`);
      await sleep(cutMs);
      network.link('work1', true);
      events.linkCut = `work1 cut for ${cutMs / 1000} s at t+${((Date.now() - t0 - cutMs) / 1000).toFixed(1)}s`;
      say(`t+${secs(t0)}s work1's cable back`);
    })();
    const partition = (async () => {
      await at(0.25, 30_000);
      network.partition('sched1', 'data', true);
      say(`t+${secs(t0)}s sched1 partitioned from the data host`);
      await sleep(partitionMs);
      network.partition('sched1', 'data', false);
      events.partition = `sched1 cut off from data for ${partitionMs / 1000} s`;
      say(`t+${secs(t0)}s sched1 partition healed`);
    })();
    const redisKill = (async () => {
      await at(0.4, 30_000);
      events.redisKill = await data.killRedisMaster();
      say(`t+${secs(t0)}s ${events.redisKill}`);
    })();
    const faults = Promise.all([linkCut, partition, redisKill]);
    let faultsOver = false;
    void faults.finally(() => (faultsOver = true));

    // Disclosures, spread over the first seconds (across the faults), posted as Twilio would.
    const target: InjectTarget = { webUrl: publicUrl, publicUrl, authToken, accountSid, to: FROM };
    const inject: InjectResult = { posted: 0, attempts: 0, failures: 0 };
    const deadline = t0 + opts.timeoutSec * 1000;
    const injections = injectDisclosures(
      target,
      seeded.disclosers.map((d) => d.phone),
      FLEET_DISCLOSURES,
      t0,
      deadline,
      inject,
    );

    let lastSay = 0;
    for (;;) {
      progress = await probe.read().catch(() => progress);
      const quiet =
        progress.created >= opts.n &&
        progress.waiting === 0 &&
        progress.safetySent >= opts.disclosures &&
        progress.inboundRead >= opts.disclosures;
      if (quiet) workDone = true;
      if (quiet && progress.sending === 0 && faultsOver) break;
      if (Date.now() > deadline) {
        say(`timed out after ${opts.timeoutSec}s`);
        break;
      }
      if (Date.now() - lastSay > 5000) {
        lastSay = Date.now();
        say(
          `t+${secs(t0)}s created ${progress.created}/${opts.n}, waiting ${progress.waiting}, sending ${progress.sending}, settled ${progress.settled}; replies read ${progress.inboundRead}/${opts.disclosures}, safety sent ${progress.safetySent}`,
        );
      }
      await sleep(250);
    }
    const seconds = Math.round((Date.now() - t0) / 100) / 10;
    workDone = true;
    await Promise.all([faults, injections]);
    await sweeper.stop();
    events.restarts = webRole.restarts + schedulers.restarts + workers.restarts;

    const messages = (await (
      await fetch(`${fakeUrl}/_fake/messages`)
    ).json()) as FakeTwilioMessage[];
    say(`done in ${seconds}s: posting ${messages.length} delivery callbacks, then the tally`);
    const callbacks = await postStatusCallbacks(target, messages);
    const result = await tally(data.directDatabaseUrl, messages, seeded, seconds);
    return {
      ...result,
      hosts,
      pass: passed(result),
      events,
      inject,
      sweeper: sweeper.totals,
      callbacks,
      data: data.describe,
      logDir,
    };
  } finally {
    say('stopping the fleet (SIGTERM), then the data host');
    for (const stop of harnessStops) await stop().catch(() => {});
    await Promise.all(processStops.map((stop) => stop().catch(() => {})));
    await data?.stop().catch(() => {});
    network.teardown();
    for (const l of logs) l.end();
    say('network removed');
  }
}

/** The network of a run (torn down by the caller), its log folder and one log file per process. */
export function openFleet(
  kind: string,
  hostNames: string[],
  opts: { logDir?: string; onNetwork?: (network: Network) => void },
  say: (line: string) => void,
) {
  const logDir =
    opts.logDir ?? join(ROOT, 'test-output', kind, new Date().toISOString().replace(/[:.]/g, '-'));
  mkdirSync(logDir, { recursive: true });
  say(`logs: ${logDir}`);
  const network = new Network(hostNames);
  opts.onNetwork?.(network);
  say(
    `network ${network.subnet}.0/24 on bridge ${network.bridge} (harness ${network.gateway}): ${[
      ...network.hosts.values(),
    ]
      .map((h) => `${h.name} ${h.address}`)
      .join(', ')}`,
  );
  const logs: ReturnType<typeof openLog>[] = [];
  const logFor = (name: string) => {
    const l = openLog(logDir, `${name}.log`);
    logs.push(l);
    return l;
  };
  return { network, logDir, logFor, logs };
}

/** The data host of a run: PostgreSQL and Redis (PgBouncer and a cluster unless `plain`). */
export async function startFleetData(
  network: Network,
  logDir: string,
  plain: boolean | undefined,
  say: (line: string) => void,
): Promise<DataHost> {
  const data = await startDataHost({
    host: network.host('data'),
    dir: join(network.tmp, 'data'),
    allow: `${network.subnet}.0/24`,
    logDir,
    redisPrefix: REDIS_PREFIX,
    plain,
    say,
    made: (dir) => network.alsoRemove(dir),
  });
  say(`data host up: ${data.describe}`);
  return data;
}

export interface FakeOnHost {
  url: string;
  accountSid: string;
  authToken: string;
  stop(): Promise<unknown>;
}

/** The fake Twilio on a host of the fleet (the data host), listening on its address. */
export async function startFakeOn(
  host: Host,
  log: ReturnType<typeof openLog>,
  o: { failRate: number; throttleRate: number; keep?: boolean },
): Promise<FakeOnHost> {
  const fake = spawnChild(
    'fake',
    'tests/support/fake-twilio.ts',
    [
      '--host',
      host.address,
      '--port',
      String(FAKE_PORT),
      '--fail-rate',
      String(o.failRate),
      '--throttle-rate',
      String(o.throttleRate),
      ...(o.keep === false ? ['--no-keep'] : []),
    ],
    baseEnv(),
    log,
    (l) => l.startsWith('{"url"'),
    host.exec,
  );
  const info = JSON.parse(await fake.ready) as {
    url: string;
    accountSid: string;
    authToken: string;
  };
  return { ...info, stop: async () => (fake.kill('SIGTERM'), await fake.exited) };
}

/** The environment every role gets: the data host's PostgreSQL and Redis, the fake Twilio. */
export function roleEnv(
  data: DataHost,
  fake: { url: string; accountSid: string; authToken: string },
  publicUrl: string,
): Record<string, string> {
  return {
    ...baseEnv(),
    DATABASE_URL: data.databaseUrl,
    ...(data.directDatabaseUrl !== data.databaseUrl
      ? { DIRECT_DATABASE_URL: data.directDatabaseUrl }
      : {}),
    REDIS_URL: data.redisUrl,
    REDIS_PREFIX,
    SMS_TRANSPORT: 'twilio',
    TWILIO_ACCOUNT_SID: fake.accountSid,
    TWILIO_AUTH_TOKEN: fake.authToken,
    TWILIO_FROM: FROM,
    TWILIO_API_BASE: fake.url,
    EMAIL_TRANSPORT: 'outbox',
    PUBLIC_URL: publicUrl,
    PORT: String(WEB_PORT),
    INBOUND_SMTP_PORT: '2525',
    DEV_ROUTES: 'false',
    LOG_LEVEL: 'info',
    SHUTDOWN_GRACE_MS: '5000',
    SEND_CONCURRENCY: process.env.FLEET_CONCURRENCY ?? '50',
  };
}

export function baseEnv(): Record<string, string> {
  const keep = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ'];
  return Object.fromEntries(keep.flatMap((k) => (process.env[k] ? [[k, process.env[k]!]] : [])));
}

export const secs = (t0: number) => ((Date.now() - t0) / 1000).toFixed(1);

export async function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
