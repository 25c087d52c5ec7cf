// Urgent lanes first within one process: program sends wait while an inbound or priority job runs,
// but never longer than the hold limit. Assertions are about order, never wall-clock time, so a
// loaded machine cannot fail them: "at once" means before the next timer fires, and the hold limit
// is checked on fake timers.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { lanes, type Lanes } from '../../jobs/lanes.ts';

/** What settles first: program work let through, or a timer queued at the same moment. */
async function firstOf(l: Lanes): Promise<string[]> {
  const order: string[] = [];
  await Promise.all([
    l.yieldToUrgent().then(() => order.push('program')),
    new Promise<void>((r) => setTimeout(() => r(void order.push('timer')), 0)),
  ]);
  return order;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('lanes', () => {
  it('lets program work start at once when nothing urgent runs', async () => {
    expect(await firstOf(lanes())).toEqual(['program', 'timer']);
  });

  it('holds program work until urgent work finishes', async () => {
    vi.useFakeTimers();
    const l = lanes(5000);
    const order: string[] = [];
    let finish!: () => void;
    const urgent = l.urgent(() =>
      new Promise<void>((r) => (finish = r)).then(() => void order.push('urgent')),
    );
    const program = l.yieldToUrgent().then(() => order.push('program'));
    await vi.advanceTimersByTimeAsync(4999);
    expect(order).toEqual([]);
    finish();
    await Promise.all([urgent, program]);
    expect(order).toEqual(['urgent', 'program']);
  });

  it('holds no longer than maxHoldMs', async () => {
    vi.useFakeTimers();
    const l = lanes(30);
    const order: string[] = [];
    let finish!: () => void;
    const urgent = l.urgent(() => new Promise<void>((r) => (finish = r)));
    const program = l.yieldToUrgent().then(() => order.push('program'));
    await vi.advanceTimersByTimeAsync(29);
    expect(order).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(order).toEqual(['program']); // released while the urgent work still runs
    finish();
    await Promise.all([urgent, program]);
  });

  it('passes on what the urgent work returns or throws, and lets program work go afterwards', async () => {
    const l = lanes();
    expect(await l.urgent(async () => 42)).toBe(42);
    await expect(l.urgent(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await firstOf(l)).toEqual(['program', 'timer']);
  });
});
