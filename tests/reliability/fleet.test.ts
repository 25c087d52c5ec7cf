// The fleet harness, small: 300 due messages and 50 disclosures through Steady on six hosts in
// their own network namespaces (PostgreSQL behind PgBouncer, a Redis Cluster and the fake Twilio
// on the data host; one web, two worker and two scheduler hosts), while a worker host's cable is
// cut for 10 s, a scheduler host is partitioned from the data host and the Redis master holding
// the queues is killed. Nothing may be sent twice, nothing lost, every disclosure answered.
// It needs root and `ip netns`; elsewhere it is skipped and says why. `npm run fleet` runs 2000.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { cannotRun } from '../../tools/fleet/netns.ts';

interface Verdict {
  hosts: Record<string, string>;
  due: number;
  delivered: number;
  duplicates: number;
  lost: number;
  unknown: number;
  safety_sent: number;
  safety_expected: number;
  seconds: number;
  pass: boolean;
}

const why = cannotRun();
if (why) console.warn(`fleet test skipped: ${why}`);

function runFleet(
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', 'tools/fleet.ts', ...args], {
      cwd: process.cwd(),
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    proc.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe.skipIf(why !== null)('fleet', () => {
  it('300 messages across six hosts through a cut cable, a partition and a Redis failover: none twice, none lost, every safety message sent', async () => {
    const r = await runFleet(['--n', '300', '--json', '--timeout', '80']);
    const line = r.stdout.trim().split('\n').pop() ?? '';
    let verdict: Verdict;
    try {
      verdict = JSON.parse(line) as Verdict;
    } catch {
      throw new Error(`fleet printed no verdict (exit ${r.code}):\n${r.stderr.slice(-3000)}`);
    }
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
