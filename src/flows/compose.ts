// Turns a message row into the exact SMS or email to send, from the content in messages/.
import type { OutgoingEmail, OutgoingSms } from '../channels/port.ts';
import type { ProgramRegistry } from '../content/programs.ts';
import type { Content, EmailTemplate, Program, SafetyResources } from '../content/types.ts';
import { operatorTexts } from '../content/operator-texts.ts';
import { OPERATOR_TEMPLATE } from '../core/operator-message.ts';
import { MESSAGES_DIR } from '../paths.ts';
import { emailTemplateFor, smsTextFor } from '../core/experiments.ts';
import { countryOfNumber } from '../core/phone.ts';
import { programFrequency } from '../core/program.ts';
import { renderEmail, renderSms } from '../core/render.ts';
import type { Config } from '../config.ts';
import { replyAddress } from '../security/reply-address.ts';
import { signToken } from '../security/tokens.ts';
import { resourcesFor as resourcesOf } from '../safety/resources.ts';

export interface ComposeInput {
  message: {
    id: string;
    template: string | null;
    vars: unknown;
    kind: string;
    /** The experiment variant recorded on the row, if any (src/core/experiments.ts). */
    variant?: string | null;
  };
  subscriber: {
    id: string;
    phone: string | null;
    email: string | null;
    firstName: string | null;
    locale: string;
    country: string | null;
  };
}

export class MissingContentError extends Error {}

/**
 * The recipient of an answer to someone we do not know (how to join, HELP, a safety message):
 * no name, the program's language unless the message's vars carry their keyword's, and the
 * country of their phone number, so a safety message names that country's helplines.
 */
export function strangerRecipient(
  program: Program,
  channel: 'sms' | 'email',
  address: string | null,
): ComposeInput['subscriber'] {
  return {
    id: 'stranger',
    phone: channel === 'sms' ? address : null,
    email: channel === 'email' ? address : null,
    firstName: null,
    locale: program.defaultLocale,
    country: channel === 'sms' && address ? countryOfNumber(address) : null,
  };
}

export function resourcesFor(
  content: Content,
  country: string | null,
  locale?: string | null,
): SafetyResources {
  const r = resourcesOf(content.resources, country, locale);
  if (!r) throw new MissingContentError('messages/safety.yaml has no resources for "default"');
  return r;
}

export function unsubscribeUrl(config: Config, subscriberId: string): string {
  // Unsubscribe links never expire: a person must be able to leave from any old mail.
  return `${config.publicUrl}/unsubscribe/${signToken(config.appSecret, 'unsubscribe', subscriberId, null)}`;
}

function vars(
  config: Config,
  content: Content,
  program: Program,
  input: ComposeInput,
): Record<string, string> {
  const { perWeek, weeks } = programFrequency(program);
  // Support lines in the language of the texts actually sent (texts() falls back the same way).
  const locale = localeOf(program, input);
  const res = resourcesFor(content, input.subscriber.country, locale);
  const category = input.message.template === 'safety_self_harm' ? 'self_harm' : 'abuse';
  const own = (
    input.message.vars && typeof input.message.vars === 'object' ? input.message.vars : {}
  ) as Record<string, string>;
  return {
    name: input.subscriber.firstName ?? '',
    programName: program.name,
    weeks: String(weeks),
    perWeek: String(perWeek),
    resources: res[category].join('\n'),
    emergency: res.emergency,
    confirmUrl: '',
    unsubscribeUrl: unsubscribeUrl(config, input.subscriber.id),
    supportContact: config.supportContact,
    termsUrl: config.termsUrl,
    privacyUrl: config.privacyUrl,
    days: '',
    setting: '',
    ...own,
  };
}

/** What a message row's vars may say about how it is written: `locale` (an answer to a number we
 * do not know, in the language of the keyword it sent; the language menu, in the other language)
 * and `program` (a message with no enrollment, about one program). */
export function messageHints(vars: unknown): { locale?: string; program?: string } {
  const v = (vars && typeof vars === 'object' ? vars : {}) as Record<string, unknown>;
  return {
    ...(typeof v.locale === 'string' ? { locale: v.locale } : {}),
    ...(typeof v.program === 'string' ? { program: v.program } : {}),
  };
}

/** The program a message is written for: its enrollment's, else the one its vars name, else the
 * default program. */
export function programOfMessage(
  programs: ProgramRegistry,
  m: { vars: unknown; enrollment?: { program: string } | null },
): Program {
  return programs.of(m.enrollment?.program ?? messageHints(m.vars).program);
}

/** The person's language (or the one the message asks for), in this program when it has it;
 * otherwise the program's default language. */
function localeOf(program: Program, input: ComposeInput): string {
  const locale = messageHints(input.message.vars).locale ?? input.subscriber.locale;
  return program.locales[locale] ? locale : program.defaultLocale;
}

function texts(program: Program, input: ComposeInput) {
  return program.locales[localeOf(program, input)];
}

// An operator's one-off message (flows/operator-message.ts) is their own text, kept in the row's
// vars: it goes in as a value (never read as a template or as Markdown), in a fixed frame.
const OPERATOR_SMS = '{{operatorText}}';

function operatorText(input: ComposeInput): string {
  const own = input.message.vars as { operatorText?: unknown } | null;
  if (typeof own?.operatorText !== 'string' || !own.operatorText.trim())
    throw new MissingContentError('operator message without its text');
  return own.operatorText;
}

function operatorEmail(config: Config, program: Program, input: ComposeInput): EmailTemplate {
  operatorText(input);
  const { subject } = operatorTexts(
    MESSAGES_DIR,
    {
      // A program's own folder, else the default program's (a test runs a renamed copy).
      dirs: [program.key, config.program],
      name: program.name,
      defaultLocale: program.defaultLocale,
    },
    input.subscriber.locale,
  );
  // The subject is already filled; braces left in it would be read as placeholders.
  return { subject: subject.replace(/[{}]/g, ''), preheader: '', markdown: '{{operatorText}}' };
}

export function composeSms(
  config: Config,
  content: Content,
  program: Program,
  input: ComposeInput,
): OutgoingSms {
  const key = input.message.template ?? '';
  if (key === OPERATOR_TEMPLATE) operatorText(input);
  const text =
    key === OPERATOR_TEMPLATE
      ? OPERATOR_SMS
      : smsTextFor(texts(program, input), key, input.message.variant);
  if (text === undefined) throw new MissingContentError(`no SMS text "${key}"`);
  if (!input.subscriber.phone) throw new MissingContentError('subscriber has no phone number');
  return {
    messageId: input.message.id,
    to: input.subscriber.phone,
    body: renderSms(text, vars(config, content, program, input)),
    // The message id rides in the callback URL (the route reads ?m=): a worker that died after
    // Twilio accepted the message never stored its sid, and only this lets the callback settle
    // the row it left `unknown`.
    statusCallback: `${config.publicUrl}/webhooks/twilio/status?m=${input.message.id}`,
    kind: input.message.kind,
  };
}

export function composeEmail(
  config: Config,
  content: Content,
  program: Program,
  input: ComposeInput,
): OutgoingEmail {
  const key = input.message.template ?? '';
  const tpl =
    key === OPERATOR_TEMPLATE
      ? operatorEmail(config, program, input)
      : emailTemplateFor(texts(program, input), key, input.message.variant);
  if (!tpl) throw new MissingContentError(`no email "${key}"`);
  if (!input.subscriber.email) throw new MissingContentError('subscriber has no email address');
  const locale = localeOf(program, input);
  // An email's terms and privacy links open those pages in its language (an SMS keeps the bare
  // links: its length is budgeted in segments by `content check`).
  const lang = locale === 'en' ? '' : `?language=${encodeURIComponent(locale)}`;
  const v: Record<string, string> = {
    ...vars(config, content, program, input),
    termsUrl: config.termsUrl + lang,
    privacyUrl: config.privacyUrl + lang,
  };
  const rendered = renderEmail(tpl, v, {
    locale,
    firstName: input.subscriber.firstName ?? undefined,
    unsubscribeUrl: v.unsubscribeUrl ?? '',
    postalAddress: config.email.postalAddress,
    programName: program.name,
    termsUrl: config.termsUrl + lang,
    privacyUrl: config.privacyUrl + lang,
  });
  const token = v.unsubscribeUrl?.split('/').pop() ?? '';
  return {
    messageId: input.message.id,
    to: input.subscriber.email,
    from: config.email.from,
    subject: rendered.subject,
    text: rendered.text,
    html: rendered.html,
    replyTo: replyAddress(config.appSecret, input.subscriber.id, config.email.replyDomain),
    kind: input.message.kind,
    headers: {
      // RFC 8058 one-click: mail clients POST "List-Unsubscribe=One-Click" to the https URL.
      'List-Unsubscribe': `<${v.unsubscribeUrl}>, <mailto:unsubscribe@${config.email.replyDomain}?subject=unsubscribe-${token}>`,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    },
  };
}
