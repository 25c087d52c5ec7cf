// Errors on hot paths are reported, never swallowed, but a failure that repeats (a Redis that is
// down fails every reconnect, a provider that is down fails every reconciliation) must not flood
// the log: each is counted in metrics every time and logged at most once a minute per kind, the
// line saying how many of that kind went unlogged since the last one. Error text is masked first:
// a provider's message may quote a phone number or an address.
import { maskEmail, maskPhone } from './channels/mask.ts';
import type { Log } from './log.ts';

export const LOG_EVERY_MS = 60_000;

type Level = 'error' | 'warn';
interface Seen {
  lastAt: number;
  unlogged: number;
}

// Per log (one per process, or per test): the state lives beside the logger, not in a module global.
const seenByLog = new WeakMap<Log, Map<string, Seen>>();

/** Logs `msg` for this `kind` unless one was logged in the last minute; wall-clock time (`now`)
 * because the limit protects a real log, even when the program clock is sped up. */
export function logThrottled(
  log: Log,
  level: Level,
  kind: string,
  fields: Record<string, unknown>,
  msg: string,
  now: number = Date.now(),
): boolean {
  const seen = seenByLog.get(log) ?? new Map<string, Seen>();
  seenByLog.set(log, seen);
  const s = seen.get(kind);
  if (s && now - s.lastAt < LOG_EVERY_MS) {
    s.unlogged++;
    return false;
  }
  log[level]({ ...fields, ...(s?.unlogged ? { unlogged: s.unlogged } : {}) }, msg);
  seen.set(kind, { lastAt: now, unlogged: 0 });
  return true;
}

const EMAIL = /[^\s<>()"',;:]+@[^\s<>()"',;:]+\.[a-z]{2,}/gi;
// E.164, a North American number written the usual ways, or any long run of digits; not an
// IP address, a port or a date.
const PHONE = /\+\d{7,15}\b|\(?\b\d{3}\)?[ -]?\d{3}[ -]\d{4}\b|\b\d{10,}\b/g;

/** The first line of an error's message, short, with phone numbers and addresses masked. */
export function maskedMessage(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const line = (text.split('\n').find((l) => l.trim()) ?? '').trim().slice(0, 200);
  return line.replace(EMAIL, (m) => maskEmail(m)).replace(PHONE, (m) => maskPhone(m));
}

/** A bounded metric label for an error: its system code (ECONNREFUSED) or class name. */
export function errorCode(err: unknown): string {
  const e = err as { code?: unknown; name?: unknown } | null;
  const raw = typeof e?.code === 'string' ? e.code : typeof e?.name === 'string' ? e.name : '';
  return /^[A-Za-z][\w]{0,39}$/.test(raw) ? raw : 'other';
}
