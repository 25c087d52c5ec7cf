// `sms --from E164 "text"`: posts a signed inbound SMS to the running service exactly as Twilio
// would (form fields, X-Twilio-Signature over PUBLIC_URL + path), so the whole pipeline runs.
import { randomBytes } from 'node:crypto';
import { signTwilioRequest } from '../channels/twilio-webhook.ts';
import type { Config } from '../config.ts';
import { parse, UsageError } from './args.ts';

const USAGE = 'sms --from +12025550123 "text" [--url http://localhost:3000]';

export async function smsCommand(cfg: Config, args: string[]): Promise<number> {
  const { values, positionals } = parse(
    args,
    { from: { type: 'string' }, to: { type: 'string' }, url: { type: 'string' } },
    USAGE,
  );
  const text = positionals.join(' ');
  if (!values.from || !text) throw new UsageError(`Give --from and the text.\nUsage: ${USAGE}`);
  const path = '/webhooks/twilio/sms';
  const params: Record<string, string> = {
    MessageSid: 'SM' + randomBytes(16).toString('hex'),
    AccountSid: cfg.sms.accountSid ?? 'AC' + '0'.repeat(32),
    From: values.from,
    To: values.to ?? cfg.sms.from ?? '+12025550100',
    Body: text,
    NumMedia: '0',
  };
  const signature = signTwilioRequest(cfg.sms.authToken, cfg.publicUrl + path, params);
  const target = (values.url ?? `http://127.0.0.1:${cfg.port}`).replace(/\/+$/, '') + path;
  let res: Response;
  try {
    res = await fetch(target, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': signature,
      },
      body: new URLSearchParams(params).toString(),
    });
  } catch {
    throw new UsageError(`Nothing answers at ${target}. Start the service first: npm run dev`);
  }
  if (!res.ok) {
    console.error(`the service answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
    return 1;
  }
  console.log(
    `sent ${params.MessageSid} (${res.status}); see the answer at http://localhost:${cfg.port}/dev/outbox`,
  );
  return 0;
}
