// `safety export --since YYYY-MM-DD [--out FILE]`: operators' review decisions as labelled JSONL in
// the training format of messages/safety/DATA.md, to retrain the screen on an organisation's own
// replies. The file holds people's words in the clear, so it is written owner-only, never over an
// existing file, and the export is audited (who, how many, since when; never the text).
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Config } from '../config.ts';
import type { Db } from '../db/client.ts';
import { buildDeps, closeDeps } from '../main.ts';
import { decryptText } from '../security/crypto.ts';
import { parse, UsageError } from './args.ts';

const USAGE = 'safety export --since YYYY-MM-DD [--out FILE]';

export interface ExportLine {
  text: string;
  lang: string;
  channel: 'sms' | 'email';
  band: 'act' | 'none';
  labels: string[];
  kind: 'danger' | 'ordinary';
  source: 'review';
  decidedAt: string;
}

/** A calendar date, read as UTC midnight; anything else (2026-02-30, 2026-5-1) is refused. */
function parseSince(value: string | undefined): Date {
  const d = value && /^\d{4}-\d{2}-\d{2}$/.test(value) ? new Date(`${value}T00:00:00Z`) : null;
  if (!d || Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== value)
    throw new UsageError(
      `--since must be a date as YYYY-MM-DD (e.g. 2026-05-01)${value ? `, not "${value}"` : ''}\nUsage: ${USAGE}`,
    );
  return d;
}

/**
 * One line per reply: a reply flagged in two categories has two decisions, and they make one
 * example (labels: every category marked danger), since two lines with the same text and
 * different labels would teach the model that each is wrong about the other.
 */
export async function reviewedReplies(
  deps: { db: Db; config: Pick<Config, 'encryptionKeys'> },
  since: Date,
): Promise<{ lines: ExportLine[]; withoutText: number }> {
  const flags = await deps.db.safetyFlag.findMany({
    where: { decidedAt: { gte: since }, decision: { not: null } },
    orderBy: [{ decidedAt: 'asc' }, { id: 'asc' }],
    select: {
      messageId: true,
      category: true,
      decision: true,
      decidedAt: true,
      subscriber: { select: { locale: true } },
    },
  });
  const ids = [...new Set(flags.flatMap((f) => (f.messageId ? [f.messageId] : [])))];
  const messages = await deps.db.message.findMany({
    where: { id: { in: ids } },
    select: { id: true, channel: true, bodyEnc: true },
  });
  const byId = new Map(messages.map((m) => [m.id, m]));
  const lines = new Map<string, ExportLine>();
  let withoutText = 0;
  for (const f of flags) {
    const m = f.messageId ? byId.get(f.messageId) : undefined;
    // Past retention (or erased) the words are gone, and a label without its text teaches nothing.
    if (!m?.bodyEnc) {
      withoutText++;
      continue;
    }
    const line: ExportLine = lines.get(m.id) ?? {
      text: decryptText(deps.config.encryptionKeys, m.bodyEnc),
      lang: f.subscriber.locale,
      channel: m.channel,
      band: 'none',
      labels: [],
      kind: 'ordinary',
      source: 'review',
      decidedAt: f.decidedAt!.toISOString(),
    };
    if (f.decision === 'danger' && !line.labels.includes(f.category)) {
      line.labels = [...line.labels, f.category].sort();
      line.band = 'act';
      line.kind = 'danger';
    }
    line.decidedAt = f.decidedAt!.toISOString(); // the latest decision on this reply
    lines.set(m.id, line);
  }
  return { lines: [...lines.values()], withoutText };
}

export async function safetyExport(cfg: Config, args: string[]): Promise<number> {
  const { values } = parse(args, { since: { type: 'string' }, out: { type: 'string' } }, USAGE);
  const since = parseSince(values.since);
  const out = resolve(values.out ?? `safety-review-${values.since}.jsonl`);
  const deps = await buildDeps(cfg);
  try {
    const { lines, withoutText } = await reviewedReplies(deps, since);
    const body = lines.map((l) => JSON.stringify(l) + '\n').join('');
    try {
      // 'wx': never replace a file (an earlier export may be the only copy someone kept).
      await writeFile(out, body, { flag: 'wx', mode: 0o600 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      process.stderr.write(
        `safety export: ${out} already exists; choose another --out or move the old file away\n`,
      );
      return 1;
    }
    await deps.db.auditEvent.create({
      data: {
        actor: 'cli',
        action: 'safety.export',
        target: out,
        detail: { count: lines.length, since: values.since! },
      },
    });
    process.stderr.write(
      [
        `safety export: wrote ${lines.length} reviewed repl${lines.length === 1 ? 'y' : 'ies'} decided since ${values.since} to ${out}`,
        ...(withoutText
          ? [`safety export: skipped ${withoutText} decision(s) whose reply text is no longer kept`]
          : []),
        "WARNING: this file holds people's replies in the clear, some about abuse or self-harm.",
        'Keep it off shared drives, chat and email; delete it once the model is retrained.',
        '',
      ].join('\n'),
    );
    return 0;
  } finally {
    await closeDeps(deps);
  }
}
