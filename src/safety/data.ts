// Labelled replies for training and evaluation (messages/safety/DATA.md has the format). Errors
// name the file and line, so a writer can fix their own data.
import type { SafetyCategory } from '../content/types.ts';
import type { Band } from './bands.ts';

export type CaseKind = 'danger' | 'unclear' | 'past' | 'ordinary' | 'risky_ordinary';

export interface LabelledReply {
  text: string;
  lang: string;
  channel: 'sms' | 'email';
  band: Band;
  labels: SafetyCategory[];
  kind: CaseKind;
}

const BANDS = new Set(['act', 'ask', 'none']);
const KINDS = new Set(['danger', 'unclear', 'past', 'ordinary', 'risky_ordinary']);
const CATEGORIES = new Set(['abuse', 'self_harm']);

/** Parses JSONL text. Older fixture lines ({text, lang, labels}) read as act / none over SMS. */
export function parseLabelled(raw: string, file: string): LabelledReply[] {
  const out: LabelledReply[] = [];
  raw.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    const where = `${file}:${i + 1}`;
    let v: Record<string, unknown>;
    try {
      v = JSON.parse(line) as Record<string, unknown>;
    } catch {
      throw new Error(`${where}: not JSON`);
    }
    const labels = v.labels;
    if (typeof v.text !== 'string' || v.text.trim() === '') throw new Error(`${where}: no text`);
    if (!Array.isArray(labels) || !labels.every((l) => CATEGORIES.has(l as string)))
      throw new Error(`${where}: labels must be a list of abuse / self_harm`);
    const band = (v.band ?? (labels.length > 0 ? 'act' : 'none')) as Band;
    const kind = (v.kind ?? (labels.length > 0 ? 'danger' : 'ordinary')) as CaseKind;
    if (!BANDS.has(band)) throw new Error(`${where}: band must be act, ask or none`);
    if (!KINDS.has(kind)) throw new Error(`${where}: unknown kind "${String(kind)}"`);
    if ((band === 'none') !== (labels.length === 0))
      throw new Error(`${where}: band ${band} with labels [${labels.join(', ')}]`);
    const channel = v.channel === 'email' ? 'email' : 'sms';
    out.push({
      text: v.text,
      lang: typeof v.lang === 'string' ? v.lang : 'en',
      channel,
      band,
      labels: labels as SafetyCategory[],
      kind,
    });
  });
  return out;
}
