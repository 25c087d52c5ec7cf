// What happens to a mail that reaches us, whether through the SMTP listener or a provider's
// webhook. A reply is attached to a subscriber only when the reply address's mac verifies AND the
// mail comes from that subscriber's address: anything else is dropped, leaving one masked log
// line and no row. The From header can be forged, so the relay's SPF/DKIM/DMARC verdict is kept
// on the reply's row (auth-results.ts) and a failing one is never acted on automatically. Mail to unsubscribe@REPLY_DOMAIN is the List-Unsubscribe mailto; reports
// (bounces, complaints) go to bounces.ts.
import { createHash } from 'node:crypto';
import { maskEmail } from '../channels/mask.ts';
import { hasControlChars, withoutControlChars } from '../core/control-chars.ts';
import type { Deps } from '../deps.ts';
import { normalizeEmail } from '../flows/enroll.ts';
import { recordInbound } from '../flows/inbound.ts';
import { metrics } from '../metrics.ts';
import { parseReplyAddress } from '../security/reply-address.ts';
import { senderAuth } from './auth-results.ts';
import { applyReport, type ReportOutcome } from './bounces.ts';
import { looksLikeReport, readReport } from './dsn.ts';
import { unsubscribeWithToken } from './unsubscribe.ts';

export interface InboundEmail {
  /** Where it was addressed: the SMTP envelope's RCPT TO, or the provider's `to`. */
  recipients: string[];
  /** The From header's address. */
  from: string | null;
  subject: string;
  /** The text body as received, quotes included: the reply pipeline strips them. */
  text: string;
  messageId: string | null;
  /** Auto-Submitted, Precedence: bulk and the like: out-of-office answers must not loop. */
  automatic?: boolean;
  /** The whole message when we have it (SMTP): delivery reports are read from it. */
  raw?: string;
  /** The values of its Authentication-Results headers, topmost first (auth-results.ts). */
  authenticationResults?: string[];
  via: 'smtp' | 'webhook';
}

export type InboundEmailOutcome =
  'reply' | 'duplicate' | 'unsubscribed' | `report_${ReportOutcome}` | 'dropped';

type HandleDeps = Pick<Deps, 'db' | 'queues' | 'config' | 'clock' | 'log'>;

const MAX_RECIPIENTS = 5;
const MAX_TEXT = 50_000;
const UNSUBSCRIBE_SUBJECT = /\bunsubscribe-([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)/;

/** Mail that can never be taken, however often it is sent: the SMTP listener answers 554 and the
 * webhook 400, so the sender stops retrying (a temporary failure would bring it back for days). */
export class InvalidInboundEmail extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidInboundEmail';
  }
}

/**
 * Why a mail is bad input, or null: a control character in a field we store or match on
 * (PostgreSQL cannot store NUL, and no address, subject or Message-ID has a use for the others).
 * The text is the person's own words, maybe a disclosure or a STOP: it is never refused for a
 * stray byte; control characters are removed from it (form feeds and vertical tabs, which word
 * processors paste for breaks, become line breaks), as an SMS Body is. Both doors check it: the SMTP listener before it
 * answers DATA, the webhook before it answers 200.
 */
export function inboundEmailProblem(mail: InboundEmail): string | null {
  const lines: [string, string | null][] = [
    ['the From address', mail.from],
    ['the Subject', mail.subject],
    ['the Message-ID', mail.messageId],
    ...mail.recipients.map((r): [string, string] => ['a recipient address', r]),
  ];
  for (const [name, value] of lines)
    if (value && hasControlChars(value, 'line')) return `${name} contains a control character`;
  return null;
}

export async function handleInboundEmail(
  deps: HandleDeps,
  mail: InboundEmail,
): Promise<InboundEmailOutcome[]> {
  const problem = inboundEmailProblem(mail);
  if (problem) throw new InvalidInboundEmail(problem);
  const providerId = providerIdOf(mail);
  if (mail.raw && looksLikeReport(mail.raw)) {
    const report = readReport(mail.raw);
    if (!report) return [drop(deps, mail, null, 'unreadable_report')];
    return [`report_${await applyReport(deps, report, { reportMessageId: mail.messageId })}`];
  }
  // Only our own addresses count; a copy to anyone else (a Cc) is none of our business.
  const ours = mail.recipients
    .map((r) => r.trim().toLowerCase())
    .filter((r) => isOurAddress(deps.config, r));
  const recipients = [...new Set(ours)].slice(0, MAX_RECIPIENTS);
  const outcomes: InboundEmailOutcome[] = [];
  for (const rcpt of recipients) outcomes.push(await handleOne(deps, mail, rcpt, providerId));
  return outcomes.length ? outcomes : [drop(deps, mail, null, 'no_recipient')];
}

/** Addresses we take mail for: anything at REPLY_DOMAIN, and the bounce address. */
export function isOurAddress(config: Deps['config'], address: string): boolean {
  const a = address.trim().toLowerCase();
  return (
    a.endsWith('@' + config.email.replyDomain.toLowerCase()) ||
    a === config.email.bounceAddress.toLowerCase()
  );
}

async function handleOne(
  deps: HandleDeps,
  mail: InboundEmail,
  rcpt: string,
  providerId: string,
): Promise<InboundEmailOutcome> {
  const { config } = deps;
  const domain = config.email.replyDomain.toLowerCase();
  if (rcpt === config.email.bounceAddress.toLowerCase())
    return drop(deps, mail, rcpt, 'not_a_report');
  if (rcpt === `unsubscribe@${domain}`) {
    const token = UNSUBSCRIBE_SUBJECT.exec(mail.subject)?.[1];
    const evidence = {
      source: 'unsubscribe_mailto',
      via: mail.via,
      providerId,
      sender: mail.from ? maskEmail(mail.from) : null,
    };
    const r = token ? await unsubscribeWithToken(deps, token, evidence) : 'invalid';
    return r === 'invalid' ? drop(deps, mail, rcpt, 'bad_unsubscribe_token') : 'unsubscribed';
  }
  const subscriberId = parseReplyAddress(config.appSecrets, rcpt, domain);
  if (!subscriberId) return drop(deps, mail, rcpt, 'bad_reply_address');
  if (mail.automatic) return drop(deps, mail, rcpt, 'automatic_reply');
  const from = mail.from ? normalizeEmail(mail.from) : null;
  const sub = await deps.db.subscriber.findUnique({
    where: { id: subscriberId },
    select: { email: true },
  });
  if (!sub) return drop(deps, mail, rcpt, 'unknown_subscriber');
  if (!from || from !== sub.email) return drop(deps, mail, rcpt, 'sender_mismatch');

  // The From header is the sender's word only: what our relay found (SPF, DKIM, DMARC) is kept
  // with the reply, and a `fail` means nothing in it is acted on without an operator (decide.ts).
  const auth = senderAuth(mail.authenticationResults ?? [], from, config.email.inboundAuthservId);
  if (auth === 'fail')
    deps.log.info(
      { via: mail.via, sender: maskEmail(from), senderAuth: auth },
      'inbound email: sender not verified',
    );
  const r = await recordInbound(deps, {
    channel: 'email',
    from,
    to: rcpt,
    text: replyText(mail),
    providerId,
    subscriberId,
    senderAuth: auth,
  });
  if (!r.duplicate) metrics.inc('steady_inbound_total', { channel: 'email' });
  return r.duplicate ? 'duplicate' : 'reply';
}

/** The body; an empty body falls back to the subject (someone who writes only "STOP" there). */
function replyText(mail: InboundEmail): string {
  const text = withoutControlChars(mail.text.replace(/[\f\v]/g, '\n'), 'text').slice(0, MAX_TEXT);
  if (text.trim()) return text;
  return mail.subject.replace(/^\s*((re|fwd?|aw|sv|tr)\s*:\s*)+/i, '').trim();
}

/** The provider id a replay is recognised by: the Message-ID, or a hash of the content. */
function providerIdOf(mail: InboundEmail): string {
  const id = mail.messageId?.trim();
  if (id && id.length <= 200) return id;
  const h = createHash('sha256');
  h.update(
    id ?? mail.raw ?? [mail.from, mail.recipients.join(','), mail.subject, mail.text].join('\n'),
  );
  return `sha256:${h.digest('hex')}`;
}

function drop(
  deps: HandleDeps,
  mail: InboundEmail,
  rcpt: string | null,
  reason: string,
): 'dropped' {
  // Masked addresses only: never a whole address, never the text.
  deps.log.info(
    {
      reason,
      via: mail.via,
      recipient: rcpt ? maskEmail(rcpt) : null,
      sender: mail.from ? maskEmail(mail.from) : null,
    },
    'inbound email dropped',
  );
  metrics.inc('steady_webhook_rejected_total', { route: `email_${mail.via}`, reason });
  return 'dropped';
}
