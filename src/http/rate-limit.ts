// A fixed-window rate limiter in Redis, shared by every web process: sign-up, login and inbound
// routes each count attempts under their own key. Fixed windows allow a burst of up to twice the
// limit across a window edge; that is fine for abuse limits, which only need an order of magnitude.
//
// Windows run on Redis's clock (the key's TTL), not on deps.clock: a limit protects real people
// and real mail servers in real time, even when the program clock is sped up for a demo.
import type { Deps } from '../deps.ts';

export interface RateLimitResult {
  ok: boolean;
  /** Seconds until the window resets (0 when ok): the value for a Retry-After header. */
  retryAfter: number;
  /** Attempts left in this window (0 once over the limit). */
  remaining: number;
}

/**
 * Counts one attempt for `key` and says whether it is within `limit` attempts per `windowSec`.
 * Keys are stored as `${redisPrefix}:rl:${key}`; callers put no personal data in them (hash an
 * address first, see keyedHash).
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
