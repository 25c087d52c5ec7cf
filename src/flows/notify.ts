// Operator alerts for safety flags: a log line at warn (by the caller), and an email to
// OPERATOR_EMAIL and/or a POST to OPERATOR_WEBHOOK_URL. Only masked data leaves: category, time,
// channel, masked contact and a link to the review page, never the person's words.
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
