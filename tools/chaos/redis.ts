// The chaos run's own Redis: a throwaway redis-server on a spare port, without persistence, so
// that killing it really loses every queued job (the sweep must rebuild them from PostgreSQL).
// tools/fleet starts it on another host's address, through `ip netns exec <ns>` (`prefix`).
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { sleep } from './ports.ts';

export interface ChaosRedis {
  url: string;
  /** SIGKILL, then a fresh empty server on the same port. */
  restart(downMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export interface RedisPlace {
  host?: string;
  /** A command that execs redis-server, e.g. ['ip', 'netns', 'exec', ns]. */
  prefix?: string[];
}

function ping(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, host);
    socket.setTimeout(500);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (d) => {
      socket.destroy();
      resolve(d.toString().startsWith('+PONG'));
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => (socket.destroy(), resolve(false)));
  });
}

function launch(port: number, { host = '127.0.0.1', prefix = [] }: RedisPlace): ChildProcess {
  const argv = [...prefix, 'redis-server'];
  return spawn(
    argv[0]!,
    [
      ...argv.slice(1),
      '--port',
      String(port),
      '--bind',
      host,
      '--save',
      '',
      '--appendonly',
      'no',
      '--daemonize',
      'no',
      // Off the loopback, a server without a password refuses everyone unless told not to.
      ...(host === '127.0.0.1' ? [] : ['--protected-mode', 'no']),
    ],
    {
      stdio: 'ignore',
    },
  );
}

async function waitUp(port: number, host?: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await ping(port, host)) return;
    await sleep(50);
  }
  throw new Error(`redis-server on port ${port} did not start (is redis-server installed?)`);
}

function kill(proc: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    proc.once('exit', () => resolve());
    proc.kill(signal);
  });
}

export async function startRedis(port: number, place: RedisPlace = {}): Promise<ChaosRedis> {
  let proc = launch(port, place);
  await waitUp(port, place.host);
  return {
    url: `redis://${place.host ?? '127.0.0.1'}:${port}`,
    async restart(downMs = 500) {
      await kill(proc, 'SIGKILL');
      await sleep(downMs);
      proc = launch(port, place);
      await waitUp(port, place.host);
    },
    stop: () => kill(proc, 'SIGTERM'),
  };
}
