// Child processes of the chaos fleet: the real CLI roles (`work`, `schedule`, `serve`) and the
// fake Twilio, each a plain `node --import tsx` process (no tsx wrapper in between, so a SIGKILL
// reaches the process that does the work). Output goes to one log file per role. A `prefix`
// runs it through another command that execs it, e.g. `ip netns exec <ns>` (tools/fleet).
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ROOT } from '../../src/paths.ts';

export interface Child {
  name: string;
  proc: ChildProcess;
  /** Resolves with the first stdout line `isReady` accepts; rejects if the process exits first. */
  ready: Promise<string>;
  exited: Promise<number | null>;
  alive(): boolean;
  started(): boolean;
  kill(signal: NodeJS.Signals): void;
}

export function spawnChild(
  name: string,
  script: string,
  args: string[],
  env: Record<string, string>,
  log: WriteStream,
  isReady: (line: string) => boolean,
  prefix: string[] = [],
): Child {
  const argv = [process.execPath, '--import', 'tsx', script, ...args];
  const [command, ...rest] = [...prefix, ...argv] as [string, ...string[]];
  const proc = spawn(command, rest, {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let resolveReady: (line: string) => void = () => {};
  let rejectReady: (err: Error) => void = () => {};
  const ready = new Promise<string>(
    (resolve, reject) => ((resolveReady = resolve), (rejectReady = reject)),
  );
  let started = false;
  ready.then(
    () => (started = true),
    () => {}, // a child killed while starting is normal here
  );
  const lines = createInterface({ input: proc.stdout! });
  lines.on('line', (line) => {
    log.write(`${name} ${line}\n`);
    if (isReady(line)) resolveReady(line);
  });
  proc.stderr!.on('data', (d: Buffer) => log.write(`${name} [stderr] ${d.toString()}`));
  const exited = new Promise<number | null>((resolve) =>
    proc.once('exit', (code, signal) => {
      log.write(`${name} exited (${signal ?? code})\n`);
      rejectReady(new Error(`${name} exited (${signal ?? code}) before it was ready`));
      resolve(code);
    }),
  );
  return {
    name,
    proc,
    ready,
    exited,
    alive: () => proc.exitCode === null && proc.signalCode === null,
    started: () => started,
    kill: (signal) => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    },
  };
}

export function openLog(dir: string, file: string): WriteStream {
  return createWriteStream(join(dir, file), { flags: 'a' });
}

/** The CLI logs `{"msg":"started",...}` once a role is up. */
export const cliStarted = (line: string) => line.includes('"msg":"started"');

/** A role kept at `size` processes: whatever exits (killed, or crashed at start-up while Redis
 * was down) is started again, until the fleet is stopped. */
export class Fleet {
  readonly members: (Child | null)[];
  private stopping = false;
  restarts = 0;

  constructor(
    private readonly start: (slot: number) => Child,
    size: number,
  ) {
    this.members = Array.from({ length: size }, () => null);
    for (let i = 0; i < size; i++) this.launch(i);
  }

  private launch(slot: number): void {
    const child = this.start(slot);
    this.members[slot] = child;
    void child.exited.then(() => {
      if (this.stopping || this.members[slot] !== child) return;
      this.restarts++;
      // A short pause, so a child that cannot start does not spin.
      setTimeout(() => !this.stopping && this.launch(slot), 200);
    });
  }

  /** Resolves once every slot has a member that started (members that died are replaced). */
  async ready(): Promise<void> {
    for (let i = 0; i < this.members.length; i++) {
      for (;;) {
        const c = this.members[i];
        if (
          c &&
          (await c.ready.then(
            () => true,
            () => false,
          ))
        )
          break;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  /** SIGKILLs one member that has started, at random (the exit handler starts another). One
   * still starting is spared: on a busy machine start-up takes longer than the kill interval,
   * and killing those would only measure how fast Node boots. The last `spare` running members
   * are spared too, so the fleet never stops altogether. */
  killRandom(random: () => number, spare = 1): string | null {
    const alive = this.members.filter((c): c is Child => c !== null && c.alive() && c.started());
    if (alive.length <= spare) return null;
    const victim = alive[Math.floor(random() * alive.length)];
    if (!victim) return null;
    victim.kill('SIGKILL');
    return victim.name;
  }

  /** SIGTERM to all (graceful shutdown), SIGKILL to any still running after `graceMs`. */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    const running = this.members.filter((c): c is Child => c !== null && c.alive());
    for (const c of running) c.kill('SIGTERM');
    const timer = setTimeout(() => running.forEach((c) => c.kill('SIGKILL')), graceMs);
    await Promise.all(running.map((c) => c.exited));
    clearTimeout(timer);
  }
}
