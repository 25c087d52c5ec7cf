// `npm run fleet -- [--n 2000] [--json] [--timeout 600] [--plain]` (as root: it builds a network)
// Runs Steady across a real network (tools/fleet/run.ts): six hosts in their own network
// namespaces, a worker host's cable cut for 10 s, a scheduler host partitioned, a Redis master
// killed, 50 disclosures posted through the signed webhook. Prints one JSON line
// {"hosts", "due", "delivered", "duplicates", "lost", "unknown", "safety_sent", "safety_expected",
// "seconds", "pass"}, progress on stderr; exit 0 when it passed, 1 when not, 2 when this machine
// cannot run it (not root, no `ip netns`).
// `--bench [--n 20000] [--json] [--two-schedulers]` measures throughput instead (tools/fleet/bench.ts):
// one worker host, then two, on the same data host, no faults; prints a table (or one JSON line).
import { parseArgs } from 'node:util';
import { benchSummary, formatBench, runBench } from './fleet/bench.ts';
import { cannotRun, removeLeftovers, type Network } from './fleet/netns.ts';
import { runFleet } from './fleet/run.ts';

const { values } = parseArgs({
  options: {
    n: { type: 'string' },
    disclosures: { type: 'string', default: '50' },
    json: { type: 'boolean', default: false },
    timeout: { type: 'string', default: '600' },
    plain: { type: 'boolean', default: false },
    'log-dir': { type: 'string' },
    bench: { type: 'boolean', default: false },
    'two-schedulers': { type: 'boolean', default: false },
  },
});

const n = Number(values.n ?? (values.bench ? '20000' : '2000'));
const disclosures = Number(values.disclosures);
if (!Number.isInteger(n) || n < 1 || !Number.isInteger(disclosures) || disclosures < 0) {
  console.error('--n must be a positive whole number and --disclosures 0 or more');
  process.exit(2);
}
const why = cannotRun();
if (why) {
  console.error(`fleet: ${why}`);
  process.exit(2);
}
const say = (line: string) => console.error(`[fleet] ${line}`);

removeLeftovers(say);
// Ctrl-C or a kill: the processes go and the network with them, before this process does.
let network: Network | undefined;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
  process.once(signal, () => {
    say(`${signal}: removing the network`);
    network?.teardown();
    process.exit(130);
  });

if (values.bench)
  runBench({
    n,
    timeoutSec: Number(values.timeout),
    rounds: [
      { workers: 1, schedulers: 1 },
      { workers: 2, schedulers: 1 },
      ...(values['two-schedulers'] ? [{ workers: 2, schedulers: 2 }] : []),
    ],
    plain: values.plain,
    logDir: values['log-dir'],
    say,
    onNetwork: (net) => (network = net),
  }).then(
    (r) => {
      say(`logs in ${r.logDir}`);
      console.log(values.json ? JSON.stringify(benchSummary(r)) : formatBench(r));
      process.exit(0);
    },
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
else
  runFleet({
    n,
    disclosures,
    timeoutSec: Number(values.timeout),
    plain: values.plain,
    logDir: values['log-dir'],
    say,
    onNetwork: (net) => (network = net),
  }).then(
    (r) => {
      const verdict = {
        hosts: r.hosts,
        due: r.due,
        delivered: r.delivered,
        duplicates: r.duplicates,
        lost: r.lost,
        unknown: r.unknown,
        safety_sent: r.safety_sent,
        safety_expected: r.safety_expected,
        seconds: r.seconds,
        pass: r.pass,
      };
      say(
        `faults: ${r.events.linkCut}; ${r.events.partition}; ${r.events.redisKill}; role restarts ${r.events.restarts}`,
      );
      say(
        `disclosures: ${r.inject.posted} posted in ${r.inject.attempts} attempts; safety copies beyond the first: ${r.safety_duplicates}; strays ${r.strays}`,
      );
      say(`statuses of due messages: ${JSON.stringify(r.statuses)}`);
      say(
        `sweeper: ${JSON.stringify(r.sweeper)}; status callbacks: ${JSON.stringify(r.callbacks)}`,
      );
      say(`data host: ${r.data}; logs in ${r.logDir}`);
      console.log(JSON.stringify(verdict));
      if (!values.json) console.log(r.pass ? 'PASS' : 'FAIL');
      process.exit(r.pass ? 0 : 1);
    },
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
