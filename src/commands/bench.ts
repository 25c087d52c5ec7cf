// `bench [--n 100000] [--json] [--scale] [--only ceiling,steady,safety,scale,limit] [--quick]`:
// the benchmark (src/bench/). Prints a table, or with --json one line; progress goes to stderr.
import type { Config } from '../config.ts';
import { benchEnv } from '../bench/env.ts';
import { progress } from '../bench/progress.ts';
import { formatReport } from '../bench/report.ts';
import { PARTS, runBench, type Part } from '../bench/run.ts';
import { parse, UsageError } from './args.ts';

const USAGE =
  'bench [--n 100000] [--json] [--scale] [--only ceiling,steady,safety,scale,limit] [--quick] [--limit-seconds 60] [--profile DIR]';

export async function benchCommand(cfg: Config, args: string[]): Promise<number> {
  const { values } = parse(
    args,
    {
      n: { type: 'string' },
      json: { type: 'boolean' },
      scale: { type: 'boolean' },
      only: { type: 'string' },
      quick: { type: 'boolean' },
      'limit-seconds': { type: 'string' },
      profile: { type: 'string' },
      'reply-spacing-ms': { type: 'string' },
    },
    USAGE,
  );
  const n = Number(values.n ?? 100_000);
  if (!Number.isInteger(n) || n < 1 || n > 5_000_000)
    throw new UsageError(`--n must be a whole number from 1 to 5000000\nUsage: ${USAGE}`);
  let parts: Part[] = [...PARTS];
  if (values.scale) parts = ['scale'];
  if (values.only) {
    const asked = values.only.split(',').map((p) => p.trim()) as Part[];
    const bad = asked.filter((p) => !PARTS.includes(p));
    if (bad.length)
      throw new UsageError(
        `Unknown part(s) ${bad.join(', ')}; known: ${PARTS.join(', ')}\nUsage: ${USAGE}`,
      );
    parts = asked;
  }
  const limitSeconds = Number(values['limit-seconds'] ?? (values.quick ? 10 : 60));
  if (!(limitSeconds > 0))
    throw new UsageError(`--limit-seconds must be a positive number\nUsage: ${USAGE}`);
  const report = await runBench(benchEnv(cfg), {
    n,
    parts,
    progress: progress(),
    limitSeconds,
    safetySpacingMs: values['reply-spacing-ms'] ? Number(values['reply-spacing-ms']) : undefined,
    profileDir: values.profile,
  });
  console.log(values.json ? JSON.stringify(report.summary) : formatReport(report));
  return 0;
}
