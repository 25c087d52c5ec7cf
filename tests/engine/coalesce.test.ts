// The coalescer behind deliver's batched statements: every caller gets its own result, calls made
// while a batch is in flight go together into the next one, and a failed batch fails its callers.
import { describe, expect, it } from 'vitest';
import { coalesce } from '../../src/flows/coalesce.ts';

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('coalesce', () => {
  it('answers each caller with its own result, in batches', async () => {
    const batches: number[][] = [];
    const double = coalesce(async (keys: number[]) => {
      batches.push(keys);
      await tick();
      return keys.map((k) => k * 2);
    });
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => double(i)));
    expect(results).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
    expect(batches.flat().sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(batches.length).toBeLessThan(10);
  });

  it('keeps at most maxInFlight batches running and at most maxBatch keys in one', async () => {
    let running = 0;
    let most = 0;
    const sizes: number[] = [];
    const echo = coalesce(
      async (keys: number[]) => {
        running++;
        most = Math.max(most, running);
        sizes.push(keys.length);
        await tick();
        running--;
        return keys;
      },
      { maxBatch: 3, maxInFlight: 1 },
    );
    await Promise.all(Array.from({ length: 10 }, (_, i) => echo(i)));
    expect(most).toBe(1);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(3);
  });

  it('rejects every caller of a failed batch, and the next batch still runs', async () => {
    let fail = true;
    const flaky = coalesce(async (keys: string[]) => {
      if (fail) throw new Error('database went away');
      return keys;
    });
    const first = await Promise.allSettled([flaky('a'), flaky('b')]);
    expect(first.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    expect(await flaky('c')).toBe('c');
  });
});
