// The data host: PostgreSQL, Redis and the fake Twilio, on one namespace of the fleet. The rest
// of the harness sees it only through `DataHost`, so how Redis and PostgreSQL are laid out is
// decided here: by default PostgreSQL behind PgBouncer (transaction mode) and a Redis Cluster of
// 3 masters with a replica each; `plain` is one PostgreSQL and one redis-server (as the chaos run).
import { join } from 'node:path';
import { ensureDatabase, migrate } from '../../src/db/migrate.ts';
import { MIGRATIONS_DIR } from '../../src/paths.ts';
import { findPgBouncer, startPgBouncer } from '../../src/testing/pgbouncer.ts';
import { startRedis } from '../chaos/redis.ts';
import { startRedisCluster } from '../lib/redis-cluster.ts';
import type { Host } from './netns.ts';
import { startPostgres } from './postgres.ts';

export interface DataHost {
  /** What the fleet's roles use as DATABASE_URL. */
  databaseUrl: string;
  /** Straight to PostgreSQL (a session): migrations, and the harness's seed, probe and tally. */
  directDatabaseUrl: string;
  redisUrl: string;
  /** One line for the progress log. */
  describe: string;
  /** Kills one Redis master's process (SIGKILL); resolves once Redis serves again. Returns what
   * it did, for the progress log. */
  killRedisMaster(): Promise<string>;
  /** What each redis-server port is, for a report: e.g. {7000: 'master, queues', 7003: 'replica'}. */
  redisLabels?(): Promise<Record<number, string>>;
  stop(): Promise<void>;
}

export const DB_NAME = 'steady_fleet';

/** Plain layout: one PostgreSQL, one redis-server (killing "the master" loses every job, as in
 * the chaos run: the sweep rebuilds them from PostgreSQL). */
export async function startPlainDataHost(opts: {
  host: Host;
  dir: string;
  allow: string;
  logDir: string;
}): Promise<DataHost> {
  const pg = await startPostgres({
    host: opts.host,
    port: 5432,
    dir: join(opts.dir, 'postgres'),
    allow: opts.allow,
    logDir: opts.logDir,
  });
  try {
    const url = pg.url(DB_NAME);
    await ensureDatabase(url);
    await migrate(url, MIGRATIONS_DIR);
    const redis = await startRedis(6379, { host: opts.host.address, prefix: opts.host.exec });
    return {
      databaseUrl: url,
      directDatabaseUrl: url,
      redisUrl: redis.url,
      describe: `PostgreSQL ${opts.host.address}:5432, redis-server ${opts.host.address}:6379`,
      async killRedisMaster() {
        await redis.restart(500);
        return 'killed the redis-server (SIGKILL) and started it again empty';
      },
      redisLabels: async () => ({ 6379: 'single' }),
      async stop() {
        await redis.stop().catch(() => {});
        await pg.stop();
      },
    };
  } catch (err) {
    await pg.stop();
    throw err;
  }
}

/** PostgreSQL behind PgBouncer in transaction mode (the roles' DATABASE_URL; migrations and the
 * harness go straight to PostgreSQL), and a Redis Cluster of 3 masters with a replica each, whose
 * master holding the queues (hash tag `{<REDIS_PREFIX>}`) is the one killed. */
export async function startClusterDataHost(opts: {
  host: Host;
  dir: string;
  allow: string;
  logDir: string;
  redisPrefix: string;
  say: (line: string) => void;
  /** Told of folders the launchers make, so a Ctrl-C that skips `stop` removes them too. */
  made?: (dir: string) => void;
}): Promise<DataHost> {
  const { address } = opts.host;
  const stops: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch(() => {});
  };
  try {
    const pg = await startPostgres({
      host: opts.host,
      port: 5432,
      dir: join(opts.dir, 'postgres'),
      allow: opts.allow,
      logDir: opts.logDir,
    });
    stops.push(() => pg.stop());
    const direct = pg.url(DB_NAME);
    await ensureDatabase(direct);
    await migrate(direct, MIGRATIONS_DIR);
    const bouncer = await startPgBouncer({
      listenAddr: address,
      port: 6432,
      upstreamHost: address,
      upstreamPort: 5432,
      poolMode: 'transaction',
      defaultPoolSize: 30,
      commandPrefix: opts.host.exec,
      probe: true,
      logFile: join(opts.logDir, 'pgbouncer.log'),
    });
    opts.made?.(bouncer.dir);
    stops.push(() => bouncer.stop());
    const cluster = await startRedisCluster({
      masters: 3,
      replicasPerMaster: 1,
      bind: address,
      basePort: 7000,
      prefix: opts.host.exec,
      dir: join(opts.logDir, 'redis-cluster'),
      nodeTimeoutMs: 2000,
      log: opts.say,
    });
    stops.push(() => cluster.stop());
    return {
      databaseUrl: bouncer.url(DB_NAME),
      directDatabaseUrl: direct,
      redisUrl: cluster.url,
      describe: `PostgreSQL ${address}:5432 behind PgBouncer ${address}:6432 (transaction mode), Redis Cluster ${address}:${cluster.ports.join(',')} (3 masters, 3 replicas)`,
      async killRedisMaster() {
        const { killed, promoted } = await cluster.killMaster({ key: `{${opts.redisPrefix}}` });
        return `killed the Redis master :${killed} holding the queues (SIGKILL); its replica :${promoted} took over`;
      },
      async redisLabels() {
        const queues = await cluster.masterOf(`{${opts.redisPrefix}}`);
        return Object.fromEntries(
          (await cluster.nodes()).map((n) => [
            n.port,
            n.port === queues.port ? `${n.role}, queues` : n.role,
          ]),
        );
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

export async function startDataHost(opts: {
  host: Host;
  dir: string;
  allow: string;
  logDir: string;
  redisPrefix: string;
  plain?: boolean;
  say: (line: string) => void;
  made?: (dir: string) => void;
}): Promise<DataHost> {
  if (opts.plain) return startPlainDataHost(opts);
  if (!findPgBouncer())
    throw new Error(
      'PgBouncer is not installed (apt-get install -y pgbouncer); --plain runs without it and without a Redis Cluster',
    );
  return startClusterDataHost(opts);
}
