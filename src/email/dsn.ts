// Reads bounces and complaints: RFC 3464 delivery status notifications (multipart/report;
// report-type=delivery-status), RFC 5965 ARF feedback reports (report-type=feedback-report), and
// the older plain bounces that only carry X-Failed-Recipients (Exim). Pure: a raw message in,
// what it reports out, so every sample can be a table test.
import { allParts, parseFields, parseMime, type MimePart } from './mime.ts';

export type Severity = 'hard' | 'soft';

export interface BouncedRecipient {
  address: string;
  /** hard: 5.x.x, or a failure without a status; soft: 4.x.x, or a delay. */
  severity: Severity;
  status: string | null;
}

export type MailReport =
  | { kind: 'bounce'; recipients: BouncedRecipient[]; originalMessageId: string | null }
  | {
      kind: 'complaint';
      recipients: string[];
      feedbackType: string;
      originalMessageId: string | null;
    };

const MAX_RECIPIENTS = 10;
// Feedback types that mean "a person marked this as spam"; not-spam, virus and auth-failure
// (DMARC forensic reports) are not complaints.
const COMPLAINT_TYPES = new Set(['abuse', 'fraud']);
const ENHANCED_STATUS = /\b([245])\.\d{1,3}\.\d{1,3}\b/;

/** "rfc822; Jane@Example.org" or "<jane@example.org>" -> "jane@example.org" (null if not an address). */
export function addressOf(field: string | undefined): string | null {
  if (!field) return null;
  const value = field.includes(';') ? field.slice(field.indexOf(';') + 1) : field;
  const addr = (/<([^<>]*)>\s*$/.exec(value)?.[1] ?? value).trim().toLowerCase();
  return /^[^\s@<>]+@[^\s@<>]+$/.test(addr) ? addr : null;
}

/** Header fields of the message the report is about (a message/rfc822 or text/rfc822-headers part). */
function originalHeaders(parts: MimePart[]): Map<string, string> | null {
  for (const p of parts) {
    if (p.type === 'text/rfc822-headers') return parseFields(p.body);
    if ((p.type === 'message/rfc822' || p.type === 'message/global') && p.parts[0])
      return p.parts[0].headers;
  }
  return null;
}

/** Per-recipient blocks of a message/delivery-status body (the first block is per-message). */
function recipientBlocks(body: string): Map<string, string>[] {
  return body
    .split(/\r?\n[ \t]*\r?\n/)
    .map((b) => parseFields(b))
    .filter((f) => f.has('final-recipient') || f.has('original-recipient'));
}

function severityOf(action: string, status: string | null, diagnostic: string): Severity | null {
  if (['delivered', 'relayed', 'expanded'].includes(action)) return null;
  const cls = status?.[0] ?? /^\s*smtp;\s*([45])\d\d\b/i.exec(diagnostic)?.[1];
  if (cls === '5') return 'hard';
  if (cls === '4') return 'soft';
  if (cls === '2') return null;
  return action === 'delayed' ? 'soft' : 'hard';
}

function readDeliveryStatus(part: MimePart): BouncedRecipient[] {
  const out: BouncedRecipient[] = [];
  for (const f of recipientBlocks(part.body)) {
    // Original-Recipient is the address we sent to; Final-Recipient may be where it was forwarded.
    const address = addressOf(f.get('original-recipient')) ?? addressOf(f.get('final-recipient'));
    if (!address) continue;
    const status = ENHANCED_STATUS.exec(f.get('status') ?? '')?.[0] ?? null;
    const severity = severityOf(
      (f.get('action') ?? '').toLowerCase(),
      status,
      f.get('diagnostic-code') ?? '',
    );
    if (severity) out.push({ address, severity, status });
  }
  return out;
}

function readFeedback(part: MimePart, original: Map<string, string> | null): MailReport | null {
  const f = parseFields(part.body);
  const feedbackType = (f.get('feedback-type') ?? '').trim().toLowerCase();
  if (!COMPLAINT_TYPES.has(feedbackType)) return null;
  const rcpt = addressOf(f.get('original-rcpt-to')) ?? addressOf(original?.get('to'));
  return {
    kind: 'complaint',
    recipients: rcpt ? [rcpt] : [],
    feedbackType,
    originalMessageId: original?.get('message-id')?.trim() ?? null,
  };
}

/** What a received message reports about mail we sent, or null when it is not a report. */
export function readReport(raw: string): MailReport | null {
  const root = parseMime(raw);
  const parts = allParts(root);
  const original = originalHeaders(parts);
  const originalMessageId = original?.get('message-id')?.trim() ?? null;

  const feedback = parts.find((p) => p.type === 'message/feedback-report');
  if (feedback) return readFeedback(feedback, original);

  const status = parts.find(
    (p) => p.type === 'message/delivery-status' || p.type === 'message/global-delivery-status',
  );
  if (status) {
    const recipients = readDeliveryStatus(status).slice(0, MAX_RECIPIENTS);
    return recipients.length ? { kind: 'bounce', recipients, originalMessageId } : null;
  }

  // Exim and a few others: no report part, just a header naming who failed, permanently.
  const failed = root.headers.get('x-failed-recipients');
  if (failed) {
    const text = parts
      .filter((p) => p.type === 'text/plain')
      .map((p) => p.body)
      .join('\n');
    const code = ENHANCED_STATUS.exec(text)?.[0] ?? null;
    const severity: Severity = code?.startsWith('4') ? 'soft' : 'hard';
    const recipients = failed
      .split(',')
      .map((a) => addressOf(a))
      .filter((a): a is string => a !== null)
      .slice(0, MAX_RECIPIENTS)
      .map((address) => ({ address, severity, status: code }));
    return recipients.length ? { kind: 'bounce', recipients, originalMessageId } : null;
  }
  return null;
}

/** Whether a message is a report at all (so it is never mistaken for a person's reply). */
export function looksLikeReport(raw: string): boolean {
  const end = /\r?\n\r?\n/.exec(raw)?.index ?? raw.length;
  const headers = parseFields(raw.slice(0, end));
  return (
    /^multipart\/report\b/i.test(headers.get('content-type') ?? '') ||
    headers.has('x-failed-recipients')
  );
}
