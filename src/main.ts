// Builds the dependencies from configuration and starts roles. The only place that constructs
// adapters (database, Redis, queues, channels); everything else receives them.
import { outboxEmail, outboxSms } from './channels/outbox.ts';
import type { EmailSender, SmsSender } from './channels/port.ts';
import { smtpEmail } from './channels/smtp.ts';
import { twilioSms } from './channels/twilio.ts';
import { scaledClock, systemClock, type Clock } from './clock.ts';
import type { Config } from './config.ts';
import { loadContent } from './content/load.ts';
import { selectPrograms } from './content/programs.ts';
import { loadScreener } from './safety/load.ts';
import { createDb, type Db } from './db/client.ts';
import type { Deps } from './deps.ts';
import { createLog, type Log } from './log.ts';
import { closeQueues, createQueues } from './queues.ts';
import { reportRedisErrors } from './redis-errors.ts';
import { createRedis, describeRedis, masters, queuePrefix, type RedisClient } from './redis.ts';
import { MESSAGES_DIR } from './paths.ts';

export { MESSAGES_DIR, MIGRATIONS_DIR } from './paths.ts';

export { StartupError } from './startup-error.ts';
import { StartupError } from './startup-error.ts';

export function buildSms(config: Config, db: Db, log: Log): SmsSender {
  if (config.sms.transport === 'twilio')
    return twilioSms({
      accountSid: config.sms.accountSid!,
      authToken: config.sms.authToken,
      from: config.sms.from,
      messagingServiceSid: config.sms.messagingServiceSid,
      apiBase: config.sms.apiBase,
    });
  return outboxSms(db, { from: config.sms.from ?? '+12025550100', log: (line) => log.info(line) });
}

export function buildEmail(config: Config, db: Db, log: Log): EmailSender {
  if (config.email.transport === 'smtp')
    return smtpEmail({
      url: config.email.smtpUrl!,
      pool: true,
      bounceAddress: config.email.bounceAddress,
    });
  return outboxEmail(db, { log: (line) => log.info(line) });
}

/** Checks that PostgreSQL and Redis answer and that Redis will not evict queued jobs. */
export async function checkServices(config: Config, db: Db, redis: RedisClient): Promise<void> {
  const pg = new URL(config.databaseUrl);
  const rd = describeRedis(config.redisUrl);
  const problems: string[] = [];
  try {
    await db.$queryRaw`SELECT 1`;
  } catch (err) {
    problems.push(
      `PostgreSQL is not reachable at ${pg.hostname}:${pg.port || 5432} (${firstLine(err)}).\n` +
        `    Start it: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start   (or docker compose up -d postgres)`,
    );
  }
  try {
    // Every master of a cluster: each holds some of the keys.
    for (const node of await masters(redis)) {
      const [, policy] = (await node.config('GET', 'maxmemory-policy')) as [string, string];
      const at = redis === node ? rd : `${node.options.host}:${node.options.port}`;
      if (policy !== 'noeviction')
        problems.push(
          `Redis at ${at} has maxmemory-policy "${policy}": it could evict queued jobs.\n` +
            `    Set it: redis-cli config set maxmemory-policy noeviction   (and in redis.conf)`,
        );
    }
  } catch (err) {
    problems.push(
      `Redis is not reachable at ${rd} (${firstLine(err)}).\n` +
        `    Start it: redis-server --daemonize yes --bind 127.0.0.1 --port 6379   (or docker compose up -d redis)`,
    );
  }
  if (problems.length)
    throw new StartupError('Steady cannot start:\n  - ' + problems.join('\n  - '));
}

function firstLine(err: unknown): string {
  return (
    (err instanceof Error ? err.message : String(err)).split('\n').filter(Boolean).pop()?.trim() ??
    'no answer'
  );
}

export interface BuildOptions {
  clock?: Clock;
  sms?: SmsSender;
  email?: EmailSender;
  log?: Log;
  /** Skip the service checks (tests that build deps for a database they just made). */
  skipChecks?: boolean;
  dbPoolSize?: number;
}

export async function buildDeps(config: Config, opts: BuildOptions = {}): Promise<Deps> {
  const log = opts.log ?? createLog(config.logLevel);
  const content = await loadContent(MESSAGES_DIR);
  let programs;
  try {
    programs = selectPrograms(content, config);
  } catch (err) {
    throw new StartupError(err instanceof Error ? err.message : String(err));
  }
  const safety = await loadScreener(content.safety, MESSAGES_DIR);
  const db = createDb(config.databaseUrl, {
    max: opts.dbPoolSize ?? 10,
    strictTransactions: config.env === 'test',
  });
  const redis = createRedis(config.redisUrl, {
    maxRetriesPerRequest: 2,
    lazyConnect: true,
    enableOfflineQueue: true,
  });
  // Counted, and logged once a minute per kind: not once per reconnect attempt, and never hidden.
  reportRedisErrors(redis, log, 'main');
  try {
    await redis.connect();
  } catch {
    /* reported by checkServices */
  }
  if (!opts.skipChecks) {
    try {
      await checkServices(config, db, redis);
    } catch (err) {
      redis.disconnect();
      await db.$disconnect();
      throw err;
    }
  }
  const queueConnection = createRedis(config.redisUrl, {
    maxRetriesPerRequest: null,
    lazyConnect: true,
    enableOfflineQueue: true,
  });
  reportRedisErrors(queueConnection, log, 'queues');
  const queues = createQueues(queueConnection, queuePrefix(config));
  return {
    config,
    db,
    redis,
    queues,
    sms: opts.sms ?? buildSms(config, db, log),
    email: opts.email ?? buildEmail(config, db, log),
    clock: opts.clock ?? scaledClock(config.programSpeed, systemClock),
    log,
    content,
    programs,
    safety,
  };
}

/**
 * Closes a Redis connection. A single server's is dropped at once (shutdown must not wait on
 * anything after the grace time). A cluster client is asked to QUIT first, 2 s at most: dropped
 * while its nodes were still connecting, it left commands to reject with nobody listening.
 */
async function closeRedis(client: RedisClient | null) {
  if (!client) return;
  if (client.isCluster) {
    const deadline = Date.now() + 2000;
    // Connecting still: let the nodes come up (and what is queued on them be answered) first.
    while (client.status !== 'ready' && client.status !== 'end' && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 20));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      client.quit().catch(() => {}),
      new Promise((resolve) => (timer = setTimeout(resolve, Math.max(0, deadline - Date.now())))),
    ]);
    clearTimeout(timer);
  }
  client.disconnect();
}

/**
 * BullMQ writes each queue's meta key (and asks INFO) once its connection is up, and nobody
 * listens to those writes: closed before they are answered, they reject unhandled (seen on a
 * cluster, where a command that never ran took a one-shot command down). A read of the same key
 * on the same connection is answered after them. 2 s at most.
 */
async function queuesSettled(deps: Deps, connection: RedisClient): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.all(
      Object.values(deps.queues).map(async (q) => {
        await q.waitUntilReady(); // its INFO is answered
        await connection.exists(q.keys.meta!); // and its meta write
      }),
    ).catch(() => {}),
    new Promise((resolve) => (timer = setTimeout(resolve, 2000))),
  ]);
  clearTimeout(timer);
}

export async function closeDeps(deps: Deps): Promise<void> {
  // The queues share one connection that BullMQ does not close (it was passed in), and an open
  // socket keeps a one-shot command such as `erase` from ever exiting.
  const queueConnection = (await deps.queues.sms.client.catch(() => null)) as RedisClient | null;
  if (queueConnection?.isCluster) await queuesSettled(deps, queueConnection);
  await closeQueues(deps.queues).catch(() => {});
  await closeRedis(queueConnection);
  await deps.sms.close?.().catch(() => {});
  await deps.email.close?.().catch(() => {});
  await closeRedis(deps.redis);
  await deps.db.$disconnect();
}
