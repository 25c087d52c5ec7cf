// A process of the benchmark's tree, started by procs.ts: `steady` runs the service's web, worker
// and scheduler roles in one process exactly as `dev` does; `ceiling` runs the bare pipeline.
// It answers the orchestrator over IPC: ready, usage (its own process.cpuUsage and peak RSS), stop.
import { loadConfig } from '../config.ts';
import type { FromChild, ToChild } from './procs.ts';

const send = (m: FromChild) => process.send?.(m);

let rssPeak = process.memoryUsage.rss();
setInterval(() => {
  rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
}, 100).unref();

const usage = (): FromChild => {
  const cpu = process.cpuUsage();
  rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
  return { type: 'usage', cpuS: (cpu.user + cpu.system) / 1e6, rssPeakMb: rssPeak / 1024 / 1024 };
};

async function main(): Promise<void> {
  const [role, settings] = process.argv.slice(2);
  // An entry point, like cli.ts: the environment goes to loadConfig, with the bench's settings on top.
  const config = loadConfig({
    ...process.env,
    ...(JSON.parse(settings ?? '{}') as Record<string, string>),
  });
  let stop: () => Promise<void>;
  let onGo: ((m: Extract<ToChild, { type: 'go' }>) => void) | undefined;
  if (role === 'steady') {
    const { buildDeps } = await import('../main.ts');
    const { startRoles } = await import('../roles.ts');
    const deps = await buildDeps(config);
    const running = await startRoles(deps, ['web', 'worker', 'scheduler']);
    stop = () => running.stop();
    send({ type: 'ready', url: running.url });
  } else if (role === 'ceiling') {
    const { startBarePipeline } = await import('./ceiling.ts');
    const bare = await startBarePipeline(config);
    stop = () => bare.stop();
    onGo = (m) =>
      void bare
        .claimAll(m.n, m.batch)
        .catch((err: unknown) => send({ type: 'failed', message: String(err) }));
    send({ type: 'ready' });
  } else if (role === 'fake') {
    // The tests' fake Twilio API (a dev tool: the benchmark needs the full checkout).
    const { startFakeTwilio } = await import('../../tests/support/fake-twilio.ts');
    const fake = await startFakeTwilio();
    stop = () => fake.close();
    send({
      type: 'ready',
      fake: { url: fake.url, accountSid: fake.accountSid, authToken: fake.authToken },
    });
  } else {
    throw new Error(`unknown role "${role}"`);
  }
  process.on('message', (m: ToChild) => {
    if (m.type === 'usage') send(usage());
    else if (m.type === 'go') onGo?.(m);
    else if (m.type === 'stop')
      void stop().then(
        () => {
          send({ type: 'stopped' });
          process.exit(0);
        },
        (err: unknown) => {
          send({ type: 'failed', message: String(err) });
          process.exit(1);
        },
      );
  });
  // The orchestrator stops us with a message; a signal (Ctrl-C on the whole tree) just ends.
  process.on('SIGINT', () => process.exit(130));
  process.on('SIGTERM', () => process.exit(143));
  // The orchestrator died: nothing will ever ask us to stop.
  process.on('disconnect', () => process.exit(1));
}

main().catch((err: unknown) => {
  send({
    type: 'failed',
    message: err instanceof Error ? (err.stack ?? err.message) : String(err),
  });
  process.exit(1);
});
