// POST /webhooks/email/inbound: inbound email from a provider that turns mail into HTTP.
//
// Body (application/json, at most 1 MB):
//   { "from": "Jane <jane@example.org>",          the From header (name optional)
//     "to": "reply+<hex>.<mac>@REPLY_DOMAIN",     string or array: the recipient address(es)
//     "subject": "Re: ...",                        optional
//     "text": "4\n\nOn Mon ... wrote:\n> ...",     the text part as received (quotes included)
//     "messageId": "<abc@mail.example.org>",      the Message-ID: a replay is recorded once
//     "authenticationResults": "mx.example.com; dmarc=pass header.from=example.org" }
//        optional: the value(s) of the Authentication-Results header(s) the provider added (a
//        string, or an array topmost first; the header name in front is allowed). Read as on
//        the SMTP listener (src/email/auth-results.ts, INBOUND_AUTHSERV_ID): a DMARC fail means
//        the reply is recorded but not acted on without an operator. Absent: no verdict ('none').
// Auth: header `X-Steady-Signature: sha256=<hex>`, the HMAC-SHA256 of the raw request body with
// INBOUND_EMAIL_SECRET (defaults to APP_SECRET outside production). Missing or wrong: 401.
// Answers 200 {"ok":true} once accepted, also when the mail is dropped (forged or unknown
// reply address, another sender): the provider must not retry those, and learns nothing.
// A field holding a control character (a NUL Message-ID, say) is refused with 400: the same body
// can never be taken, so a provider must not retry it (a 5xx would have it try for days).
// Bounces and complaints come through the provider's own events, or the SMTP listener.
import { createHmac } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import addressparser from 'nodemailer/lib/addressparser';
import type { Deps } from '../deps.ts';
import { findControlChars } from '../core/control-chars.ts';
import { handleInboundEmail, InvalidInboundEmail } from '../email/handle-inbound-email.ts';
import { metrics } from '../metrics.ts';
import { safeEqual } from '../security/crypto.ts';
import { API, routeOptions } from './api-schemas.ts';
import { ipLimit } from './ip-limit.ts';

const MAX_BODY = 1024 * 1024;

/** Requests per client address per window: generous, it only stops one host flooding the route. */
export const EMAIL_INBOUND_LIMIT = { requests: 600, windowSec: 60 };

export function signInboundBody(secret: string, body: string): string {
  return 'sha256=' + createHmac('sha256', secret).update(body).digest('hex');
}

function signed(secret: string | undefined, req: FastifyRequest, raw: string): boolean {
  const header = req.headers['x-steady-signature'];
  if (!secret || typeof header !== 'string') return false;
  return safeEqual(header.trim().toLowerCase(), signInboundBody(secret, raw));
}

const addresses = (v: unknown): string[] =>
  (Array.isArray(v) ? v : [v])
    .filter((x): x is string => typeof x === 'string')
    .flatMap((x) => addressparser(x, { flatten: true }).map((a) => a.address))
    .filter(Boolean);

/** The optional `authenticationResults` field as header values (topmost first), or null when it
 * is neither a string nor an array of strings. */
function authResultsField(v: unknown): string[] | null {
  if (v === undefined || v === null) return [];
  const list = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(list) || !list.every((x): x is string => typeof x === 'string')) return null;
  return list.map((x) => x.replace(/^\s*authentication-results\s*:/i, ''));
}

export async function emailInboundWebhook(app: FastifyInstance, deps: Deps): Promise<void> {
  await app.register(async (scope) => {
    // The signature covers the exact bytes sent, so this route reads the body as text itself.
    scope.removeContentTypeParser('application/json');
    scope.addContentTypeParser(
      'application/json',
      { parseAs: 'string', bodyLimit: MAX_BODY },
      (_req, body, done) => done(null, body),
    );
    const reject = (reason: string) =>
      metrics.inc('steady_webhook_rejected_total', { route: 'email', reason });

    // The contract is API.emailInbound (api-schemas.ts): its JSON answers go out through their
    // schemas; the body, read as text for the signature, is checked below.
    scope.post(
      API.emailInbound.url,
      {
        bodyLimit: MAX_BODY,
        onRequest: ipLimit(deps, 'email-inbound', EMAIL_INBOUND_LIMIT),
        ...routeOptions(API.emailInbound),
      },
      async (req, reply) => {
        const raw = typeof req.body === 'string' ? req.body : '';
        if (!signed(deps.config.email.inboundSecret, req, raw)) {
          reject('bad_signature');
          return reply
            .code(401)
            .send({ error: 'unauthorized', message: 'Missing or invalid X-Steady-Signature' });
        }
        let body: Record<string, unknown>;
        try {
          const parsed: unknown = JSON.parse(raw);
          if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
            throw new Error('not an object');
          body = parsed as Record<string, unknown>;
        } catch {
          reject('bad_json');
          return reply.code(400).send({
            error: 'bad_request',
            message: 'Expected a JSON object: {from, to, subject, text, messageId}',
          });
        }
        // Checked as sent, before the address parser quietly drops what it cannot read. The
        // text is not checked: it is the person's own words (maybe a STOP or a disclosure), and
        // the handler removes stray control characters from it, as the SMTP door does.
        const bad =
          findControlChars(
            { from: body.from, to: body.to, subject: body.subject, messageId: body.messageId },
            'line',
          ) ?? findControlChars({ authenticationResults: body.authenticationResults }, 'text');
        if (bad) {
          reject('control_characters');
          return reply.code(400).send({
            error: 'invalid_characters',
            message: `${bad.replace(/^\$\./, '')} contains a control character (such as NUL), which is not accepted`,
          });
        }
        const from = addresses(body.from)[0] ?? null;
        const to = addresses(body.to);
        if (!from || to.length === 0 || typeof body.text !== 'string') {
          reject('bad_fields');
          return reply
            .code(400)
            .send({ error: 'bad_request', message: '"from", "to" and "text" are required' });
        }
        const authenticationResults = authResultsField(body.authenticationResults);
        if (!authenticationResults) {
          reject('bad_fields');
          return reply.code(400).send({
            error: 'bad_request',
            message: '"authenticationResults" must be a string or an array of strings',
          });
        }
        try {
          await handleInboundEmail(deps, {
            recipients: to,
            from,
            subject: typeof body.subject === 'string' ? body.subject : '',
            text: body.text,
            messageId: typeof body.messageId === 'string' ? body.messageId : null,
            authenticationResults,
            via: 'webhook',
          });
        } catch (err) {
          if (!(err instanceof InvalidInboundEmail)) throw err;
          reject('invalid_mail');
          return reply.code(400).send({ error: 'bad_request', message: err.message });
        }
        return { ok: true };
      },
    );
  });
}
