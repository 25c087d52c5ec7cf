// `safety train | eval | export`: the learned screen's life cycle.
//   train   reads messages/safety/train/*.jsonl, writes model.json, model.bin and
//           train-report.md beside them (seeded: the same data gives the same bytes)
//   eval    scores labelled sets with the shipped screen; --ledger appends the figures to
//           messages/safety/eval/LEDGER.md (first looks are recorded there, never rewritten)
//   export  operators' review decisions as labelled JSONL, to retrain on an organisation's own
//           replies (in safety-export.ts)
import { execFileSync } from 'node:child_process';
import { appendFile, readdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { loadContent } from '../content/load.ts';
import { foldText } from '../core/normalize.ts';
import { MESSAGES_DIR } from '../paths.ts';
import { parseLabelled, type LabelledReply } from '../safety/data.ts';
import { evaluate, formatFigures, missedTargets, type EvalFigures } from '../safety/eval.ts';
import { loadScreener, SAFETY_DIR } from '../safety/load.ts';
import { encodeModel } from '../safety/model.ts';
import { compileRules } from '../safety/rules.ts';
import { screenReply } from '../safety/screen.ts';
import { DEFAULT_MLP_OPTIONS } from '../safety/mlp.ts';
import { DEFAULT_TRAIN_OPTIONS, trainModel } from '../safety/train.ts';
import { parse, UsageError } from './args.ts';

const USAGE = `safety train [--seed N] [--bits N] [--mlp] [--unclear-target P]
safety eval [FILE.jsonl ...] [--ledger] [--note TEXT]   (default: every messages/safety/eval/*.jsonl)
safety export --since YYYY-MM-DD [--out FILE]`;

export async function safetyCommand(args: string[], exportReview: () => Promise<number>) {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'train':
      return train(rest);
    case 'eval':
      return evalSets(rest);
    case 'export':
      return exportReview();
    default:
      throw new UsageError(`Unknown safety command "${sub ?? ''}".\nUsage: ${USAGE}`);
  }
}

async function readSets(files: string[]): Promise<Array<{ file: string; cases: LabelledReply[] }>> {
  return Promise.all(
    files.map(async (file) => ({
      file,
      cases: parseLabelled(
        await readFile(file, 'utf8'),
        file.replace(/^.*messages\//, 'messages/'),
      ),
    })),
  );
}

const jsonlIn = async (dir: string) =>
  (await readdir(dir).catch(() => []))
    .filter((n) => n.endsWith('.jsonl'))
    .sort()
    .map((n) => join(dir, n));

/** The same reply, case, accents and punctuation aside ("Calm." and "calm" are one). */
const sameReply = (text: string) =>
  foldText(text)
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();

/**
 * Eval sets that share replies with the training data. Two writers of short replies write the
 * same "calm" or "ok": a first look is blind only for the replies the model never trained on.
 */
async function evalOverlap(
  training: readonly LabelledReply[],
  evalFiles: string[],
): Promise<Array<{ file: string; shared: number; total: number }>> {
  const trained = new Set(training.map((r) => sameReply(r.text)));
  return (await readSets(evalFiles))
    .map(({ file, cases }) => ({
      file: basename(file),
      shared: cases.filter((c) => trained.has(sameReply(c.text))).length,
      total: cases.length,
    }))
    .filter((o) => o.shared > 0);
}

async function train(args: string[]): Promise<number> {
  const { values } = parse(
    args,
    {
      seed: { type: 'string' },
      bits: { type: 'string' },
      mlp: { type: 'boolean' },
      'unclear-target': { type: 'string' },
    },
    USAGE,
  );
  // --mlp: an MLP beside the heads (model v9 in eval/LEDGER.md; not shipped).
  const mlp = values.mlp ? DEFAULT_MLP_OPTIONS : null;
  const seed = values.seed === undefined ? DEFAULT_TRAIN_OPTIONS.seed : Number(values.seed);
  const bits = values.bits === undefined ? DEFAULT_TRAIN_OPTIONS.bits : Number(values.bits);
  if (!Number.isInteger(seed)) throw new UsageError(`--seed must be an integer\nUsage: ${USAGE}`);
  if (!Number.isInteger(bits) || bits < 12 || bits > 20)
    throw new UsageError(`--bits must be 12 to 20\nUsage: ${USAGE}`);
  // --unclear-target 0: the act heads learn unclear replies as not acting, as model v6 did (on
  // v6's data, before v13 added the looked-at blind sets, it rebuilds v6 byte for byte).
  const given = values['unclear-target'];
  // A plain decimal from 0 to 1: an empty value ("--unclear-target=") is refused, not read as 0.
  if (given !== undefined && !/^(0(\.\d+)?|1(\.0+)?|\.\d+)$/.test(given))
    throw new UsageError(`--unclear-target must be a number from 0 to 1\nUsage: ${USAGE}`);
  const unclearTarget = given === undefined ? DEFAULT_TRAIN_OPTIONS.unclearTarget : Number(given);
  const dir = SAFETY_DIR(MESSAGES_DIR);
  const files = await jsonlIn(join(dir, 'train'));
  if (files.length === 0) throw new UsageError(`No training data in ${dir}/train/*.jsonl`);
  const sets = await readSets(files);
  const replies = sets.flatMap((s) => s.cases);
  const overlap = await evalOverlap(replies, await jsonlIn(join(dir, 'eval')));
  for (const o of overlap)
    process.stderr.write(
      `safety train: warning: ${o.shared} of ${o.total} replies in ${o.file} are also training replies; its figures are not blind for them\n`,
    );
  const content = await loadContent(MESSAGES_DIR);
  const rules = compileRules(content.safety);
  const started = performance.now();
  const result = trainModel(replies, rules, {
    seed,
    bits,
    mlp,
    unclearTarget,
    progress: (line) => process.stderr.write(`safety train: ${line}\n`),
  });
  const seconds = Math.round((performance.now() - started) / 100) / 10;
  const training = {
    seed,
    bits,
    files: Object.fromEntries(sets.map((s) => [basename(s.file), s.cases.length])),
    replies: replies.length,
    options: {
      ...DEFAULT_TRAIN_OPTIONS,
      seed,
      bits,
      unclearTarget,
      mlp: undefined,
      ...(mlp ? { mlp } : {}),
    },
  };
  const { meta, bin } = encodeModel(result.model, training);
  await writeFile(join(dir, 'model.json'), JSON.stringify(meta, null, 2) + '\n');
  await writeFile(join(dir, 'model.bin'), bin);
  const report = [
    '# Safety model: training report',
    '',
    'Written by `npm run --silent cli -- safety train`. Cross-validated figures are measured on',
    'the training data itself (5 folds, each scored by heads that did not see it): a check, not',
    'the headline. The blind sets in eval/LEDGER.md are the headline.',
    '',
    `- replies: ${replies.length} (${Object.entries(training.files)
      .map(([f, n]) => `${f} ${n}`)
      .join(', ')})`,
    `- ${Object.entries(result.counts)
      .sort()
      .map(([k, n]) => `${k}: ${n}`)
      .join(', ')}`,
    `- seed ${seed}, ${1 << bits} hashed buckets, model.bin ${bin.length} bytes, trained in ${seconds} s`,
    result.model.mlp
      ? `- an MLP beside the heads: ${1 << result.model.mlp.bits} buckets, ${result.model.mlp.hidden} hidden units, ${mlp?.epochs ?? 0} epochs; the calibration weighs its scores with the heads'`
      : '- heads only (no MLP)',
    `- thresholds: act ${JSON.stringify(result.model.thresholds.act)}, ask ${JSON.stringify(result.model.thresholds.ask)}`,
    `- decisive rules (act on their own): ${result.model.decisiveRules.length}; any rule hit is at least ask: ${result.model.rulesAsk}; replies of at most ${result.model.shortAskWords} words without a rule hit are at most ask`,
    `- eval sets sharing replies with the training data (same words, case and punctuation aside): ${
      overlap.map((o) => `${o.file} ${o.shared}/${o.total}`).join(', ') || 'none'
    }`,
    '',
    '| out-of-fold figure | value |',
    '| --- | --- |',
    ...formatFigures(result.crossValidated).map((r) => `| ${r} |`),
    '',
  ].join('\n');
  await writeFile(join(dir, 'train-report.md'), report);
  process.stdout.write(report);
  return 0;
}

function gitCommit(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'messages'], {
      encoding: 'utf8',
    }).trim();
    return dirty ? `${head}+changes` : head;
  } catch {
    return 'unknown';
  }
}

async function evalSets(args: string[]): Promise<number> {
  const { values, positionals } = parse(
    args,
    { ledger: { type: 'boolean' }, note: { type: 'string' } },
    USAGE,
  );
  const dir = SAFETY_DIR(MESSAGES_DIR);
  const files = positionals.length ? positionals : await jsonlIn(join(dir, 'eval'));
  if (files.length === 0) throw new UsageError(`No evaluation sets found\nUsage: ${USAGE}`);
  const content = await loadContent(MESSAGES_DIR);
  const screener = await loadScreener(content.safety, MESSAGES_DIR);
  const lines: string[] = [];
  let missed = 0;
  for (const { file, cases } of await readSets(files)) {
    const started = performance.now();
    const outcomes = cases.map((c) => screenReply(c.text, c.channel, screener));
    const ms = (performance.now() - started) / Math.max(1, cases.length);
    const figures: EvalFigures = evaluate(cases, outcomes);
    const misses = missedTargets(figures);
    missed += misses.length;
    const name = file.replace(/^.*messages\//, 'messages/');
    lines.push(
      `### ${name} (${cases.length} replies, ${ms.toFixed(2)} ms per reply)`,
      '',
      '| figure | value |',
      '| --- | --- |',
      ...formatFigures(figures).map((r) => `| ${r} |`),
      '',
      misses.length ? `Short of targets: ${misses.join('; ')}` : 'Meets every target.',
      '',
    );
  }
  const text = lines.join('\n');
  process.stdout.write(text);
  if (values.ledger) {
    const header = `## ${new Date().toISOString().slice(0, 10)}, commit ${gitCommit()}${values.note ? `: ${values.note}` : ''}\n\n`;
    await appendFile(join(dir, 'eval', 'LEDGER.md'), header + text + '\n');
    process.stderr.write('appended to messages/safety/eval/LEDGER.md\n');
  }
  return missed > 0 ? 1 : 0;
}
