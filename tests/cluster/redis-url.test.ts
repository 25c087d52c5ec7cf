// REDIS_URL's forms: one server, or a Redis Cluster by URL or by REDIS_CLUSTER=1; and the queue
// prefix each gets (a hash tag only on a cluster, so single-server deployments keep their keys).
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { describeRedis, parseRedisUrl, queuePrefix } from '../../src/redis-url.ts';

describe('REDIS_URL', () => {
  it('parses one server and a cluster of seed nodes, with credentials and TLS', () => {
    expect(parseRedisUrl('redis://127.0.0.1:6379')).toMatchObject({ cluster: false });
    expect(parseRedisUrl('redis+cluster://a:7000,b:7001,[::1]:7002')).toEqual({
      cluster: true,
      nodes: [
        { host: 'a', port: 7000 },
        { host: 'b', port: 7001 },
        { host: '::1', port: 7002 },
      ],
      username: undefined,
      password: undefined,
      tls: false,
    });
    expect(parseRedisUrl('rediss+cluster://user:p%40ss@a:7000/0')).toMatchObject({
      cluster: true,
      username: 'user',
      password: 'p@ss',
      tls: true,
      nodes: [{ host: 'a', port: 7000 }],
    });
    expect(() => parseRedisUrl('redis+cluster://a:7000/3')).toThrow(/database 0/);
    expect(() => parseRedisUrl('http://a')).toThrow(/redis:\/\//);
    expect(describeRedis('redis+cluster://:secret@a:1,b:2')).toBe('the Redis Cluster at a:1, b:2');
    expect(describeRedis('redis://:secret@a:1')).toBe('a:1');
  });

  it('REDIS_CLUSTER=1 makes a redis:// URL a cluster seed; the queue prefix is a hash tag only then', () => {
    const single = loadConfig({ REDIS_URL: 'redis://10.0.0.5:6379', REDIS_PREFIX: 'steady' });
    expect(single.redisUrl).toBe('redis://10.0.0.5:6379');
    expect(queuePrefix(single)).toBe('steady');
    const seed = loadConfig({ REDIS_URL: 'rediss://10.0.0.5:6379', REDIS_CLUSTER: '1' });
    expect(seed.redisUrl).toBe('rediss+cluster://10.0.0.5:6379');
    expect(queuePrefix(seed)).toBe('{steady}');
    const byUrl = loadConfig({ REDIS_URL: 'redis+cluster://a:7000,b:7000' });
    expect(queuePrefix(byUrl)).toBe('{steady}');
    expect(() => loadConfig({ REDIS_URL: 'redis+cluster://a:7000/2' })).toThrow(ConfigError);
  });
});
