// A Redis connection's errors: counted (steady_redis_errors_total{connection,code}) and logged at
// most once a minute per connection and code. ioredis emits one per failed reconnect; without a
// listener it would print each one, and an empty listener would hide an outage for good.
import type { Redis } from 'ioredis';
import { errorCode, logThrottled, maskedMessage } from './error-report.ts';
import type { Log } from './log.ts';
import { metrics } from './metrics.ts';

export function reportRedisErrors(redis: Redis, log: Log, connection: string): void {
  redis.on('error', (err: unknown) => {
    const code = errorCode(err);
    metrics.inc('steady_redis_errors_total', { connection, code });
    logThrottled(
      log,
      'error',
      `redis:${connection}:${code}`,
      { connection, code, err: maskedMessage(err) },
      'Redis error (logged once a minute per kind; see steady_redis_errors_total)',
    );
  });
}
