// Runs a harness command (tools/chaos.ts, tools/fleet.ts) to the end with `--json` and reads the
// verdict it prints last: the shared half of the chaos and fleet tests.
import { spawn } from 'node:child_process';
import type { Tally } from '../../tools/chaos/tally.ts';

/** The verdict line both harnesses print: the tally's counts and whether the run passed. */
export type HarnessVerdict = Pick<
  Tally,
  | 'due'
  | 'delivered'
  | 'duplicates'
  | 'lost'
  | 'unknown'
  | 'safety_sent'
  | 'safety_expected'
  | 'seconds'
> & { pass: boolean };

export interface HarnessRun<V> {
  code: number | null;
  stderr: string;
  verdict: V;
}

export function runHarness<V extends HarnessVerdict>(
  script: string,
  args: string[],
): Promise<HarnessRun<V>> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
      cwd: process.cwd(),
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    proc.on('exit', (code) => {
      const line = stdout.trim().split('\n').pop() ?? '';
      try {
        resolve({ code, stderr, verdict: JSON.parse(line) as V });
      } catch {
        reject(new Error(`${script} printed no verdict (exit ${code}):\n${stderr.slice(-3000)}`));
      }
    });
  });
}
