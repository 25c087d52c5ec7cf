// `experiments [--program P] [--json]`: every experiment (a step with variants) and how each
// variant does: sends, reply rate to the next check-in, its rating, opt-outs within 48 hours,
// with 95% intervals and the probability that each variant is best (src/flows/experiments.ts).
import { systemClock } from '../clock.ts';
import type { Config } from '../config.ts';
import { loadContent } from '../content/load.ts';
import { createDb } from '../db/client.ts';
import {
  contentPrograms,
  experimentsReport,
  type ExperimentsReport,
  type OutcomeVerdict,
  type StepReport,
} from '../flows/experiments.ts';
import { MESSAGES_DIR } from '../paths.ts';
import { parse, UsageError } from './args.ts';

const USAGE = 'experiments [--program KEY] [--json]';

const pct = (v: number | null): string => (v === null ? '-' : `${(v * 100).toFixed(1)}%`);
const range = (i: { low: number; high: number } | null, f: (v: number) => string): string =>
  i ? `[${f(i.low)}, ${f(i.high)}]` : '';

function verdict(name: string, v: OutcomeVerdict): string {
  if (v.status === 'not enough data') return `${name}: not enough data`;
  return `${name}: ${v.winner ? `winner ${v.winner}` : 'no winner yet'}`;
}

function formatStep(s: StepReport): string[] {
  const header = [
    'variant',
    'weight',
    'n',
    'replied',
    'P(best)',
    'rating',
    'P(best)',
    'opt-out',
    'P(best)',
  ];
  const rows = s.variants.map((v) => [
    v.name + (v.ended ? ' (ended)' : ''),
    v.weight === null ? '-' : String(v.weight),
    String(v.n),
    `${pct(v.replyRate.rate)} ${range(v.replyRate.interval, (x) => pct(x))} n=${v.replyRate.n}`,
    pct(v.replyRate.pBest),
    `${v.rating.mean === null ? '-' : v.rating.mean.toFixed(2)} ${range(v.rating.interval, (x) => x.toFixed(2))} n=${v.rating.n}`,
    pct(v.rating.pBest),
    `${pct(v.optOut.rate)} ${range(v.optOut.interval, (x) => pct(x))} n=${v.optOut.n}`,
    pct(v.optOut.pBest),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)));
  const line = (c: string[]) =>
    c
      .map((v, i) => v.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [
    `${s.program} ${s.step}`,
    `  ${line(header)}`,
    ...rows.map((r) => `  ${line(r)}`),
    `  ${verdict('reply rate', s.replyRate)}; ${verdict('rating', s.rating)}; ${verdict('opt-out', s.optOut)}`,
  ];
}

export function formatReport(r: ExperimentsReport): string {
  if (r.experiments.length === 0) return 'No experiments: no step has variants.';
  return [
    ...r.experiments.flatMap((s) => [...formatStep(s), '']),
    `95% intervals (Wilson for rates, t for ratings). P(best): Beta posteriors with a uniform prior ` +
      `(${r.draws} seeded draws) for rates, a normal approximation for ratings; given from ` +
      `${r.minNPerVariant} outcomes per variant, a winner only above ${r.winnerProbability}. ` +
      `Opt-outs within ${r.optOutWindowHours} h of the send.`,
  ].join('\n');
}

export async function experimentsCommand(cfg: Config, args: string[]): Promise<number> {
  const { values } = parse(args, { program: { type: 'string' }, json: { type: 'boolean' } }, USAGE);
  const content = await loadContent(MESSAGES_DIR);
  if (values.program !== undefined && !content.programs[values.program]) {
    const known = Object.keys(content.programs).join(', ');
    throw new UsageError(`--program "${values.program}" is not a program (known: ${known})`);
  }
  const db = createDb(cfg.databaseUrl, { max: 2 });
  try {
    const report = await experimentsReport(
      { db, clock: systemClock, programs: contentPrograms(content.programs) },
      values.program === undefined ? {} : { program: values.program },
    );
    process.stdout.write(values.json ? JSON.stringify(report) + '\n' : formatReport(report) + '\n');
    return 0;
  } finally {
    await db.$disconnect();
  }
}
