// REDIS_URL names one Redis server (redis://, rediss://) or a Redis Cluster
// (redis+cluster://host:port,host:port[/0], rediss+cluster:// for TLS; any one reachable node is
// enough, the client learns the rest from it). Pure: no client here (src/redis.ts makes them), so
// config.ts can check the value.

export interface RedisNodeAddress {
  host: string;
  port: number;
}

export type RedisTarget =
  | { cluster: false; url: string; nodes: [RedisNodeAddress] }
  | {
      cluster: true;
      nodes: RedisNodeAddress[];
      username?: string;
      password?: string;
      tls: boolean;
    };

const CLUSTER_SCHEMES = ['redis+cluster:', 'rediss+cluster:'];

export function isClusterUrl(url: string): boolean {
  return CLUSTER_SCHEMES.some((s) => url.toLowerCase().startsWith(s + '//'));
}

/** `redis://a:1` -> `redis+cluster://a:1` (REDIS_CLUSTER=1: the URL names one seed node). */
export function asClusterUrl(url: string): string {
  if (isClusterUrl(url)) return url;
  const m = /^(rediss?):\/\//i.exec(url);
  if (!m) throw new Error('must be a URL starting with redis:// or rediss://');
  return `${m[1]!.toLowerCase()}+cluster://${url.slice(m[0].length)}`;
}

/** Parses REDIS_URL; throws an Error whose message says what is wrong (never the password). */
export function parseRedisUrl(url: string): RedisTarget {
  if (!isClusterUrl(url)) {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw new Error('must be a URL starting with redis://, rediss:// or redis+cluster://');
    }
    if (u.protocol !== 'redis:' && u.protocol !== 'rediss:')
      throw new Error('must be a URL starting with redis://, rediss:// or redis+cluster://');
    return { cluster: false, url, nodes: [{ host: u.hostname, port: Number(u.port || 6379) }] };
  }
  const scheme = url.slice(0, url.indexOf('//'));
  let rest = url.slice(scheme.length + 2);
  const query = rest.search(/[?#]/);
  if (query >= 0) rest = rest.slice(0, query);
  const slash = rest.indexOf('/');
  const path = slash >= 0 ? rest.slice(slash + 1) : '';
  if (slash >= 0) rest = rest.slice(0, slash);
  if (path && path !== '0') throw new Error('a Redis Cluster has only database 0');
  let username: string | undefined;
  let password: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    const auth = rest.slice(0, at);
    rest = rest.slice(at + 1);
    const colon = auth.indexOf(':');
    username = decodeURIComponent(colon >= 0 ? auth.slice(0, colon) : auth) || undefined;
    password = colon >= 0 ? decodeURIComponent(auth.slice(colon + 1)) || undefined : undefined;
  }
  const nodes = rest.split(',').map((part) => {
    const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(part.trim());
    if (!m) throw new Error(`cluster node "${part}" is not host:port`);
    const port = Number(m[2] ?? 6379);
    if (port < 1 || port > 65535) throw new Error(`cluster node "${part}" has no valid port`);
    return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
  });
  return {
    cluster: true,
    nodes,
    username,
    password,
    tls: scheme.toLowerCase() === 'rediss+cluster:',
  };
}

/** host:port (or the cluster's seed nodes) for messages: never the password. */
export function describeRedis(url: string): string {
  try {
    const t = parseRedisUrl(url);
    const list = t.nodes.map((n) => `${n.host}:${n.port}`).join(', ');
    return t.cluster ? `the Redis Cluster at ${list}` : list;
  } catch {
    return 'REDIS_URL';
  }
}

/**
 * The BullMQ key prefix. BullMQ's scripts touch many keys of a queue at once, which a Redis Cluster
 * allows only when they share a hash slot, so on a cluster the prefix is a hash tag (`{steady}`):
 * every queue key of this deployment lives in one slot. A single server keeps the plain prefix
 * (`steady`), so existing deployments keep their keys and their jobs.
 */
export function queuePrefix(config: { redisUrl: string; redisPrefix: string }): string {
  return isClusterUrl(config.redisUrl) ? `{${config.redisPrefix}}` : config.redisPrefix;
}
