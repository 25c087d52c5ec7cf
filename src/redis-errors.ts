// A Redis connection's errors: counted (steady_redis_errors_total{connection,code}) and logged at
// most once a minute per connection and code. ioredis emits one per failed reconnect; without a
// listener it would print each one, and an empty listener would hide an outage for good.
import { isCluster, type RedisClient } from './redis.ts';
import { errorCode, logThrottled, maskedMessage } from './error-report.ts';
import type { Log } from './log.ts';
import { metrics } from './metrics.ts';

export function reportRedisErrors(redis: RedisClient, log: Log, connection: string): void {
  // A cluster client also reports each node's errors (`node error`), e.g. a master that died.
  const events = isCluster(redis) ? ['error', 'node error'] : ['error'];
  for (const event of events) redis.on(event, (err: unknown) => report(err));
  function report(err: unknown) {
    const code = errorCode(err);
    metrics.inc('steady_redis_errors_total', { connection, code });
    logThrottled(
      log,
      'error',
      `redis:${connection}:${code}`,
      { connection, code, err: maskedMessage(err) },
      'Redis error (logged once a minute per kind; see steady_redis_errors_total)',
    );
  }
}
