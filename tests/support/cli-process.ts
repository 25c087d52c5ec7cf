// Runs a CLI role (`work`, `serve`, `schedule`) as a real child process, as a fleet would, and
// waits for its "started" log line. Plain `node --import tsx` (no tsx wrapper), so signals reach
// the process that does the work.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface CliProcess {
  proc: ChildProcess;
  /** Every stdout and stderr line so far (JSON log lines from pino). */
  lines: string[];
  started: Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

export function startCli(args: string[], env: Record<string, string>): CliProcess {
  const keep = ['PATH', 'HOME', 'TMPDIR', 'LANG'];
  const base = Object.fromEntries(
    keep.flatMap((k) => (process.env[k] ? [[k, process.env[k]!]] : [])),
  );
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
    cwd: process.cwd(),
    env: { ...base, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let onStarted: () => void = () => {};
  let onFailed: (err: Error) => void = () => {};
  const started = new Promise<void>(
    (resolve, reject) => ((onStarted = resolve), (onFailed = reject)),
  );
  started.catch(() => {}); // one-shot commands never log "started"; callers that wait see the error
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    lines.push(line);
    if (line.includes('"msg":"started"')) onStarted();
  });
  createInterface({ input: proc.stderr! }).on('line', (line) => lines.push(line));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>(
    (resolve) =>
      proc.once('exit', (code, signal) => {
        onFailed(
          new Error(
            `cli ${args.join(' ')} exited (${signal ?? code}) before it started:\n${lines.join('\n')}`,
          ),
        );
        resolve({ code, signal, at: Date.now() });
      }),
  );
  return { proc, lines, started, exited };
}
