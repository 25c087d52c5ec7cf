// Twilio's webhooks: inbound SMS and delivery status callbacks. Every request must carry a valid
// X-Twilio-Signature for PUBLIC_URL + the path Twilio called; anything else gets 403 and leaves no
// trace in the database. Inbound messages are recorded and queued, and the answer is empty TwiML
// at once: replies go out through the send queues. The forms follow the zod schemas in
// api-schemas.ts (a form of string fields); a form that fails them is answered here, after the
// rate limit and in the same words as ever (`attachValidation`), not by Fastify.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import twilio from 'twilio';
import { mapTwilioStatus, verifyTwilioSignature } from '../channels/twilio-webhook.ts';
import { hasControlChars, withoutControlChars } from '../core/control-chars.ts';
import { checkPhone } from '../core/phone.ts';
import type { Deps } from '../deps.ts';
import { applyDeliveryStatus } from '../flows/delivery-status.ts';
import { recordInbound } from '../flows/inbound.ts';
import { metrics } from '../metrics.ts';
import { API, routeOptions } from './api-schemas.ts';
import { ipLimit } from './ip-limit.ts';

const EMPTY_TWIML = new twilio.twiml.MessagingResponse().toString();

/** Inbound SMS webhook requests per client address per window. */
export const INBOUND_LIMIT = { requests: 1200, windowSec: 60 };

/** The form, if it passed its schema: an object of string fields (repeated keys or nested values
 * are not Twilio's form). */
function formParams(req: FastifyRequest): Record<string, string> | null {
  if (req.validationError?.validationContext === 'body') return null;
  return req.body as Record<string, string>;
}

/**
 * Control characters, checked after the signature (which covers the form exactly as sent, so
 * these routes check their input themselves: `ownInputCheck`). PostgreSQL text cannot hold NUL
 * (a signed request carrying one failed with a 500 when stored). A person's text is kept: a phone
 * can send a stray control character and Twilio cannot bounce the message back to them, so those
 * are removed from Body (line breaks and tabs stay). Any other field is Twilio's own (ids,
 * numbers, statuses) and never holds one: such a form is refused (400) as not Twilio's.
 */
function withoutControls(params: Record<string, string>): Record<string, string> | null {
  const rest = Object.entries(params).filter(([k]) => k !== 'Body');
  if (rest.some(([k, v]) => hasControlChars(k) || hasControlChars(v))) return null;
  return params.Body === undefined
    ? params
    : { ...params, Body: withoutControlChars(params.Body, 'text') };
}

export function isSigned(
  deps: Pick<Deps, 'config'>,
  req: FastifyRequest,
  params: Record<string, string>,
): boolean {
  const header = req.headers['x-twilio-signature'];
  const signature = typeof header === 'string' ? header : undefined;
  return verifyTwilioSignature(
    deps.config.sms.authToken,
    deps.config.publicUrl + req.url,
    params,
    signature,
  );
}

export async function twilioRoutes(app: FastifyInstance, deps: Deps): Promise<void> {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const reject = (reason: string) => {
    metrics.inc('steady_webhook_rejected_total', { route: 'twilio', reason });
  };

  // Generous (Twilio posts from a pool of addresses): it only stops one host flooding the route.
  const inboundLimit = ipLimit(deps, 'twilio-inbound', INBOUND_LIMIT);

  const controlChars = (reply: FastifyReply) => {
    reject('control_characters');
    return reply
      .code(400)
      .type('text/plain; charset=utf-8')
      .send('A field holds a control character: not a Twilio webhook');
  };

  const inboundOptions = {
    onRequest: inboundLimit,
    config: { ownInputCheck: true },
    ...routeOptions(API.twilioSms, { attachValidation: true }),
  };
  api.post(API.twilioSms.url, inboundOptions, async (req, reply) => {
    let params = formParams(req);
    if (!params || !req.headers['content-type']?.startsWith('application/x-www-form-urlencoded')) {
      reject('bad_request');
      return reply
        .code(400)
        .type('text/plain; charset=utf-8')
        .send('Expected a form-encoded Twilio webhook');
    }
    if (!isSigned(deps, req, params)) {
      reject('bad_signature');
      return reply.code(403).type('text/plain; charset=utf-8').send('Invalid signature');
    }
    params = withoutControls(params);
    if (!params) return controlChars(reply);

    reply.type('text/xml; charset=utf-8');
    const sid = params.MessageSid ?? params.SmsSid;
    const text = params.Body ?? '';
    const phone = checkPhone(
      params.From ?? '',
      deps.config.allowedCountries,
      deps.config.defaultCountry,
    );
    // Numbers we may not message (invalid, premium-rate, other countries) are ignored quietly.
    if (!sid || !/^[A-Za-z0-9]{10,64}$/.test(sid) || !phone.ok || text.length > 1600) {
      reject(!phone.ok ? `phone_${phone.reason}` : 'bad_fields');
      return EMPTY_TWIML;
    }
    const r = await recordInbound(deps, {
      channel: 'sms',
      from: phone.e164,
      to: params.To,
      text,
      providerId: sid,
    });
    if (!r.duplicate) metrics.inc('steady_inbound_total', { channel: 'sms' });
    return EMPTY_TWIML;
  });

  const statusOptions = {
    config: { ownInputCheck: true },
    ...routeOptions(API.twilioStatus, { attachValidation: true }),
  };
  api.post(API.twilioStatus.url, statusOptions, async (req, reply) => {
    let params = formParams(req);
    if (!params) {
      reject('bad_request');
      return reply
        .code(400)
        .type('text/plain; charset=utf-8')
        .send('Expected a form-encoded Twilio webhook');
    }
    if (!isSigned(deps, req, params)) {
      reject('bad_signature');
      return reply.code(403).type('text/plain; charset=utf-8').send('Invalid signature');
    }
    params = withoutControls(params);
    if (!params) return controlChars(reply);

    const status = mapTwilioStatus(params.MessageStatus ?? params.SmsStatus ?? '');
    // A query that fails its schema (a repeated m) names no message of ours.
    const m = req.validationError ? undefined : req.query.m;
    const messageId = m && /^[0-9a-f-]{36}$/.test(m) ? m : undefined;
    if (status) {
      await applyDeliveryStatus(
        deps,
        { messageId, providerId: params.MessageSid },
        status,
        params.ErrorCode,
      );
    }
    return reply.code(204).send();
  });
}
