// Redis memory as the benchmark sees it: INFO memory's used_memory sampled while a part runs (the
// whole instance, so other users of the same Redis show up too), and the bytes held by the bench's
// own keys (MEMORY USAGE over its prefix), which is exact but too slow to sample.
import { Redis } from 'ioredis';

export async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
}

export interface MemorySampler {
  peak(): number;
  last(): number;
  stop(): Promise<number>;
}

export function sampleMemory(redisUrl: string, everyMs = 250): MemorySampler {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
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

/** Bytes held by keys under `prefix:` (sum of MEMORY USAGE), and how many keys there are. */
export async function prefixBytes(
  redisUrl: string,
  prefix: string,
): Promise<{ bytes: number; keys: number }> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  let bytes = 0;
  let keys = 0;
  try {
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (!batch.length) continue;
      const pipe = redis.pipeline();
      for (const k of batch) pipe.memory('USAGE', k, 'SAMPLES', '0');
      for (const [err, v] of (await pipe.exec()) ?? []) if (!err) bytes += Number(v ?? 0);
      keys += batch.length;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return { bytes, keys };
}
