// CPU per reply of the safety screen (rules, features, model, bands), as the inbound pipeline runs
// it, by channel. Prints numbers; asserts nothing.
//   npx tsx tools/bench-screen.ts [FILE.jsonl] [--rounds N]
// Default: messages/safety/train/blind-dec7.jsonl (240 SMS, 60 emails; the file the earlier
// figures used). Five runs of N rounds over each channel's replies; the median run is the figure.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadContent } from '../src/content/load.ts';
import { MESSAGES_DIR } from '../src/paths.ts';
import { parseLabelled } from '../src/safety/data.ts';
import { loadScreener } from '../src/safety/load.ts';
import { screenReply } from '../src/safety/screen.ts';

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
for (const channel of ['sms', 'email'] as const) {
  const set = cases.filter((c) => c.channel === channel);
  if (set.length === 0) continue;
  const runs: number[] = [];
  for (let run = 0; run < 5; run += 1) {
    const t0 = cpuMs();
    for (let k = 0; k < rounds; k += 1)
      for (const c of set) screenReply(c.text, c.channel, screener);
    runs.push((cpuMs() - t0) / (rounds * set.length));
  }
  runs.sort((a, b) => a - b);
  const chars = Math.round(set.reduce((n, c) => n + c.text.length, 0) / set.length);
  console.log(
    `${channel}: ${set.length} replies, ${chars} characters on average: median ${(runs[2] as number).toFixed(3)} ms CPU per reply (runs ${runs.map((x) => x.toFixed(3)).join(', ')})`,
  );
}
