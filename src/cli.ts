// Steady's command line: `npm run cli -- <command>` (`npm run --silent cli -- ...` prints only
// the command's own output). Errors a person can fix print one clear message and exit 2.
import { parseArgs } from 'node:util';
import { UsageError } from './commands/args.ts';
import { ConfigError, loadConfig, loadEnvFile, type Config } from './config.ts';
import { ensureDatabase, migrate, MigrationError } from './db/migrate.ts';
import { MESSAGES_DIR, MIGRATIONS_DIR } from './paths.ts';
import { StartupError } from './startup-error.ts';
import { QUEUE_NAMES, type QueueName } from './queues.ts';

const USAGE = `Usage: npm run cli -- <command> [options]

  migrate                         apply pending database migrations
  dev [--speed N]                 web + workers + scheduler on local defaults (outbox transports)
  serve | work [--queues a,b] | schedule
                                  one role each, for a fleet (queues: ${QUEUE_NAMES.join(', ')})
  enroll --phone E164 | --email ADDR [--program key] [--locale en|es] [--tz Zone] [--name First] [--confirm]
  simulate --channel sms|email [--program key] [--locale en|es] [--replies "4,rough week,..."] [--tz Zone] [--start ISO] [--json]
  classify [--jsonl]              read replies on stdin, print how Steady reads each
  safety train|eval|export        train the safety model, score labelled sets, export reviews
  content check                   validate messages/ and print SMS encodings and segments
  sms --from E164 "text" [--url URL]
                                  post a signed inbound SMS to the running service, as Twilio would
  erase --phone E164 | --email ADDR
                                  remove a person's data and queued jobs, keep a suppression entry
  bench [--n 100000] [--json] [--scale] [--only ceiling,steady,safety,scale,limit] [--quick]
                                  the benchmark, on its own database (steady_bench) and Redis prefix
  openapi [--compact]             print the OpenAPI 3.1 document of the HTTP API
  experiments [--program KEY] [--json]
                                  each step's variants: sends, replies, ratings, opt-outs, P(best)
  export checkins --format csv|jsonl [--program KEY] [--since DATE] [--out FILE]
                                  one row per check-in, pseudonymous (no contacts, no replies)
`;

function config(): Config {
  return loadConfig(process.env);
}

async function runMigrate(cfg: Config, quiet = false): Promise<void> {
  // Straight to PostgreSQL when DIRECT_DATABASE_URL is set (README, "Behind PgBouncer").
  const created = await ensureDatabase(cfg.directDatabaseUrl);
  const name = new URL(cfg.directDatabaseUrl).pathname.slice(1);
  if (created && !quiet) console.log(`created database ${name}`);
  const r = await migrate(cfg.directDatabaseUrl, MIGRATIONS_DIR, (l) => quiet || console.log(l));
  if (!quiet)
    console.log(
      r.applied.length
        ? `applied ${r.applied.length} migration(s) to ${name}`
        : `${name} is up to date (${r.alreadyApplied} migration(s) applied earlier)`,
    );
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  // A .env file in the working directory fills in what the environment does not set.
  loadEnvFile('.env');
  switch (command) {
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return command ? 0 : 2;
    case 'migrate':
      await runMigrate(config());
      return 0;
    case 'dev':
      return (await import('./commands/dev.ts')).dev(config(), rest, runMigrate);
    case 'serve':
    case 'work':
    case 'schedule': {
      const { values } = parseArgs({ args: rest, options: { queues: { type: 'string' } } });
      const queues = values.queues?.split(',').map((q) => q.trim()) as QueueName[] | undefined;
      const bad = queues?.filter((q) => !QUEUE_NAMES.includes(q));
      if (bad?.length)
        throw new UsageError(
          `Unknown queue(s) ${bad.join(', ')}; known: ${QUEUE_NAMES.join(', ')}`,
        );
      const cfg = config();
      const { buildDeps } = await import('./main.ts');
      const deps = await buildDeps(cfg);
      const { startRoles, stopOnSignals } = await import('./roles.ts');
      const role = command === 'serve' ? 'web' : command === 'work' ? 'worker' : 'scheduler';
      const running = await startRoles(deps, [role], { queues });
      stopOnSignals(running, deps.log);
      deps.log.info(
        { role, url: running.url, metrics: running.metricsUrl, queues: queues ?? undefined },
        'started',
      );
      return new Promise(() => {}); // runs until a signal
    }
    case 'enroll':
      return (await import('./commands/enroll.ts')).enrollCommand(config(), rest);
    case 'simulate':
      return (await import('./commands/simulate.ts')).simulateCommand(config(), rest);
    case 'classify':
      return (await import('./commands/classify.ts')).classifyCommand(rest);
    case 'safety':
      return (await import('./commands/safety.ts')).safetyCommand(rest, async () =>
        (await import('./commands/safety-export.ts')).safetyExport(config(), rest.slice(1)),
      );
    case 'content': {
      if (rest[0] !== 'check') throw new UsageError('Did you mean `content check`?');
      const { checkContent } = await import('./content/check.ts');
      const r = await checkContent(MESSAGES_DIR);
      console.log(r.report);
      for (const w of r.warnings) console.log(`warning: ${w}`);
      for (const e of r.errors) console.error(`error: ${e}`);
      console.log(
        r.ok ? 'content check passed' : `content check failed: ${r.errors.length} error(s)`,
      );
      return r.ok ? 0 : 1;
    }
    case 'sms':
      return (await import('./commands/sms.ts')).smsCommand(config(), rest);
    case 'erase':
      return (await import('./commands/erase.ts')).eraseCommand(config(), rest);
    case 'bench':
      return (await import('./commands/bench.ts')).benchCommand(config(), rest);
    case 'openapi':
      return (await import('./commands/openapi.ts')).openapiCommand(rest);
    case 'experiments':
      return (await import('./commands/experiments.ts')).experimentsCommand(config(), rest);
    case 'export':
      return (await import('./commands/export.ts')).exportCommand(config(), rest);
    default:
      throw new UsageError(`Unknown command "${command}".\n\n${USAGE}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (
      err instanceof ConfigError ||
      err instanceof StartupError ||
      err instanceof MigrationError ||
      err instanceof UsageError
    ) {
      console.error(err.message);
      process.exit(2);
    }
    if ((err as Error)?.name === 'EnrollError' || (err as Error)?.name === 'ContentError') {
      console.error((err as Error).message);
      process.exit(2);
    }
    console.error(err);
    process.exit(1);
  },
);
