// The fleet harness, small: 300 due messages and 50 disclosures through Steady on six hosts in
// their own network namespaces (PostgreSQL behind PgBouncer, a Redis Cluster and the fake Twilio
// on the data host; one web, two worker and two scheduler hosts), while a worker host's cable is
// cut for 10 s, a scheduler host is partitioned from the data host and the Redis master holding
// the queues is killed. Nothing may be sent twice, nothing lost, every disclosure answered.
// It needs root and `ip netns`; elsewhere it is skipped and says why. `npm run fleet` runs 2000.
import { describe, expect, it } from 'vitest';
import { cannotRun } from '../../tools/fleet/netns.ts';
import { runHarness, type HarnessVerdict } from '../support/harness-run.ts';

type Verdict = HarnessVerdict & { hosts: Record<string, string> };

const why = cannotRun();
if (why) console.warn(`fleet test skipped: ${why}`);

describe.skipIf(why !== null)('fleet', () => {
  it('300 messages across six hosts through a cut cable, a partition and a Redis failover: none twice, none lost, every safety message sent', async () => {
    const r = await runHarness<Verdict>('tools/fleet.ts', [
      '--n',
      '300',
      '--json',
      '--timeout',
      '80',
    ]);
    const { verdict } = r;
    expect(Object.keys(verdict.hosts).sort()).toEqual(
      ['data', 'sched1', 'sched2', 'web', 'work1', 'work2'].sort(),
    );
    expect(verdict.due).toBe(300);
    expect(verdict.duplicates).toBe(0);
    expect(verdict.lost).toBe(0);
    expect(verdict.unknown).toBeLessThan(3);
    expect(verdict.delivered + verdict.unknown).toBe(300);
    expect(verdict.safety_expected).toBe(50);
    expect(verdict.safety_sent).toBe(50);
    // The faults really happened (stderr names each).
    expect(r.stderr).toMatch(/work1's cable out/);
    expect(r.stderr).toMatch(/sched1 partitioned from the data host/);
    expect(r.stderr).toMatch(/killed the Redis master/);
    expect(r.stderr).toMatch(/network removed/);
    expect(verdict.pass).toBe(true);
    expect(r.code).toBe(0);
  }, 120_000);
});
