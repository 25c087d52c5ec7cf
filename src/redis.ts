// The one place that makes Redis clients for the service: a single server (ioredis `Redis`) or a
// Redis Cluster (ioredis `Cluster`), as REDIS_URL says (src/redis-url.ts). Both have the same
// commands; what differs on a cluster is handled here:
//  - options: BullMQ's maxRetriesPerRequest (null for blocking workers) and the like go to each
//    node (`redisOptions`); reads and writes go to masters only (`scaleReads: 'master'`: a job
//    read from a replica could be stale); the nodes are reached at the addresses the cluster
//    announces (no natMap), and TLS node names are kept as given (`dnsLookup` passes them through).
//  - keys: BullMQ's multi-key scripts need one hash slot, so the queue prefix is a hash tag on a
//    cluster (queuePrefix). Everything else Steady keeps in Redis (rate limits, sign-in counts,
//    console sessions, cron slots) is one key per command or per MULTI/script, which a cluster runs
//    wherever the key lives.
//  - SCAN, KEYS, CONFIG and INFO answer for one node only: `masters` and `scanKeys` run them on
//    every master.
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { parseRedisUrl } from './redis-url.ts';

export { describeRedis, isClusterUrl, parseRedisUrl, queuePrefix } from './redis-url.ts';

export type RedisClient = Redis | Cluster;

/** Options that belong to the cluster client itself rather than to each node's connection. */
const CLUSTER_LEVEL = ['lazyConnect', 'enableOfflineQueue', 'enableReadyCheck'] as const;

export function createRedis(url: string, options: RedisOptions = {}): RedisClient {
  const target = parseRedisUrl(url);
  if (!target.cluster) return new Redis(url, options);
  const nodeOptions: Record<string, unknown> = { ...options };
  const clusterOptions: ClusterOptions = {
    scaleReads: 'master',
    enableReadyCheck: true,
    // A failover takes the cluster's node timeout (seconds): keep retrying meanwhile. Commands of a
    // connection with maxRetriesPerRequest null wait for it; others fail after their retries.
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 300,
    retryDelayOnTryAgain: 200,
    slotsRefreshTimeout: 2000,
    clusterRetryStrategy: (times) => Math.min(100 * times, 2000),
    dnsLookup: (address, callback) => callback(null, address),
  };
  for (const key of CLUSTER_LEVEL) {
    if (key in nodeOptions) {
      (clusterOptions as Record<string, unknown>)[key] = nodeOptions[key];
      delete nodeOptions[key];
    }
  }
  delete nodeOptions.retryStrategy;
  delete nodeOptions.readOnly;
  clusterOptions.redisOptions = {
    ...nodeOptions,
    ...(target.username ? { username: target.username } : {}),
    ...(target.password ? { password: target.password } : {}),
    ...(target.tls ? { tls: {} } : {}),
  } as ClusterOptions['redisOptions'];
  const cluster = new Cluster(target.nodes, clusterOptions);
  // A cluster client queues commands while it has no connection, with no limit in time or
  // retries: a command to a cluster that went away would wait forever. A client with a finite
  // maxRetriesPerRequest fails fast instead once it has been ready (as a single server's does after
  // its retries: a rate limit lets the request through, erase names the jobs it could not reach);
  // BullMQ's connections (null) keep waiting through a failover.
  if (options.maxRetriesPerRequest !== null)
    cluster.once('ready', () => {
      cluster.options.enableOfflineQueue = false;
    });
  return cluster;
}

export const isCluster = (client: RedisClient): client is Cluster => client instanceof Cluster;

/** The connections to answer node-level commands (CONFIG, INFO, SCAN): every master of a cluster
 * (after its slots are known), or the one server. */
export async function masters(client: RedisClient): Promise<Redis[]> {
  if (!isCluster(client)) return [client];
  if (client.status === 'wait') await client.connect();
  if (client.status !== 'ready')
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('Redis Cluster not ready')), 10_000);
      client.once('ready', () => (clearTimeout(timer), resolve()));
    });
  return client.nodes('master');
}

/**
 * Every key matching `pattern` (SCAN, on every master of a cluster), handed over in batches with the
 * connection that holds them. Commands on that connection must name one key each (keys of one
 * batch may lie in different slots).
 */
export async function scanKeys(
  client: RedisClient,
  pattern: string,
  each: (keys: string[], node: Redis) => Promise<void>,
): Promise<void> {
  for (const node of await masters(client)) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await each(keys, node);
    } while (cursor !== '0');
  }
}

/** Deletes every key matching `pattern` (on every master of a cluster); returns how many. */
export async function deleteKeys(client: RedisClient, pattern: string): Promise<number> {
  let n = 0;
  await scanKeys(client, pattern, async (keys, node) => {
    const pipe = node.pipeline();
    for (const key of keys) pipe.unlink(key);
    for (const [err, v] of (await pipe.exec()) ?? []) if (!err) n += Number(v ?? 0);
  });
  return n;
}
