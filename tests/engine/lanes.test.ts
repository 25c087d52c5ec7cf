// Urgent lanes first within one process: program sends wait while an inbound or priority job runs,
// but never longer than the hold limit.
import { describe, expect, it } from 'vitest';
import { lanes } from '../../jobs/lanes.ts';

describe('lanes', () => {
  it('lets program work start at once when nothing urgent runs', async () => {
    const l = lanes();
    const start = Date.now();
    await l.yieldToUrgent();
    expect(Date.now() - start).toBeLessThan(50);
  });

  it('holds program work until urgent work finishes', async () => {
    const l = lanes(5000);
    const order: string[] = [];
    let finish!: () => void;
    const urgent = l.urgent(() =>
      new Promise<void>((r) => (finish = r)).then(() => void order.push('urgent')),
    );
    const program = l.yieldToUrgent().then(() => order.push('program'));
    await new Promise((r) => setTimeout(r, 20));
    expect(order).toEqual([]);
    finish();
    await Promise.all([urgent, program]);
    expect(order).toEqual(['urgent', 'program']);
  });

  it('holds no longer than maxHoldMs', async () => {
    const l = lanes(30);
    let finish!: () => void;
    const urgent = l.urgent(() => new Promise<void>((r) => (finish = r)));
    const start = Date.now();
    await l.yieldToUrgent();
    expect(Date.now() - start).toBeLessThan(1000);
    finish();
    await urgent;
  });

  it('passes on what the urgent work returns or throws', async () => {
    const l = lanes();
    expect(await l.urgent(async () => 42)).toBe(42);
    await expect(l.urgent(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    const start = Date.now();
    await l.yieldToUrgent();
    expect(Date.now() - start).toBeLessThan(50);
  });
});
