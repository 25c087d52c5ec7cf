// Redis memory as the benchmark sees it: INFO memory's used_memory sampled while a part runs (the
// whole instance, so other users of the same Redis show up too), and the bytes held by the bench's
// own keys (MEMORY USAGE over its prefix), which is exact but too slow to sample.
import { createRedis, isClusterUrl, masters, scanKeys, type RedisClient } from '../redis.ts';

/** used_memory of the server, or summed over a cluster's masters. */
export async function usedMemory(redis: RedisClient): Promise<number> {
  let bytes = 0;
  for (const node of await masters(redis)) {
    const info = await node.info('memory');
    bytes += Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
  }
  return bytes;
}

export interface MemorySampler {
  peak(): number;
  last(): number;
  stop(): Promise<number>;
}

export function sampleMemory(redisUrl: string, everyMs = 250): MemorySampler {
  const redis = createRedis(redisUrl, { maxRetriesPerRequest: 1 });
  let peak = 0;
  let last = 0;
  let inFlight: Promise<void> | null = null;
  const take = () =>
    (inFlight ??= usedMemory(redis)
      .then((bytes) => {
        last = bytes;
        peak = Math.max(peak, bytes);
      })
      .catch(() => {}) // a missed sample is fine
      .finally(() => {
        inFlight = null;
      }));
  void take();
  const timer = setInterval(() => void take(), everyMs);
  return {
    peak: () => peak,
    last: () => last,
    async stop() {
      clearInterval(timer);
      await inFlight;
      await take();
      redis.disconnect();
      return peak;
    },
  };
}

/** Bytes held by keys under `prefix:` (sum of MEMORY USAGE), and how many keys there are. On a
 * cluster the queues' keys are under `{prefix}:` (queuePrefix), counted too. */
export async function prefixBytes(
  redisUrl: string,
  prefix: string,
): Promise<{ bytes: number; keys: number }> {
  const redis = createRedis(redisUrl, { maxRetriesPerRequest: 1 });
  let bytes = 0;
  let keys = 0;
  try {
    const patterns = [`${prefix}:*`, ...(isClusterUrl(redisUrl) ? [`{${prefix}}:*`] : [])];
    for (const pattern of patterns)
      await scanKeys(redis, pattern, async (batch, node) => {
        const pipe = node.pipeline();
        for (const k of batch) pipe.memory('USAGE', k, 'SAMPLES', '0');
        for (const [err, v] of (await pipe.exec()) ?? []) if (!err) bytes += Number(v ?? 0);
        keys += batch.length;
      });
  } finally {
    redis.disconnect();
  }
  return { bytes, keys };
}
