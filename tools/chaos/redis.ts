// The chaos run's own Redis: a throwaway redis-server on a spare port, without persistence, so
// that killing it really loses every queued job (the sweep must rebuild them from PostgreSQL).
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { sleep } from './ports.ts';

export interface ChaosRedis {
  url: string;
  /** SIGKILL, then a fresh empty server on the same port. */
  restart(downMs?: number): Promise<void>;
  stop(): Promise<void>;
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
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

function launch(port: number): ChildProcess {
  return spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--daemonize',
      'no',
    ],
    {
      stdio: 'ignore',
    },
  );
}

async function waitUp(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await ping(port)) return;
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

export async function startRedis(port: number): Promise<ChaosRedis> {
  let proc = launch(port);
  await waitUp(port);
  return {
    url: `redis://127.0.0.1:${port}`,
    async restart(downMs = 500) {
      await kill(proc, 'SIGKILL');
      await sleep(downMs);
      proc = launch(port);
      await waitUp(port);
    },
    stop: () => kill(proc, 'SIGTERM'),
  };
}
