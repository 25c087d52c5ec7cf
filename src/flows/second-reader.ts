// The optional second safety reader (SAFETY_READER_URL): an HTTP classifier an organisation runs
// itself, asked about replies the built-in screen puts in `ask` or close to it. It can raise a
// band, never lower one; when it fails or is slow (SAFETY_READER_TIMEOUT_MS, 800 ms by default)
// the built-in verdict stands and steady_safety_reader_total{outcome} counts it.
import type { Reading } from '../core/classify.ts';
import type { Deps } from '../deps.ts';
import { metrics } from '../metrics.ts';
import { raiseBand } from '../safety/bands.ts';
import { SAFETY_CATEGORIES } from '../safety/rules.ts';

/** How close to the ask threshold (as a share of it) a `none` reply still goes to the reader. */
const NEAR_ASK = 0.5;

export function wantsSecondReader(reading: Reading, deps: Pick<Deps, 'safety'>): boolean {
  if (reading.band === 'ask') return true;
  if (reading.band === 'act') return false;
  const { ask } = deps.safety.model.thresholds;
  return SAFETY_CATEGORIES.some((c) => reading.concernRisk[c] >= ask[c] * NEAR_ASK);
}

function parseAnswer(body: unknown): { abuse?: number; self_harm?: number } | null {
  if (typeof body !== 'object' || body === null) return null;
  const out: { abuse?: number; self_harm?: number } = {};
  for (const c of SAFETY_CATEGORIES) {
    const v = (body as Record<string, unknown>)[c];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !(v >= 0 && v <= 1)) return null;
    out[c] = v;
  }
  return out;
}

export async function withSecondReader(
  deps: Pick<Deps, 'config' | 'safety' | 'log'>,
  reading: Reading,
  text: string,
  channel: 'sms' | 'email',
  lang = 'en',
): Promise<Reading> {
  const url = deps.config.safetyReaderUrl;
  if (!url || !wantsSecondReader(reading, deps)) return reading;
  let answer: { abuse?: number; self_harm?: number } | null = null;
  let outcome = 'ok';
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text, lang, channel }),
      signal: AbortSignal.timeout(deps.config.safetyReaderTimeoutMs),
    });
    if (!res.ok) outcome = `http_${res.status}`;
    else {
      answer = parseAnswer(await res.json().catch(() => null));
      if (answer === null) outcome = 'bad_answer';
    }
  } catch (err) {
    outcome = (err as Error).name === 'TimeoutError' ? 'timeout' : 'error';
  }
  metrics.inc('steady_safety_reader_total', { outcome });
  if (answer === null) {
    deps.log.warn({ outcome }, 'second safety reader failed; the built-in verdict stands');
    return reading;
  }
  const before = { band: reading.band, categories: reading.safety, concern: reading.concern };
  const raised = raiseBand(before, answer, deps.safety.model.thresholds);
  if (raised.band === before.band && raised.categories.length === before.categories.length)
    return reading;
  return {
    ...reading,
    band: raised.band,
    safety: raised.categories,
    concern: raised.concern,
    matched: [...reading.matched, 'reader:raised'],
  };
}
