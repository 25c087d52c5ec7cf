// One chaos run: a real fleet (3 workers, 2 schedulers, 1 web process) on its own PostgreSQL
// database and its own Redis, sending through a fake Twilio that fails 10% of requests, while
// the harness kills a worker every 2 s, restarts Redis once (losing every job), cuts every
// database connection twice, and posts disclosure replies through the signed webhook.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.ts';
import { prng } from '../../src/core/random.ts';
import { createLog } from '../../src/log.ts';
import { buildDeps, closeDeps } from '../../src/main.ts';
import { ROOT } from '../../src/paths.ts';
import type { FakeTwilioMessage } from '../../tests/support/fake-twilio.ts';
import { postStatusCallbacks } from './callbacks.ts';
import { cliStarted, Fleet, openLog, spawnChild } from './children.ts';
import { cutConnections, harnessUrl, resetDatabase } from './database.ts';
import {
  DISCLOSURE_TEXTS,
  injectDisclosures,
  type InjectResult,
  type InjectTarget,
} from './inject.ts';
import { freePort, sleep } from './ports.ts';
import { ProgressProbe, type Progress } from './progress.ts';
import { startRedis } from './redis.ts';
import { seed } from './seed.ts';
import { startSweeper } from './sweeper.ts';
import { passed, tally, type Tally } from './tally.ts';

export interface ChaosOptions {
  n: number;
  disclosures: number;
  databaseUrl: string;
  timeoutSec: number;
  seed: number;
  /** Worker kill interval (2000); 0 turns kills off, as do `redisRestart: false` and `pgCuts: 0`
   * for the other faults (to see a baseline, or one fault at a time). */
  killEveryMs?: number;
  redisRestart?: boolean;
  pgCuts?: number;
  logDir?: string;
  say?: (line: string) => void;
}

export interface ChaosReport extends Tally {
  pass: boolean;
  events: {
    kills: number;
    restarts: number;
    redisRestarts: number;
    pgCuts: number;
    connectionsCut: number;
  };
  inject: InjectResult;
  sweeper: Record<string, number>;
  callbacks: { posted: number; failed: number };
  logDir: string;
}

// A run's choice of victims can be replayed from its seed.
export { prng };

const FROM = '+12025550100';

export async function runChaos(opts: ChaosOptions): Promise<ChaosReport> {
  const say = opts.say ?? (() => {});
  const random = prng(opts.seed);
  const logDir =
    opts.logDir ??
    join(ROOT, 'test-output', 'chaos', new Date().toISOString().replace(/[:.]/g, '-'));
  mkdirSync(logDir, { recursive: true });
  const log = openLog(logDir, 'fleet.log');
  say(`logs: ${logDir}`);

  await resetDatabase(opts.databaseUrl);
  const [redisPort, webPort, fakePort, smtpPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const redis = await startRedis(redisPort);
  // Stopped in this order: the harness's own parts, then every process at once, then Redis.
  const harnessStops: (() => Promise<unknown>)[] = [];
  const processStops: (() => Promise<unknown>)[] = [];
  try {
    const fake = spawnChild(
      'fake',
      'tests/support/fake-twilio.ts',
      ['--port', String(fakePort), '--fail-rate', '0.05', '--throttle-rate', '0.05'],
      baseEnv(),
      log,
      (l) => l.startsWith('{"url"'),
    );
    processStops.push(async () => (fake.kill('SIGTERM'), await fake.exited));
    const {
      url: fakeUrl,
      accountSid,
      authToken,
    } = JSON.parse(await fake.ready) as { url: string; accountSid: string; authToken: string };

    const publicUrl = `http://127.0.0.1:${webPort}`;
    const env: Record<string, string> = {
      ...baseEnv(),
      DATABASE_URL: opts.databaseUrl,
      REDIS_URL: redis.url,
      REDIS_PREFIX: 'chaos',
      SMS_TRANSPORT: 'twilio',
      TWILIO_ACCOUNT_SID: accountSid,
      TWILIO_AUTH_TOKEN: authToken,
      TWILIO_FROM: FROM,
      TWILIO_API_BASE: fakeUrl,
      EMAIL_TRANSPORT: 'outbox',
      PUBLIC_URL: publicUrl,
      PORT: String(webPort),
      HOST: '127.0.0.1',
      INBOUND_SMTP_PORT: String(smtpPort),
      DEV_ROUTES: 'false',
      LOG_LEVEL: 'info',
      SHUTDOWN_GRACE_MS: '5000',
      SEND_CONCURRENCY: process.env.CHAOS_CONCURRENCY ?? '50',
    };
    const role = (name: string, command: string) =>
      spawnChild(name, 'src/cli.ts', [command], env, log, cliStarted);
    const web = role('web', 'serve');
    processStops.push(async () => (web.kill('SIGTERM'), await web.exited));
    const schedulers = new Fleet((i) => role(`scheduler-${i + 1}`, 'schedule'), 2);
    processStops.push(() => schedulers.stop(8000));
    const workers = new Fleet((i) => role(`worker-${i + 1}`, 'work'), 3);
    processStops.push(() => workers.stop(8000));
    await withTimeout(
      Promise.all([web.ready, schedulers.ready(), workers.ready()]),
      90_000,
      'the fleet did not start within 90 s (see fleet.log)',
    );
    say(
      `fleet up: fake Twilio ${fakeUrl}, Redis :${redisPort}, web ${publicUrl}, 3 workers, 2 schedulers`,
    );

    // The harness's own view of the system: the sweep (in chaos time) and the progress probe.
    const config = loadConfig({
      ...env,
      DATABASE_URL: harnessUrl(opts.databaseUrl),
      LOG_LEVEL: 'warn',
    });
    const deps = await buildDeps(config, {
      log: createLog('warn', openLog(logDir, 'harness.log')),
      dbPoolSize: 3,
    });
    harnessStops.unshift(() => closeDeps(deps));
    const probe = new ProgressProbe(opts.databaseUrl);
    harnessStops.unshift(() => probe.close());

    const seeded = await seed(opts.databaseUrl, deps.programs.default, opts.n, opts.disclosures);
    const t0 = Date.now();
    say(
      `seeded ${opts.n} due subscribers (step ${seeded.step}, ${seeded.timezone}) and ${opts.disclosures} who will write in`,
    );
    const sweeper = startSweeper(deps);
    harnessStops.unshift(() => sweeper.stop());

    const events = { kills: 0, restarts: 0, redisRestarts: 0, pgCuts: 0, connectionsCut: 0 };
    let progress: Progress = await probe.read();
    let workDone = false;

    // Worker kills: every 2 s until nothing is left to send.
    const killEveryMs = opts.killEveryMs ?? 2000;
    const cuts = opts.pgCuts ?? 2;
    const killer = (async () => {
      while (!workDone && killEveryMs > 0) {
        await sleep(killEveryMs);
        if (workDone) break;
        const victim = workers.killRandom(random, 1);
        if (victim) events.kills++;
      }
    })();

    // One Redis restart and two connection cuts, each when the run has got so far (or by a time).
    const at = async (fraction: number, latestMs: number) => {
      while (!workDone && progress.settled < opts.n * fraction && Date.now() - t0 < latestMs)
        await sleep(50);
    };
    const cut = async () => {
      events.connectionsCut += await cutConnections(opts.databaseUrl);
      events.pgCuts++;
      say(`t+${secs(t0)}s cut every PostgreSQL connection of the fleet (${events.pgCuts}/${cuts})`);
    };
    const chaos = (async () => {
      await at(0.15, 2000);
      if (cuts >= 1) await cut();
      await at(0.35, 4000);
      if (opts.redisRestart !== false) {
        await redis.restart(500);
        events.redisRestarts++;
        say(`t+${secs(t0)}s Redis killed and restarted empty`);
      }
      await at(0.6, 7000);
      while (events.pgCuts < cuts) await cut();
    })();

    // Disclosures, spread over the first seconds (across the cuts and the Redis restart).
    const target: InjectTarget = { webUrl: publicUrl, publicUrl, authToken, accountSid, to: FROM };
    const inject: InjectResult = { posted: 0, attempts: 0, failures: 0 };
    const deadline = t0 + opts.timeoutSec * 1000;
    const injections = injectDisclosures(
      target,
      seeded.disclosers.map((d) => d.phone),
      DISCLOSURE_TEXTS,
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
      if (quiet && progress.sending === 0 && events.pgCuts === cuts) break;
      if (Date.now() > deadline) {
        say(`timed out after ${opts.timeoutSec}s`);
        break;
      }
      if (Date.now() - lastSay > 5000) {
        lastSay = Date.now();
        say(
          `t+${secs(t0)}s created ${progress.created}/${opts.n}, waiting ${progress.waiting}, sending ${progress.sending}, settled ${progress.settled}; replies read ${progress.inboundRead}/${opts.disclosures}, safety sent ${progress.safetySent}; kills ${events.kills}`,
        );
      }
      await sleep(250);
    }
    const seconds = Math.round((Date.now() - t0) / 100) / 10;
    workDone = true;
    await Promise.all([killer, chaos, injections]);
    await sweeper.stop();
    events.restarts = workers.restarts;

    const messages = (await (
      await fetch(`${fakeUrl}/_fake/messages`)
    ).json()) as FakeTwilioMessage[];
    const callbacks = await postStatusCallbacks(target, messages);
    const result = await tally(opts.databaseUrl, messages, seeded, seconds);
    return {
      ...result,
      pass: passed(result),
      events,
      inject,
      sweeper: sweeper.totals,
      callbacks,
      logDir,
    };
  } finally {
    for (const stop of harnessStops) await stop().catch(() => {});
    // SIGTERM to all at once: a graceful shutdown under load is part of the run.
    await Promise.all(processStops.map((stop) => stop().catch(() => {})));
    await redis.stop().catch(() => {});
    log.end();
  }
}

function baseEnv(): Record<string, string> {
  const keep = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ'];
  return Object.fromEntries(keep.flatMap((k) => (process.env[k] ? [[k, process.env[k]!]] : [])));
}

const secs = (t0: number) => ((Date.now() - t0) / 1000).toFixed(1);

async function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
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
