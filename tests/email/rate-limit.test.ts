// The shared fixed-window limiter against real Redis, under a fresh key prefix.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientKey } from '../../src/http/email-request.ts';
import { rateLimit } from '../../src/http/rate-limit.ts';
import { createRedis, deleteKeys, type RedisClient } from '../../src/redis.ts';
import { testConfig } from '../support/env.ts';

const config = testConfig();
let redis: RedisClient;
beforeAll(() => {
  redis = createRedis(config.redisUrl);
});
afterAll(async () => {
  await deleteKeys(redis, `${config.redisPrefix}:rl:*`);
  redis.disconnect();
});

describe('rateLimit', () => {
  it('allows `limit` attempts per window, then answers with the seconds to wait', async () => {
    const deps = { redis, config };
    const got = [];
    for (let i = 0; i < 4; i++) got.push(await rateLimit(deps, 'test:a', 3, 60));
    expect(got.map((r) => r.ok)).toEqual([true, true, true, false]);
    expect(got.map((r) => r.remaining)).toEqual([2, 1, 0, 0]);
    expect(got[3]!.retryAfter).toBeGreaterThan(0);
    expect(got[3]!.retryAfter).toBeLessThanOrEqual(60);
    // Keys are separate, and live under the prefix with an expiry.
    expect((await rateLimit(deps, 'test:b', 3, 60)).ok).toBe(true);
    expect(await redis.ttl(`${config.redisPrefix}:rl:test:a`)).toBeGreaterThan(0);
  });

  it('starts a new window once the old one expires', async () => {
    const deps = { redis, config };
    expect((await rateLimit(deps, 'test:short', 1, 1)).ok).toBe(true);
    expect((await rateLimit(deps, 'test:short', 1, 1)).ok).toBe(false);
    await new Promise((r) => setTimeout(r, 1100));
    expect((await rateLimit(deps, 'test:short', 1, 1)).ok).toBe(true);
  });
});

describe('clientKey', () => {
  it.each([
    ['203.0.113.5', '203.0.113.5'],
    ['::ffff:203.0.113.5', '203.0.113.5'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['2001:0db8:0001:0002::9', '2001:db8:1:2::/64'],
  ])('%s -> %s', (ip, key) => expect(clientKey(ip)).toBe(key));
});
