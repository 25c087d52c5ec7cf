// CPU per reply of the safety screen (rules, features, model, bands), as the inbound pipeline runs
// it, by channel, and of the learned model alone. Prints numbers; asserts nothing.
//   npx tsx tools/bench-screen.ts [FILE.jsonl] [--rounds N]
// Default: messages/safety/train/blind-dec7.jsonl (240 SMS, 60 emails; the file the earlier
// figures used). Nine runs of N rounds over each channel's replies; the median run is the figure
// (the fastest is printed too: on a shared machine the slow runs are mostly other work).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadContent } from '../src/content/load.ts';
import { MESSAGES_DIR } from '../src/paths.ts';
import { parseLabelled } from '../src/safety/data.ts';
import { loadScreener } from '../src/safety/load.ts';
import { screenReply } from '../src/safety/screen.ts';
import { screenForms } from '../src/core/normalize.ts';
import { replyFeatures } from '../src/safety/features.ts';
import { predict } from '../src/safety/model.ts';
import { screeningText } from '../src/safety/normalize.ts';
import { matchRules } from '../src/safety/rules.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { rounds: { type: 'string', default: '10' } },
});
const file = positionals[0] ?? join(MESSAGES_DIR, 'safety', 'train', 'blind-dec7.jsonl');
const rounds = Number(values.rounds);
if (!Number.isInteger(rounds) || rounds < 1) {
  process.stderr.write('--rounds must be a positive integer\n');
  process.exit(2);
}
const content = await loadContent(MESSAGES_DIR);
const screener = await loadScreener(content.safety, MESSAGES_DIR);
const cases = parseLabelled(await readFile(file, 'utf8'), file);
for (const c of cases) screenReply(c.text, c.channel, screener); // warm up
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
/** Nine runs of `rounds` passes of `fn` over the set: CPU ms per item, sorted. */
function runsOf(count: number, fn: (i: number) => unknown): number[] {
  const runs: number[] = [];
  for (let run = 0; run < 9; run += 1) {
    const t0 = cpuMs();
    for (let k = 0; k < rounds; k += 1) for (let i = 0; i < count; i += 1) fn(i);
    runs.push((cpuMs() - t0) / (rounds * count));
  }
  return runs.sort((a, b) => a - b);
}
const show = (runs: number[]) =>
  `median ${(runs[4] as number).toFixed(3)} ms CPU per reply, fastest ${(runs[0] as number).toFixed(3)}`;

for (const channel of ['sms', 'email'] as const) {
  const set = cases.filter((c) => c.channel === channel);
  if (set.length === 0) continue;
  const whole = runsOf(set.length, (i) => screenReply(set[i]!.text, channel, screener));
  // The learned model alone (features and heads), on text already chosen, normalized and
  // matched against the rules.
  const read = set.map((c) => {
    const text = screeningText(c.text, channel).primary;
    const forms = screenForms(text, screener.rules.aliases);
    return { canonical: forms[0] ?? '', hits: matchRules(text, screener.rules, forms) };
  });
  const model = runsOf(set.length, (i) => {
    const { whole: f, passages } = replyFeatures(read[i]!.canonical, read[i]!.hits, {
      bits: screener.model.bits,
    });
    return predict(screener.model, f, passages);
  });
  const chars = Math.round(set.reduce((n, c) => n + c.text.length, 0) / set.length);
  console.log(
    `${channel}: ${set.length} replies, ${chars} characters on average: the whole screen ${show(whole)}; the model alone (features and heads) ${show(model)}`,
  );
}
