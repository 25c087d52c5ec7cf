// Operator alerts for safety flags (and for a flood of console sign-in attempts): a log line at
// warn (by the caller), and an email to OPERATOR_EMAIL and/or a POST to OPERATOR_WEBHOOK_URL. Only
// masked data leaves: category, time, channel, masked contact and a link to the review page, never
// the person's words.
import type { Deps } from '../deps.ts';

export interface SafetyAlert {
  categories: string[];
  contact: string; // already masked
  channel: string;
  messageId: string;
  at: Date;
}

/** One alert, to every operator channel configured: the email and/or the webhook POST. */
async function sendAlert(
  deps: Pick<Deps, 'config' | 'email'>,
  alert: { messageId: string; subject: string; summary: string; webhook: Record<string, unknown> },
): Promise<void> {
  const { config } = deps;
  const tasks: Promise<unknown>[] = [];
  if (config.operatorEmail) {
    tasks.push(
      deps.email.send({
        messageId: alert.messageId,
        to: config.operatorEmail,
        from: config.email.from,
        subject: alert.subject,
        text: alert.summary,
        html: `<p>${alert.summary.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</p>`,
        headers: {},
        kind: 'operator_alert',
      }),
    );
  }
  if (config.operatorWebhookUrl) {
    tasks.push(
      fetch(config.operatorWebhookUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(alert.webhook),
        signal: AbortSignal.timeout(5000),
      }),
    );
  }
  await Promise.all(tasks);
}

export async function notifyOperators(
  deps: Pick<Deps, 'config' | 'email' | 'log'>,
  alert: SafetyAlert,
): Promise<void> {
  const review = `${deps.config.publicUrl}/admin`;
  const summary = `Safety flag (${alert.categories.join(', ')}) on ${alert.channel} from ${alert.contact} at ${alert.at.toISOString()}. Review: ${review}`;
  await sendAlert(deps, {
    messageId: `alert-${alert.messageId}`,
    subject: 'Steady: a reply needs review',
    summary,
    webhook: { type: 'safety_flag', ...alert, at: alert.at.toISOString(), review },
  });
}

/** Many wrong ADMIN_TOKEN attempts from many addresses: sign-in is slowed for everyone, not
 * locked, so operators are told (once per window) and can rotate the token if it is not them. */
export interface SignInPressureAlert {
  /** Wrong or pending attempts counted in the window so far, from all addresses together. */
  attempts: number;
  windowSec: number;
  at: Date;
}

export async function notifyOperatorsOfSignInPressure(
  deps: Pick<Deps, 'config' | 'email'>,
  alert: SignInPressureAlert,
): Promise<void> {
  const consoleUrl = `${deps.config.publicUrl}/admin`;
  const minutes = Math.round(alert.windowSec / 60);
  const summary = `More than ${alert.attempts - 1} console sign-in or admin API attempts in ${minutes} minutes, from many addresses (at ${alert.at.toISOString()}). Each address is still limited on its own; sign-in is slowed for everyone, not locked. If this is not your team, rotate ADMIN_TOKEN. Console: ${consoleUrl}`;
  await sendAlert(deps, {
    messageId: `alert-sign-in-${alert.at.getTime()}`,
    subject: 'Steady: many failed console sign-ins',
    summary,
    webhook: {
      type: 'sign_in_pressure',
      attempts: alert.attempts,
      windowSec: alert.windowSec,
      at: alert.at.toISOString(),
      console: consoleUrl,
    },
  });
}

/** An event webhook endpoint that failed for a day without one success was disabled: its events
 * wait in the outbox until an operator enables it again (console, Webhooks). */
export interface WebhookDisabledAlert {
  endpointId: string;
  /** The endpoint's host only: a path or query may carry the receiver's token. */
  host: string;
  failingSince: Date;
  at: Date;
}

export async function notifyOperatorsOfDisabledWebhook(
  deps: Pick<Deps, 'config' | 'email'>,
  alert: WebhookDisabledAlert,
): Promise<void> {
  const page = `${deps.config.publicUrl}/admin/webhooks`;
  const summary = `The event webhook endpoint at ${alert.host} (${alert.endpointId}) has failed every delivery since ${alert.failingSince.toISOString()} and was disabled at ${alert.at.toISOString()}. Its events are kept and go out once it is enabled again. Webhooks: ${page}`;
  await sendAlert(deps, {
    messageId: `alert-webhook-${alert.endpointId}-${alert.at.getTime()}`,
    subject: 'Steady: a webhook endpoint was disabled',
    summary,
    webhook: {
      type: 'webhook_disabled',
      endpointId: alert.endpointId,
      host: alert.host,
      failingSince: alert.failingSince.toISOString(),
      at: alert.at.toISOString(),
      page,
    },
  });
}
