// The chaos harness, small: 300 due messages and 50 disclosures through a real fleet (3 workers,
// 2 schedulers, 1 web process, its own Redis and database) while workers are killed every 2 s,
// Redis is restarted empty once and every database connection is cut twice. Nothing may be sent
// twice, nothing lost, and every disclosure answered. `npm run chaos` runs the full 3000.
import { describe, expect, it } from 'vitest';
import { runHarness, type HarnessVerdict } from '../support/harness-run.ts';

type Verdict = HarnessVerdict & { kills: number; redisRestarts: number; pgCuts: number };

describe('chaos', () => {
  it('300 messages through kills, a Redis restart and connection cuts: none twice, none lost, every safety message sent', async () => {
    const r = await runHarness<Verdict>('tools/chaos.ts', [
      '--n',
      '300',
      '--json',
      '--db',
      'steady_chaos_test',
      '--seed',
      '7',
      '--timeout',
      '100',
    ]);
    const { verdict } = r;
    expect(verdict.due).toBe(300);
    expect(verdict.duplicates).toBe(0);
    expect(verdict.lost).toBe(0);
    expect(verdict.unknown).toBeLessThan(3);
    expect(verdict.delivered + verdict.unknown).toBe(300);
    expect(verdict.safety_expected).toBe(50);
    expect(verdict.safety_sent).toBe(50);
    // The faults really happened.
    expect(verdict.kills).toBeGreaterThan(0);
    expect(verdict.redisRestarts).toBe(1);
    expect(verdict.pgCuts).toBe(2);
    expect(verdict.pass).toBe(true);
    expect(r.code).toBe(0);
  }, 180_000);
});
