// The console's door: every route in a plugin that calls guardConsole needs a live session.
// Pages send a browser to the sign-in form (303); anything else gets 401. State-changing requests
// also need proof they came from our own pages: the CSRF token for our forms, which a browser's
// Sec-Fetch-Site / Origin must not contradict (another site's request is refused even with a
// token; a request with neither header is judged by the token alone), or a same-origin
// Sec-Fetch-Site / Origin for bull-board's fetch() calls (which cannot carry our token).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Deps } from '../../deps.ts';
import { requestSite } from '../security.ts';
import { bindSession, csrfOk, readSession, sessionOf } from './session.ts';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Only console paths, so a crafted link cannot bounce an operator to another site after sign-in. */
export function safeNext(raw: unknown): string {
  const s = typeof raw === 'string' ? raw : '';
  return /^\/admin(\/[\w\-./?=&%]*)?$/.test(s) && !s.startsWith('/admin/login') && !s.includes('//')
    ? s
    : '/admin';
}

const wantsPage = (req: FastifyRequest) =>
  SAFE_METHODS.has(req.method) && /text\/html/.test(req.headers.accept ?? '');

function refuse(reply: FastifyReply, status: number, error: string, message: string) {
  return reply.code(status).header('Cache-Control', 'no-store').send({ error, message });
}

export function guardConsole(
  app: FastifyInstance,
  deps: Deps,
  opts: { check: 'csrf' | 'origin' },
): void {
  app.addHook('onRequest', async (req, reply) => {
    const session = await readSession(deps, req);
    if (!session) {
      if (wantsPage(req))
        return reply
          .code(303)
          .header('Location', `/admin/login?next=${encodeURIComponent(safeNext(req.url))}`)
          .send();
      return refuse(reply, 401, 'unauthorized', 'Sign in at /admin/login first.');
    }
    bindSession(req, session);
  });
  // After the body is parsed, so the form's _csrf field can be read.
  app.addHook('preHandler', async (req, reply) => {
    if (SAFE_METHODS.has(req.method)) return;
    const site = requestSite(req, deps.config.publicUrl);
    const ok =
      opts.check === 'csrf'
        ? site !== 'cross' && csrfOk(deps, sessionOf(req), req)
        : site === 'same';
    if (!ok)
      return refuse(
        reply,
        403,
        'forbidden',
        'This form has expired. Go back, reload the page and try again.',
      );
  });
}
