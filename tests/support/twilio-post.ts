// Posts a form to one of the Twilio webhooks as Twilio would: form-encoded, signed with the auth
// token over PUBLIC_URL + path (query included). `signature: null` sends none; a string sends it.
import type { FastifyInstance } from 'fastify';
import { signTwilioRequest } from '../../src/channels/twilio-webhook.ts';
import type { Config } from '../../src/config.ts';

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
