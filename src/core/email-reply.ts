// Only the new text of an email reply is read: the quoted earlier message (ours) is removed,
// or a check-in quoted back at us would be read as the person's words. Our own line rules cover
// the common clients (Gmail, Apple Mail, Outlook, Spanish Gmail, ">" quoting, bottom-posting);
// email-reply-parser then removes quote blocks in the other locales it knows. Its signature
// guess is NOT used: it hides everything after a "Cheers," line, including a disclosure.
import EmailReplyParser from 'email-reply-parser';

const WROTE_HEADERS: readonly RegExp[] = [
  /^\s*On\s.{4,300}\swrote:\s*$/i, // Gmail, Apple Mail
  /^\s*El\s.{4,300}\sescribi[oó]:\s*$/i, // Gmail (es)
  /^\s*Le\s.{4,300}\s(?:a\s)?[ée]crit\s?:\s*$/i,
  /^\s*Am\s.{4,300}\sschrieb\s.*:\s*$/i,
  /^\s*Em\s.{4,300}\sescreveu:\s*$/i,
  /^.{0,200}<[^<>\s]+@[^<>\s]+>\)?\s*(?:wrote|escribi[oó]):\s*$/i,
];
const ORIGINAL_MESSAGE =
  /^\s*-{2,}\s*(?:original message|mensaje original|message d'origine|urspr[üu]ngliche nachricht|forwarded message|mensaje reenviado)\s*-{2,}\s*$/i;
const FROM_LINE = /^\s*\*?(?:from|de|von)\s*:\*?\s+\S/i;
const HEADER_FIELD =
  /^\s*\*?(?:sent|date|to|subject|cc|enviado|fecha|para|asunto|gesendet|an|betreff)\s*:\*?/i;
const OUTLOOK_RULE = /^\s*_{10,}\s*$/;
const SIGNATURE_RULE = /^--\s?$/;
const SENT_FROM =
  /^\s*(?:sent from (?:my |mail |yahoo |outlook |aol |the )?.{0,40}|get outlook for .{0,40}|enviado desde (?:mi )?.{0,40}|sent via .{0,40})\s*$/i;

// Header lines are recognised only with a date or an address in them, so a person's own
// "On Monday he wrote:" is not taken for one.
const looksLikeHeader = (line: string) =>
  /\d|@/.test(line) && WROTE_HEADERS.some((re) => re.test(line));
// The headers that begin with a word of their own (all but the bare "<address> wrote:").
const looksLikeOpenedHeader = (line: string) =>
  /\d|@/.test(line) && WROTE_HEADERS.slice(0, -1).some((re) => re.test(line));

/** Index where a "... wrote:" header ends (it may wrap onto a second line), or -1. */
function wroteHeaderEnd(lines: string[], i: number): number {
  const line = lines[i] ?? '';
  if (looksLikeHeader(line)) return i;
  const next = lines[i + 1];
  // A wrapped header starts with its opening word ("On", "El", ...): the person's own last line
  // above an unwrapped "... <address> wrote:" header is never taken for its first half.
  if (
    next !== undefined &&
    !looksLikeHeader(next) &&
    looksLikeOpenedHeader(`${line} ${next.trim()}`)
  )
    return i + 1;
  return -1;
}

/** True where an Outlook-style block (everything below is the old message) starts. */
function startsOutlookBlock(lines: string[], i: number): boolean {
  const line = lines[i] ?? '';
  if (ORIGINAL_MESSAGE.test(line)) return true;
  const below = lines.slice(i + 1, i + 6);
  if (OUTLOOK_RULE.test(line)) return below.slice(0, 2).some((l) => FROM_LINE.test(l));
  return FROM_LINE.test(line) && below.some((l) => HEADER_FIELD.test(l));
}

const isQuoted = (line: string) => /^\s*>/.test(line);

function applyLineRules(text: string, keepFooters: boolean): string {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const kept: string[] = [];
  let inSignature = false;
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i] as string;
    if (startsOutlookBlock(lines, i)) break;
    const headerEnd = wroteHeaderEnd(lines, i);
    if (headerEnd >= 0) {
      const firstBody = lines.slice(headerEnd + 1).find((l) => l.trim() !== '');
      // A header over unquoted text: everything below is the old message. Over ">" lines:
      // skip the header, and text after the quoted block (bottom-posting) is kept.
      if (firstBody !== undefined && !isQuoted(firstBody)) break;
      i = headerEnd;
      inSignature = false;
      continue;
    }
    if (isQuoted(line)) {
      inSignature = false;
      continue;
    }
    if (keepFooters) {
      kept.push(line);
      continue;
    }
    if (SIGNATURE_RULE.test(line)) {
      inSignature = true;
      continue;
    }
    if (inSignature || SENT_FROM.test(line)) continue;
    kept.push(line);
  }
  return kept.join('\n');
}

/** Removes quote blocks only (never "signatures") as found by email-reply-parser. */
function dropLibraryQuotes(text: string): string {
  const fragments = new EmailReplyParser().read(text).getFragments();
  return fragments
    .filter((f) => !f.isQuoted())
    .map((f) => f.getContent())
    .join('\n');
}

/**
 * The new text of an email reply, without the quoted earlier message. Keywords and ratings are
 * read without the mail-app footers too ("--" signature blocks, "Sent from my iPhone"); the safety
 * screen reads them (`keepFooters`), since a person may write a disclosure below a sign-off.
 */
export function stripQuotedReply(text: string, opts: { keepFooters?: boolean } = {}): string {
  const mine = applyLineRules(text, opts.keepFooters ?? false);
  return dropLibraryQuotes(mine)
    .replace(/[ \t]+$/gm, '')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
