// `npm run chaos -- [--n 3000] [--json] [--seed 1] [--timeout 600] [--db steady_chaos]`
//   [--kill-every 2000] [--no-redis-restart] [--pg-cuts 2]   (0 turns a fault off)
// Runs the fleet under chaos (tools/chaos/run.ts) and prints the verdict; with --json, one line:
// {"due", "delivered", "duplicates", "lost", "unknown", "safety_sent", "safety_expected", "seconds", ...}
// Exit code 0 when it passed: no duplicate, nothing lost, unknown under 1%, every safety message sent.
import { parseArgs } from 'node:util';
import { runChaos } from './chaos/run.ts';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '3000' },
    disclosures: { type: 'string', default: '50' },
    json: { type: 'boolean', default: false },
    seed: { type: 'string', default: String(Date.now() % 100000) },
    timeout: { type: 'string', default: '600' },
    db: { type: 'string', default: 'steady_chaos' },
    'database-url': { type: 'string' },
    'log-dir': { type: 'string' },
    'kill-every': { type: 'string', default: '2000' },
    'no-redis-restart': { type: 'boolean', default: false },
    'pg-cuts': { type: 'string', default: '2' },
  },
});

const n = Number(values.n);
const disclosures = Number(values.disclosures);
if (
  !Number.isInteger(n) ||
  n < 1 ||
  !Number.isInteger(disclosures) ||
  disclosures < 0 ||
  disclosures > 1500
) {
  console.error('--n must be a positive whole number and --disclosures from 0 to 1500');
  process.exit(2);
}
const databaseUrl = values['database-url'] ?? `postgresql://postgres@127.0.0.1:5432/${values.db}`;
// Progress lines go to stderr, so that with --json stdout holds only the verdict.
const say = (line: string) => console.error(`[chaos] ${line}`);

runChaos({
  n,
  disclosures,
  databaseUrl,
  timeoutSec: Number(values.timeout),
  seed: Number(values.seed),
  logDir: values['log-dir'],
  killEveryMs: Number(values['kill-every']),
  redisRestart: !values['no-redis-restart'],
  pgCuts: Number(values['pg-cuts']),
  say,
}).then(
  (r) => {
    const figures = {
      due: r.due,
      delivered: r.delivered,
      duplicates: r.duplicates,
      lost: r.lost,
      unknown: r.unknown,
      safety_sent: r.safety_sent,
      safety_expected: r.safety_expected,
      seconds: r.seconds,
    };
    if (values.json) {
      console.log(
        JSON.stringify({
          ...figures,
          pass: r.pass,
          safety_duplicates: r.safety_duplicates,
          strays: r.strays,
          seed: Number(values.seed),
          ...r.events,
          reconciled: r.sweeper.reconciled,
          resent: r.sweeper.resent,
        }),
      );
    } else {
      console.log(JSON.stringify(figures));
      console.log(`statuses of due messages: ${JSON.stringify(r.statuses)}`);
      console.log(
        `chaos: ${r.events.kills} worker kills (${r.events.restarts} restarts), ${r.events.redisRestarts} Redis restart, ${r.events.pgCuts} connection cuts (${r.events.connectionsCut} connections)`,
      );
      console.log(
        `disclosures: ${r.inject.posted} posted in ${r.inject.attempts} attempts; safety copies beyond the first: ${r.safety_duplicates}`,
      );
      console.log(
        `sweeper: ${JSON.stringify(r.sweeper)}; status callbacks: ${r.callbacks.posted} posted, ${r.callbacks.failed} failed`,
      );
      console.log(r.pass ? 'PASS' : 'FAIL');
    }
    process.exit(r.pass ? 0 : 1);
  },
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
