// /dev/phone: a local phone for trying Steady without Twilio. Type as the subscriber; what you send
// goes through the real inbound webhook with a valid X-Twilio-Signature (built here exactly as
// Twilio builds it), so signature checks, recording and the reply pipeline all run. Steady's
// answers arrive from the outbox, polled every second.
//
// Only with the SMS outbox and never in production: a page that signs webhooks for any number
// could otherwise forge a STOP, or a disclosure, in someone else's name.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { signTwilioRequest } from '../channels/twilio-webhook.ts';
import { checkPhone } from '../core/phone.ts';
import type { Deps } from '../deps.ts';
import { esc, page } from './html.ts';
import { PHONE_CSS, PHONE_SCRIPT } from './dev-phone-client.ts';

export const DEFAULT_PHONE = '+12025550123';
const WEBHOOK_PATH = '/webhooks/twilio/sms';

export const devPhoneEnabled = (deps: Pick<Deps, 'config'>) =>
  deps.config.devRoutes &&
  deps.config.sms.transport === 'outbox' &&
  deps.config.env !== 'production';

/** Posts one inbound SMS to our own webhook, signed as Twilio signs it. */
export async function sendAsSubscriber(
  app: FastifyInstance,
  deps: Pick<Deps, 'config'>,
  from: string,
  text: string,
) {
  const { config } = deps;
  const params: Record<string, string> = {
    MessageSid: 'SM' + randomBytes(16).toString('hex'),
    AccountSid: config.sms.accountSid ?? 'AC' + '0'.repeat(32),
    From: from,
    To: config.sms.from ?? '+12025550100',
    Body: text,
    NumMedia: '0',
  };
  const res = await app.inject({
    method: 'POST',
    url: WEBHOOK_PATH,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': signTwilioRequest(
        config.sms.authToken,
        config.publicUrl + WEBHOOK_PATH,
        params,
      ),
    },
    payload: new URLSearchParams(params).toString(),
  });
  return { status: res.statusCode, sid: params.MessageSid! };
}

export async function devPhone(app: FastifyInstance, deps: Deps): Promise<void> {
  if (!devPhoneEnabled(deps)) return;

  // JSON only: a cross-site form cannot send it without a CORS preflight we never answer.
  app.post('/dev/phone/send', async (req, reply) => {
    if (!req.headers['content-type']?.startsWith('application/json'))
      return reply.code(415).send({
        error: 'json_only',
        message: 'Send JSON: {"from": "+12025550123", "text": "JOIN"}',
      });
    const body = (req.body ?? {}) as { from?: unknown; text?: unknown };
    const phone = checkPhone(
      String(body.from ?? ''),
      deps.config.allowedCountries,
      deps.config.defaultCountry,
    );
    if (!phone.ok)
      return reply
        .code(400)
        .send({ error: 'invalid_phone', message: `That number is ${phone.message}.` });
    const text = typeof body.text === 'string' ? body.text : '';
    if (!text.trim() || text.length > 1600)
      return reply
        .code(400)
        .send({ error: 'invalid_text', message: 'Type a message of 1 to 1600 characters.' });
    const r = await sendAsSubscriber(app, deps, phone.e164, text);
    if (r.status !== 200)
      return reply
        .code(502)
        .send({ error: 'webhook_refused', message: `The webhook answered ${r.status}.` });
    return { ok: true, from: phone.e164, sid: r.sid, at: new Date().toISOString() };
  });

  app.get('/dev/phone', async (req, reply) => {
    const q = req.query as { number?: string };
    const number =
      typeof q.number === 'string' && /^\+?[\d\s()-]{6,20}$/.test(q.number)
        ? q.number
        : DEFAULT_PHONE;
    return reply.type('text/html; charset=utf-8').send(
      page(
        `<div class="intro"><h1>Local phone</h1>
<p class="muted">Text Steady as a subscriber would. Messages go through the signed Twilio webhook; answers come from the <a href="/dev/outbox">outbox</a>. Try JOIN, then YES.</p></div>
<form id="pick" class="pick" method="get" action="/dev/phone"><label for="number">Your phone number</label>
<div class="row"><input id="number" name="number" type="tel" inputmode="tel" autocomplete="off" value="${esc(number)}"><button class="secondary">Use</button></div></form>
<section class="phone" aria-label="Conversation with ${esc(deps.programs.default.name)}">
<header class="bar"><span class="who">${esc(deps.programs.default.name)}</span><span class="num">${esc(deps.config.sms.from ?? '')}</span></header>
<ol id="thread" class="thread" tabindex="0" aria-label="Conversation history" aria-live="polite" aria-relevant="additions" data-sender="${esc(deps.programs.default.name)}"></ol>
<form id="compose" class="compose"><label for="text" class="sr-only">Message</label>
<textarea id="text" name="text" rows="1" maxlength="1600" placeholder="Text message" required></textarea><button id="send" aria-label="Send">Send</button></form>
</section>
<div class="chips" role="group" aria-label="Quick replies">${['JOIN', 'YES', '4', 'HELP', 'PAUSE', 'STOP', 'START'].map((w) => `<button type="button" class="secondary chip" data-say="${w}">${w}</button>`).join('')}</div>
<p id="status" class="muted" role="status"></p>${PHONE_SCRIPT}`,
        { title: 'Local phone', quickExit: false, head: PHONE_CSS },
      ),
    );
  });
}
