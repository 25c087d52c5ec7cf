// Posts a form to one of the Twilio webhooks as Twilio would: form-encoded, signed with the auth
// token over PUBLIC_URL + path (query included). `signature: null` sends none; a string sends it.
import type { FastifyInstance } from 'fastify';
import { signTwilioRequest } from '../../src/channels/twilio-webhook.ts';
import type { Config } from '../../src/config.ts';
import type { Harness } from './harness.ts';
import { waitFor } from './wait.ts';

export function postToTwilioWebhook(
  app: FastifyInstance,
  config: Pick<Config, 'publicUrl' | 'sms'>,
  path: string,
  params: Record<string, string>,
  signature?: string | null,
) {
  const signed =
    signature === undefined
      ? signTwilioRequest(config.sms.authToken, `${config.publicUrl}${path}`, params)
      : signature;
  return app.inject({
    method: 'POST',
    url: path,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...(signed ? { 'x-twilio-signature': signed } : {}),
    },
    payload: new URLSearchParams(params).toString(),
  });
}

let sid = 0;

/**
 * Texts `body` from `from` through the signed SMS webhook, as Twilio would, then waits until the
 * real workers have read the reply (when it was recorded) and sent every answer.
 */
export async function textViaWebhook(
  h: Pick<Harness, 'deps' | 'config' | 'settle'>,
  app: FastifyInstance,
  from: string,
  body: string,
) {
  const params = {
    MessageSid: `SM${Date.now().toString(16)}${(sid++).toString().padStart(8, '0')}${Math.random().toString(16).slice(2, 6)}`,
    From: from,
    To: '+12025550100',
    Body: body,
  };
  const res = await postToTwilioWebhook(app, h.config, '/webhooks/twilio/sms', params);
  const row = await h.deps.db.message.findFirst({
    where: { providerId: params.MessageSid, direction: 'in' },
  });
  if (row)
    await waitFor(async () => {
      const m = await h.deps.db.message.findUnique({ where: { id: row.id } });
      return !m || m.processedAt;
    });
  await h.settle();
  return res;
}
