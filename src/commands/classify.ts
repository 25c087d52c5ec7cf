// `classify [--jsonl]`: how the inbound pipeline reads each reply on stdin. With --jsonl, input
// lines are {"id","channel","text"} and output lines {"id","intent","rating","safety","band",
// "risk","concern","matched"} in the same order; without it, each input line is a text and the
// output is readable. `safety` lists the categories that act; `band` is act / ask / none, the
// same band the inbound pipeline and `simulate` use.
import { createInterface } from 'node:readline';
import { loadContent } from '../content/load.ts';
import { readReply } from '../core/classify.ts';
import { loadScreener } from '../safety/load.ts';
import { MESSAGES_DIR } from '../main.ts';
import { parse } from './args.ts';

export async function classifyCommand(args: string[]): Promise<number> {
  const { values } = parse(args, { jsonl: { type: 'boolean' } }, 'classify [--jsonl] < replies');
  const content = await loadContent(MESSAGES_DIR);
  const safety = await loadScreener(content.safety, MESSAGES_DIR);
  const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
  let bad = 0;
  let lineNo = 0;
  for await (const line of rl) {
    lineNo++;
    if (!line.trim()) continue;
    if (values.jsonl) {
      let input: { id?: unknown; channel?: unknown; text?: unknown };
      try {
        input = JSON.parse(line);
      } catch {
        bad++;
        process.stdout.write(
          JSON.stringify({ id: null, error: `line ${lineNo}: not JSON` }) + '\n',
        );
        continue;
      }
      const channel = input.channel === 'email' ? 'email' : 'sms';
      const text = typeof input.text === 'string' ? input.text : '';
      const r = readReply(text, { channel, keywords: content.keywords, safety });
      process.stdout.write(
        JSON.stringify({
          id: input.id ?? null,
          intent: r.intent,
          rating: r.rating,
          safety: r.safety,
          band: r.band,
          risk: r.risk,
          concern: r.concern,
          optout: r.intent === 'stop' ? 'optout' : r.optOutUnclear ? 'unclear' : null,
          matched: r.matched,
        }) + '\n',
      );
    } else {
      const r = readReply(line, { channel: 'sms', keywords: content.keywords, safety });
      const parts = [
        `intent=${r.intent}`,
        `rating=${r.rating ?? '-'}`,
        `band=${r.band}`,
        `safety=${r.safety.join('+') || '-'}`,
        `risk=${r.risk.abuse.toFixed(2)}/${r.risk.self_harm.toFixed(2)}`,
      ];
      if (r.concern.length) parts.push(`concern=${r.concern.join('+')}`);
      if (r.matched.length) parts.push(`matched=${r.matched.join(',')}`);
      console.log(
        `${parts.join('  ')}   <- ${line.length > 60 ? line.slice(0, 57) + '...' : line}`,
      );
    }
  }
  if (bad) console.error(`${bad} line(s) were not JSON`);
  return bad ? 1 : 0;
}
