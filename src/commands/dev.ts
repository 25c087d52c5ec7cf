// `npm run dev`: everything in one process on local defaults, migrations applied first, a banner
// with the URLs. `--speed N` runs the program clock N times faster for demos (e.g. 3600: a
// program hour each second, a week in under 3 minutes). With no PostgreSQL or Redis answering on
// this machine, it starts private ones under .steady/ (dev-services.ts) and stops them with itself.
import type { Config } from '../config.ts';
import { buildDeps } from '../main.ts';
import { startRoles, stopOnSignals } from '../roles.ts';
import { parse, UsageError } from './args.ts';
import { ensureLocalServices } from './dev-services.ts';

/** Where `dev` serves Prometheus metrics when METRICS_PORT is unset. */
export const DEV_METRICS_PORT = 9464;

export async function dev(
  cfg: Config,
  args: string[],
  runMigrate: (c: Config, quiet?: boolean) => Promise<void>,
): Promise<number> {
  const { values } = parse(args, { speed: { type: 'string' } }, 'dev [--speed N]');
  const speed = values.speed ? Number(values.speed) : cfg.programSpeed;
  if (!Number.isFinite(speed) || speed < 1 || speed > 100000)
    throw new UsageError('--speed must be a number from 1 to 100000');
  const config = { ...cfg, programSpeed: speed };
  const local = await ensureLocalServices(config);
  // Whatever way dev ends, its private servers stop too (after the roles, on a signal).
  process.once('exit', () => local.stopNow());
  const { deps, running } = await (async () => {
    await runMigrate(config);
    const deps = await buildDeps(config);
    const running = await startRoles(deps, ['web', 'worker', 'scheduler'], {
      defaultMetricsPort: DEV_METRICS_PORT,
    });
    return { deps, running };
  })().catch(async (err: unknown) => {
    await local.stop();
    throw err;
  });
  stopOnSignals({ ...running, stop: () => running.stop().finally(() => local.stop()) }, deps.log);
  const base = `http://localhost:${config.port}`;
  const lines = [
    '',
    '  Steady is running (web, workers and scheduler in one process).',
    `  SMS: ${config.sms.transport}   email: ${config.email.transport}${speed > 1 ? `   program clock x${speed}` : ''}`,
    '',
    `  Sign-up page      ${base}/`,
    ...(config.devRoutes
      ? [
          `  Local phone       ${base}/dev/phone`,
          `  Local outbox      ${base}/dev/outbox   (JSON: ${base}/dev/outbox.json)`,
        ]
      : []),
    `  Operator console  ${base}/admin   (token: ADMIN_TOKEN${config.env !== 'production' && !process.env.ADMIN_TOKEN ? ` = ${config.adminToken}` : ''})`,
    `  Queues            ${base}/admin/queues`,
    `  Health            ${base}/healthz   ${base}/readyz`,
    `  Metrics           ${running.metricsUrl ? `${running.metricsUrl}/metrics` : `off (port ${config.metrics.port ?? DEV_METRICS_PORT} is busy: set METRICS_PORT)`}`,
    `  Inbound email     SMTP on ${config.email.inboundSmtpHost}:${config.email.inboundSmtpPort} for *@${config.email.replyDomain}`,
    ...local.banner,
    '',
    '  Try: npm run cli -- sms --from +12025550123 "JOIN"      Ctrl-C stops.',
    '',
  ];
  console.log(lines.join('\n'));
  return new Promise(() => {});
}
