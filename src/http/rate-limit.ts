// A fixed-window rate limiter in Redis, shared by every web process: sign-up, login and inbound
// routes each count attempts under their own key. Fixed windows allow a burst of up to twice the
// limit across a window edge; that is fine for abuse limits, which only need an order of magnitude.
//
// Windows run on Redis's clock (the key's TTL), not on deps.clock: a limit protects real people
// and real mail servers in real time, even when the program clock is sped up for a demo.
import type { Deps } from '../deps.ts';
import { keyedHash } from '../security/crypto.ts';
import { clientKey } from './email-request.ts';

export interface RateLimitResult {
  ok: boolean;
  /** Seconds until the window resets (0 when ok): the value for a Retry-After header. */
  retryAfter: number;
  /** Attempts left in this window (0 once over the limit). */
  remaining: number;
}

/**
 * How a limit names the client behind a request: a keyed hash (APP_SECRET) of its address, by
 * IPv4 address or IPv6 /64 (clientKey), so Redis never holds an address. Also what log lines about
 * a client carry instead of its address.
 */
export function clientId(deps: Pick<Deps, 'config'>, ip: string): string {
  return keyedHash(deps.config.appSecret, 'client:' + clientKey(ip)).slice(0, 32);
}

/**
 * Counts one attempt for `key` and says whether it is within `limit` attempts per `windowSec`.
 * Keys are stored as `${redisPrefix}:rl:${key}`; callers put no personal data in them (a client
 * by clientId, an address by keyedHash).
 */
export async function rateLimit(
  deps: Pick<Deps, 'redis' | 'config'>,
  key: string,
  limit: number,
  windowSec: number,
): Promise<RateLimitResult> {
  const window = Math.max(1, Math.ceil(windowSec));
  const redisKey = `${deps.config.redisPrefix}:rl:${key}`;
  // One round trip, atomic: the first attempt creates the key with its expiry, later ones count.
  const replies = await deps.redis
    .multi()
    .set(redisKey, '0', 'EX', window, 'NX')
    .incr(redisKey)
    .ttl(redisKey)
    .exec();
  if (!replies) throw new Error(`rate limit check for "${key}" was aborted by Redis`);
  for (const [err] of replies) if (err) throw err;
  const count = Number(replies[1]?.[1]);
  let ttl = Number(replies[2]?.[1]);
  if (ttl < 0) {
    // A key left without an expiry (should not happen) would block forever: give it one.
    await deps.redis.expire(redisKey, window);
    ttl = window;
  }
  const ok = count <= limit;
  return { ok, retryAfter: ok ? 0 : Math.max(1, ttl), remaining: Math.max(0, limit - count) };
}

// Only an existing key is decremented: once its window has ended there is nothing to give back,
// and a DECR would create a key without an expiry.
const REFUND = `if redis.call('exists', KEYS[1]) == 1 then return redis.call('decr', KEYS[1]) end return 0`;

/** Gives back an attempt counted by rateLimit (one that turned out not to be abuse). */
export async function refundRateLimit(
  deps: Pick<Deps, 'redis' | 'config'>,
  key: string,
): Promise<void> {
  await deps.redis.eval(REFUND, 1, `${deps.config.redisPrefix}:rl:${key}`);
}
