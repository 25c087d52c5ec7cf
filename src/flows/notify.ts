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

export async function notifyOperators(
  deps: Pick<Deps, 'config' | 'email' | 'log'>,
  alert: SafetyAlert,
): Promise<void> {
  const { config } = deps;
  const review = `${config.publicUrl}/admin`;
  const summary = `Safety flag (${alert.categories.join(', ')}) on ${alert.channel} from ${alert.contact} at ${alert.at.toISOString()}. Review: ${review}`;
  const tasks: Promise<unknown>[] = [];
  if (config.operatorEmail) {
    tasks.push(
      deps.email.send({
        messageId: `alert-${alert.messageId}`,
        to: config.operatorEmail,
        from: config.email.from,
        subject: 'Steady: a reply needs review',
        text: summary,
        html: `<p>${summary.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</p>`,
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
        body: JSON.stringify({ type: 'safety_flag', ...alert, at: alert.at.toISOString(), review }),
        signal: AbortSignal.timeout(5000),
      }),
    );
  }
  await Promise.all(tasks);
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
  const { config } = deps;
  const consoleUrl = `${config.publicUrl}/admin`;
  const minutes = Math.round(alert.windowSec / 60);
  const summary = `More than ${alert.attempts - 1} console sign-in or admin API attempts in ${minutes} minutes, from many addresses (at ${alert.at.toISOString()}). Each address is still limited on its own; sign-in is slowed for everyone, not locked. If this is not your team, rotate ADMIN_TOKEN. Console: ${consoleUrl}`;
  const tasks: Promise<unknown>[] = [];
  if (config.operatorEmail) {
    tasks.push(
      deps.email.send({
        messageId: `alert-sign-in-${alert.at.getTime()}`,
        to: config.operatorEmail,
        from: config.email.from,
        subject: 'Steady: many failed console sign-ins',
        text: summary,
        html: `<p>${summary.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</p>`,
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
        body: JSON.stringify({
          type: 'sign_in_pressure',
          attempts: alert.attempts,
          windowSec: alert.windowSec,
          at: alert.at.toISOString(),
          console: consoleUrl,
        }),
        signal: AbortSignal.timeout(5000),
      }),
    );
  }
  await Promise.all(tasks);
}
