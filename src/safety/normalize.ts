// Stage 1 of the safety screen: which text is read. An SMS is read whole. An email is read
// without the quoted earlier message (ours: a check-in quoted back is not the person's words) but
// with everything else, signature blocks and "Sent from ..." lines included: a disclosure written
// below a sign-off is still a disclosure. When that leaves almost nothing (a stripper that cut too
// much), the body less its ">" lines is read as a second pass, whose verdict is capped at `ask`.
// The words themselves are normalised by core/normalize.ts, shared with keywords and ratings.
import { stripQuotedReply } from '../core/email-reply.ts';

export interface ScreeningText {
  primary: string;
  /** A second pass over more of the body, or null. */
  fallback: string | null;
}

const MIN_WORDS = 4;
/** Words with a letter in them ("4" and emoji do not count). */
export const wordsIn = (text: string) => text.split(/\s+/).filter((w) => /\p{L}/u.test(w)).length;

export function screeningText(text: string, channel: 'sms' | 'email'): ScreeningText {
  if (channel === 'sms') return { primary: text, fallback: null };
  const primary = stripQuotedReply(text, { keepFooters: true });
  if (wordsIn(primary) >= MIN_WORDS) return { primary, fallback: null };
  const unquoted = text
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .filter((line) => !/^\s*>/.test(line))
    .join('\n')
    .trim();
  return { primary, fallback: unquoted !== primary.trim() && unquoted !== '' ? unquoted : null };
}
