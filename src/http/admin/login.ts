// Signing in and out. One shared ADMIN_TOKEN opens a 12-hour session. A wrong token gets the same
// answer every time after a short random delay, and attempts are limited per IP address, so the
// form cannot be used to guess the token. The form itself carries a CSRF token tied to a short-
// lived cookie, so another site cannot sign a browser in to a session of its choosing.
import { createHmac, randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Deps } from '../../deps.ts';
import { safeEqual } from '../../security/crypto.ts';
import { esc, page } from '../html.ts';
import { rateLimit } from '../rate-limit.ts';
import { safeNext } from './auth.ts';
import { sendPage } from './layout.ts';
import { closeSession, cookieHeader, openSession, parseCookies, readSession } from './session.ts';

const LOGIN_COOKIE = 'steady_login';
const LOGIN_FORM_TTL_SEC = 30 * 60;
export const LOGIN_LIMIT = { attempts: 10, windowSec: 10 * 60 };
// All addresses together: the client address comes from X-Forwarded-For (trustProxy), which a
// client talking to us directly can vary, so the per-address limit alone does not bound guessing.
export const LOGIN_LIMIT_ALL = { attempts: 200, windowSec: 10 * 60 };

const loginCsrf = (deps: Pick<Deps, 'config'>, nonce: string) =>
  createHmac('sha256', deps.config.appSecret)
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
  return loginCsrf(deps, nonce);
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function loginRoutes(app: FastifyInstance, deps: Deps): Promise<void> {
  app.get('/login', async (req, reply) => {
    const next = safeNext((req.query as { next?: string }).next);
    if (await readSession(deps, req)) return reply.code(303).header('Location', next).send();
    return sendPage(reply, loginPage(freshForm(deps, reply), next));
  });

  app.post('/login', async (req: FastifyRequest, reply) => {
    const [perIp, all] = await Promise.all([
      rateLimit(deps, `console-login:${req.ip}`, LOGIN_LIMIT.attempts, LOGIN_LIMIT.windowSec),
      rateLimit(deps, 'console-login:all', LOGIN_LIMIT_ALL.attempts, LOGIN_LIMIT_ALL.windowSec),
    ]);
    const limit = perIp.ok ? all : perIp;
    if (!limit.ok) {
      deps.log.warn({ ip: req.ip }, 'console sign-in rate limit reached');
      reply.header('Retry-After', String(limit.retryAfter));
      return sendPage(
        reply,
        loginPage(
          freshForm(deps, reply),
          '/admin',
          'Too many sign-in attempts. Wait a few minutes and try again.',
        ),
        429,
      );
    }
    const body = (req.body ?? {}) as Record<string, unknown>;
    const nonce = parseCookies(req.headers.cookie)[LOGIN_COOKIE];
    const next = safeNext(body.next);
    if (!nonce || typeof body._csrf !== 'string' || !safeEqual(body._csrf, loginCsrf(deps, nonce)))
      return sendPage(
        reply,
        loginPage(freshForm(deps, reply), next, 'This form has expired. Please try again.'),
        403,
      );
    if (typeof body.token !== 'string' || !safeEqual(body.token, deps.config.adminToken)) {
      // The same words and a similar delay whatever was wrong, so answers tell a guesser nothing.
      await pause(300 + Math.floor(Math.random() * 200));
      deps.log.warn({ ip: req.ip }, 'console sign-in refused');
      return sendPage(
        reply,
        loginPage(freshForm(deps, reply), next, 'That token did not work. Check it and try again.'),
        401,
      );
    }
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
