// Turns a message row into the exact SMS or email to send, from the content in messages/.
import type { OutgoingEmail, OutgoingSms } from '../channels/port.ts';
import type { Content, Program, SafetyResources } from '../content/types.ts';
import { programFrequency } from '../core/program.ts';
import { renderEmail, renderSms } from '../core/render.ts';
import type { Config } from '../config.ts';
import { replyAddress } from '../security/reply-address.ts';
import { signToken } from '../security/tokens.ts';
import { resourcesFor as resourcesOf } from '../safety/resources.ts';

export interface ComposeInput {
  message: { id: string; template: string | null; vars: unknown; kind: string };
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

export function resourcesFor(content: Content, country: string | null): SafetyResources {
  const r = resourcesOf(content.resources, country);
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
  const res = resourcesFor(content, input.subscriber.country);
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

function texts(program: Program, locale: string) {
  return program.locales[locale] ?? program.locales[program.defaultLocale];
}

export function composeSms(
  config: Config,
  content: Content,
  program: Program,
  input: ComposeInput,
): OutgoingSms {
  const key = input.message.template ?? '';
  const text = texts(program, input.subscriber.locale)?.sms[key];
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
  const tpl = texts(program, input.subscriber.locale)?.email[key];
  if (!tpl) throw new MissingContentError(`no email "${key}"`);
  if (!input.subscriber.email) throw new MissingContentError('subscriber has no email address');
  const v = vars(config, content, program, input);
  const rendered = renderEmail(tpl, v, {
    firstName: input.subscriber.firstName ?? undefined,
    unsubscribeUrl: v.unsubscribeUrl ?? '',
    postalAddress: config.email.postalAddress,
    programName: program.name,
    termsUrl: config.termsUrl,
    privacyUrl: config.privacyUrl,
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
