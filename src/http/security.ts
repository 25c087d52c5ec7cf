// Headers every answer carries, and the stricter ones for pages.
import type { FastifyInstance, FastifyRequest } from 'fastify';

export function securityHeaders(app: FastifyInstance): void {
  app.addHook('onSend', async (_req, reply, payload) => {
    reply.header('X-Content-Type-Options', 'nosniff');
    reply.header('Referrer-Policy', 'no-referrer');
    reply.header('X-Frame-Options', 'DENY');
    const type = String(reply.getHeader('content-type') ?? '');
    if (type.startsWith('text/html')) {
      reply.header(
        'Content-Security-Policy',
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
      );
      // Pages about a person must not linger in a shared browser's cache.
      reply.header('Cache-Control', 'no-store');
    }
    return payload;
  });
}

/**
 * Where a browser says a request came from, for state-changing console requests (forms, sign-in):
 * `same` (our own pages; or Sec-Fetch-Site `none`, a request the user started, such as a bookmark),
 * `cross` (another site, including a sibling `same-site` one, or `Origin: null`: refuse it), or
 * `unknown` (neither header: an old browser, curl; the CSRF token alone decides). Sec-Fetch-Site
 * is trusted first (a browser sets it and a page cannot); Origin is compared with PUBLIC_URL's
 * origin and with the origin the request was addressed to.
 */
export function requestSite(req: FastifyRequest, publicUrl: string): 'same' | 'cross' | 'unknown' {
  const site = req.headers['sec-fetch-site'];
  if (typeof site === 'string' && site !== '')
    return site === 'same-origin' || site === 'none' ? 'same' : 'cross';
  const origin = req.headers.origin;
  if (typeof origin !== 'string' || origin === '') return 'unknown';
  let own: string | null = null;
  try {
    own = new URL(publicUrl).origin;
  } catch {
    own = null;
  }
  return origin === own || origin === `${req.protocol}://${req.host}` ? 'same' : 'cross';
}
