// `npm run dev`: everything in one process on local defaults, migrations applied first, a banner
// with the URLs. `--speed N` runs the program clock N times faster for demos (e.g. 3600: a
// program hour each second, a week in under 3 minutes).
import type { Config } from '../config.ts';
import { buildDeps } from '../main.ts';
import { startRoles, stopOnSignals } from '../roles.ts';
import { parse, UsageError } from './args.ts';

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
  await runMigrate(config);
  const deps = await buildDeps(config);
  const running = await startRoles(deps, ['web', 'worker', 'scheduler']);
  stopOnSignals(running, deps.log);
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
    `  Health            ${base}/healthz   ${base}/readyz   ${base}/metrics`,
    `  Inbound email     SMTP on 127.0.0.1:${config.email.inboundSmtpPort} for *@${config.email.replyDomain}`,
    '',
    '  Try: npm run cli -- sms --from +12025550123 "JOIN"      Ctrl-C stops.',
    '',
  ];
  console.log(lines.join('\n'));
  return new Promise(() => {});
}
