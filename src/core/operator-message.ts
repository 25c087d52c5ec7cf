// An operator's one-off message to one person (the console's "Send a message", the admin API):
// what the text may be, and when it may go. Pure: the flow passes the time, the zone, the quiet
// hours and the words a lock screen must not show.
import { quietUntil, type QuietHours } from './schedule.ts';
import { smsEncoding, smsSegments, type SmsSize } from './segments.ts';
import { withoutControlChars } from './control-chars.ts';

/** The message row's template: the content is the operator's own text (in the row's vars). */
export const OPERATOR_TEMPLATE = 'operator';
/** An SMS an operator writes costs at most this many segments (3 GSM-7 parts: 459 characters). */
export const OPERATOR_SMS_MAX_SEGMENTS = 3;
export const OPERATOR_EMAIL_MAX_CHARS = 4000;
/** A message written within this long after the person's own last message answers it, and goes
 * out even in their quiet hours (they just wrote to us); any other waits until quiet hours end. */
export const ANSWER_WINDOW_MS = 3600_000;

export type OperatorChannel = 'sms' | 'email';

export type TextProblemCode = 'empty_text' | 'too_long' | 'lock_screen_word';

export interface TextCheck {
  /** The text as it would be sent: control characters removed, line ends and spaces tidied. */
  text: string;
  /** SMS only: encoding, units and segments of `text`. */
  size: SmsSize | null;
  /** SMS only: characters that force UCS-2 (each costs double), at most 5, in order. */
  costly: string[];
  problem: { code: TextProblemCode; message: string } | null;
}

/** Control characters go (as from a person's SMS), CRLF becomes LF, trailing spaces and the
 * surrounding blank lines are trimmed. Tabs stay. */
export function cleanOperatorText(raw: string): string {
  return withoutControlChars(raw.replace(/\r\n?/g, '\n'), 'text')
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n')
    .trim();
}

/** What a lock screen or an inbox list shows: the first line, or the first 40 characters when
 * that is longer (the same rule as `content check`). */
export function lockScreenPreview(text: string): string {
  const firstLine = text.split('\n')[0] ?? '';
  const start = text.replace(/\s+/g, ' ').slice(0, 40);
  return firstLine.length > start.length ? firstLine : start;
}

function costlyCharacters(text: string): string[] {
  const out: string[] = [];
  for (const ch of text) {
    if (out.length >= 5) break;
    if (!out.includes(ch) && smsEncoding(ch) === 'UCS-2') out.push(ch);
  }
  return out;
}

export function checkOperatorText(
  channel: OperatorChannel,
  raw: string,
  lockScreenWords: readonly string[],
): TextCheck {
  const text = cleanOperatorText(raw);
  const size = channel === 'sms' ? smsSegments(text) : null;
  const costly = channel === 'sms' && size?.encoding === 'UCS-2' ? costlyCharacters(text) : [];
  const done = (problem: TextCheck['problem']): TextCheck => ({ text, size, costly, problem });
  if (!text) return done({ code: 'empty_text', message: 'Write a message first: it is empty.' });
  if (size && size.segments > OPERATOR_SMS_MAX_SEGMENTS)
    return done({
      code: 'too_long',
      message:
        `This text needs ${size.segments} SMS segments; the limit is ${OPERATOR_SMS_MAX_SEGMENTS}. ` +
        (size.encoding === 'UCS-2'
          ? 'Shorten it, or replace the characters that double its cost.'
          : 'Shorten it.'),
    });
  if (channel === 'email' && text.length > OPERATOR_EMAIL_MAX_CHARS)
    return done({
      code: 'too_long',
      message: `This email is ${text.length} characters; the limit is ${OPERATOR_EMAIL_MAX_CHARS}. Shorten it.`,
    });
  const shown = lockScreenPreview(text).toLowerCase();
  const word = lockScreenWords.find((w) => shown.includes(w));
  if (word)
    return done({
      code: 'lock_screen_word',
      message: `The start of the message (its first line, or its first 40 characters) shows on a lock screen and says "${word}". Keep it neutral and move that word further down.`,
    });
  return done(null);
}

export type SendTiming = { kind: 'now' } | { kind: 'answering' } | { kind: 'held'; until: Date };

/**
 * When an operator's message may go: at once outside the person's quiet hours; in them, at once
 * only when it answers the person's own message of the last hour, otherwise held until the quiet
 * hours end in their zone (like a program message).
 */
export function operatorSendTiming(
  now: Date,
  timezone: string,
  quiet: QuietHours,
  lastInboundAt: Date | null,
  fallbackZone = 'UTC',
): SendTiming {
  const until = quietUntil(now, timezone, quiet, fallbackZone);
  if (!until) return { kind: 'now' };
  if (lastInboundAt && now.getTime() - lastInboundAt.getTime() <= ANSWER_WINDOW_MS)
    return { kind: 'answering' };
  return { kind: 'held', until };
}
