// The chaos harness, small: 300 due messages and 50 disclosures through a real fleet (3 workers,
// 2 schedulers, 1 web process, its own Redis and database) while workers are killed every 2 s,
// Redis is restarted empty once and every database connection is cut twice. Nothing may be sent
// twice, nothing lost, and every disclosure answered. `npm run chaos` runs the full 3000.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';

interface Verdict {
  due: number;
  delivered: number;
  duplicates: number;
  lost: number;
  unknown: number;
  safety_sent: number;
  safety_expected: number;
  seconds: number;
  pass: boolean;
  kills: number;
  redisRestarts: number;
  pgCuts: number;
}

function runChaos(
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', 'tools/chaos.ts', ...args], {
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

describe('chaos', () => {
  it('300 messages through kills, a Redis restart and connection cuts: none twice, none lost, every safety message sent', async () => {
    const r = await runChaos([
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
    const line = r.stdout.trim().split('\n').pop() ?? '';
    let verdict: Verdict;
    try {
      verdict = JSON.parse(line) as Verdict;
    } catch {
      throw new Error(`chaos printed no verdict (exit ${r.code}):\n${r.stderr.slice(-3000)}`);
    }
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
