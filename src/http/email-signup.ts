// GET / (the sign-up form) and POST /subscribe (form or JSON). The answer is the same whether or
// not the address is known, so the form cannot be used to find out who is subscribed. The contract
// (fields, answers) is API.subscribe in api-schemas.ts: JSON answers go out through its schemas;
// the body is checked here by readSignup, after the per-client limit, so a flood of bad posts is
// still counted and a form post gets the form back with its error.
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Deps } from '../deps.ts';
import { readSignup, signUp } from '../email/signup.ts';
import { pendingCapStatus } from '../flows/enroll.ts';
import { metrics } from '../metrics.ts';
import { API, routeOptions } from './api-schemas.ts';
import { keyedHash } from '../security/crypto.ts';
import { checkInboxPage, signupPage, tooManyPage } from './email-signup-page.ts';
import { evidenceOf, sendPage, wantsJson } from './email-request.ts';
import { pageWords } from './page-words.ts';
import { clientId, rateLimit } from './rate-limit.ts';

/** Attempts allowed per window. Per address: a person retrying is fine, a flood of mail is not. */
export const SIGNUP_LIMITS = {
  perIp: { limit: 10, windowSec: 3600 },
  perAddress: { limit: 5, windowSec: 3600 },
};

export async function emailSignupRoutes(app: FastifyInstance, deps: Deps): Promise<void> {
  // The pages speak the language the form carries (`language`), English for any other value.
  const wordsOf = (language: unknown) => pageWords(deps.content, language);
  const form = (
    values?: Record<string, string | undefined>,
    error?: Parameters<typeof signupPage>[0]['error'],
  ) =>
    signupPage({
      program: deps.programs.get(values?.program ?? '') ?? deps.programs.default,
      defaultZone: deps.config.defaultTimezone,
      words: wordsOf(values?.language),
      values,
      error,
    });

  // `/?program=calm&language=es`: the form for one program, in one language (hidden fields).
  app.get('/', async (req, reply) => {
    const q = (req.query ?? {}) as Record<string, unknown>;
    const program = typeof q.program === 'string' ? deps.programs.get(q.program) : undefined;
    const language =
      typeof q.language === 'string' && (program ?? deps.programs.default).locales[q.language]
        ? q.language
        : undefined;
    return sendPage(reply, 200, form({ program: program?.key, language }));
  });

  app.post(API.subscribe.url, routeOptions(API.subscribe), async (req, reply) => {
    const json = wantsJson(req);
    const language = (req.body as Record<string, unknown> | undefined)?.language;
    const tooMany = (retryAfter: number, scope: string): FastifyReply => {
      metrics.inc('steady_signup_cap_hits_total', { cap: `email_${scope}` });
      reply.header('Retry-After', String(retryAfter));
      if (json)
        return reply.code(429).send({
          error: 'rate_limited',
          message: 'Too many sign-up attempts; please try again later.',
          retryAfter,
        });
      return sendPage(reply, 429, tooManyPage(wordsOf(language), retryAfter));
    };

    const byIp = await rateLimit(
      deps,
      `signup:ip:${clientId(deps, req.ip)}`,
      SIGNUP_LIMITS.perIp.limit,
      SIGNUP_LIMITS.perIp.windowSec,
    );
    if (!byIp.ok) return tooMany(byIp.retryAfter, 'ip');

    const check = readSignup(req.body, deps.config.defaultTimezone, deps.programs);
    if (!check.ok) {
      if (json)
        return reply
          .code(400)
          .send({ error: `invalid_${check.field}`, field: check.field, message: check.message });
      const b = (req.body ?? {}) as Record<string, unknown>;
      const s = (k: string) =>
        typeof b[k] === 'string' ? (b[k] as string).slice(0, 254) : undefined;
      return sendPage(
        reply,
        400,
        form(
          {
            email: s('email'),
            firstName: s('firstName'),
            timezone: s('timezone'),
            program: s('program'),
            language: s('language'),
          },
          check,
        ),
      );
    }

    // Keyed by a hash: Redis never holds the address itself.
    const addrKey = keyedHash(deps.config.appSecret, check.value.email).slice(0, 32);
    const byAddr = await rateLimit(
      deps,
      `signup:addr:${addrKey}`,
      SIGNUP_LIMITS.perAddress.limit,
      SIGNUP_LIMITS.perAddress.windowSec,
    );
    if (!byAddr.ok) return tooMany(byAddr.retryAfter, 'address');

    // The hourly cap on new pending addresses (EMAIL_PENDING_CAP_PER_HOUR), asked of everyone
    // alike so the answer never tells a known address from a new one. enroll() checks it again
    // under a lock; a sign-up that loses that race gets the usual answer and no email.
    const cap = await pendingCapStatus(deps.db, deps.config, 'email', deps.clock.now());
    if (cap.full) return tooMany(cap.retryAfter, 'pending_per_hour');

    await signUp(deps, check.value, evidenceOf(req, 'web_form', deps.clock.now()));
    return json
      ? reply.send({ ok: true })
      : sendPage(reply, 200, checkInboxPage(wordsOf(language)));
  });
}
