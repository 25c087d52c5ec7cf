// Signing in and out. One shared ADMIN_TOKEN opens a 12-hour session. The form carries a CSRF token
// tied to a short-lived cookie, and a browser's Sec-Fetch-Site / Origin must not name another
// site, so another site cannot sign a browser in to a session of its choosing. Only a post that
// passes both checks is an attempt at the token: it is counted per client, then in all
// (guess-limit.ts, shared with the admin API's bearer token), and a wrong token gets the same
// answer every time after a short random delay, so the form cannot be used to guess the token.
// Junk posts are refused before they are counted, so they cannot lock anyone out.
import { createHmac, randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Deps } from '../../deps.ts';
import { matchesAnyKey, safeEqual } from '../../security/crypto.ts';
import { esc, page } from '../html.ts';
import { clientId } from '../rate-limit.ts';
import { requestSite } from '../security.ts';
import { safeNext } from './auth.ts';
import { countGuess, GUESS_LIMIT, GUESS_LIMIT_ALL } from './guess-limit.ts';
import { sendPage } from './layout.ts';
import { closeSession, cookieHeader, openSession, parseCookies, readSession } from './session.ts';

const LOGIN_COOKIE = 'steady_login';
const LOGIN_FORM_TTL_SEC = 30 * 60;
/** Per client, and all clients together: the limits on guessing the token (guess-limit.ts). */
export const LOGIN_LIMIT = GUESS_LIMIT;
export const LOGIN_LIMIT_ALL = GUESS_LIMIT_ALL;

const loginCsrf = (secret: string, nonce: string) =>
  createHmac('sha256', secret)
    .update('login-csrf:' + nonce)
    .digest('base64url');

function loginPage(csrf: string, next: string, message?: string): string {
  const alert = message
    ? `<p class="card" role="alert" style="border-color:#b42318;color:#7a271a">${esc(message)}</p>`
    : '';
  return page(
    `<h1>Console sign-in</h1>${alert}
<form method="post" action="/admin/login" class="card">
<input type="hidden" name="_csrf" value="${esc(csrf)}"><input type="hidden" name="next" value="${esc(next)}">
<label for="token">Admin token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<p><button type="submit">Sign in</button></p></form>
<p class="muted">The token is the service's ADMIN_TOKEN setting. Sessions last 12 hours.</p>`,
    { title: 'Sign in · Console', quickExit: false },
  );
}

/** A fresh form: a new nonce cookie and the CSRF token that goes with it. */
function freshForm(deps: Deps, reply: FastifyReply): string {
  const nonce = randomBytes(16).toString('base64url');
  reply.header(
    'Set-Cookie',
    cookieHeader(deps, LOGIN_COOKIE, nonce, {
      path: '/admin/login',
      maxAgeSec: LOGIN_FORM_TTL_SEC,
    }),
  );
  return loginCsrf(deps.config.appSecret, nonce);
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function loginRoutes(app: FastifyInstance, deps: Deps): Promise<void> {
  app.get('/login', async (req, reply) => {
    const next = safeNext((req.query as { next?: string }).next);
    if (await readSession(deps, req)) return reply.code(303).header('Location', next).send();
    return sendPage(reply, loginPage(freshForm(deps, reply), next));
  });

  app.post('/login', async (req: FastifyRequest, reply) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const nonce = parseCookies(req.headers.cookie)[LOGIN_COOKIE];
    const next = safeNext(body.next);
    const csrf = body._csrf;
    // Checked before anything is counted: a post that is not from our own form guesses nothing.
    if (
      requestSite(req, deps.config.publicUrl) === 'cross' ||
      !nonce ||
      typeof csrf !== 'string' ||
      !matchesAnyKey(deps.config.appSecrets, csrf, (k) => loginCsrf(k, nonce))
    )
      return sendPage(
        reply,
        loginPage(freshForm(deps, reply), next, 'This form has expired. Please try again.'),
        403,
      );
    const attempt = await countGuess(deps, req.ip, 'console');
    if (attempt.refused) {
      deps.log.warn({ client: clientId(deps, req.ip) }, 'console sign-in rate limit reached');
      reply.header('Retry-After', String(attempt.refused.retryAfter));
      return sendPage(
        reply,
        loginPage(
          freshForm(deps, reply),
          next,
          'Too many sign-in attempts. Wait a few minutes and try again.',
        ),
        429,
      );
    }
    if (typeof body.token !== 'string' || !safeEqual(body.token, deps.config.adminToken)) {
      // The same words and a similar delay whatever was wrong, so answers tell a guesser nothing.
      await pause(300 + Math.floor(Math.random() * 200));
      deps.log.warn({ client: clientId(deps, req.ip) }, 'console sign-in refused');
      return sendPage(
        reply,
        loginPage(freshForm(deps, reply), next, 'That token did not work. Check it and try again.'),
        401,
      );
    }
    await attempt.succeeded();
    const session = await openSession(deps, reply);
    await deps.db.auditEvent.create({
      data: {
        actor: session.actor,
        action: 'console.sign_in',
        target: 'console',
        detail: { ip: req.ip },
      },
    });
    deps.log.info({ actor: session.actor }, 'console sign-in');
    return reply.code(303).header('Location', next).send();
  });
}

/** Sign-out sits behind the auth hook (it needs the CSRF token like every other form). */
export async function logoutRoute(app: FastifyInstance, deps: Deps): Promise<void> {
  app.post('/logout', async (req, reply) => {
    await closeSession(deps, reply, await readSession(deps, req));
    return reply.code(303).header('Location', '/admin/login').send();
  });
}
