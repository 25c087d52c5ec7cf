// Security headers: one hand-written onSend hook, not @fastify/helmet. Why:
// - Our policy differs from helmet's defaults in most of its parts: frame-ancestors 'none' and
//   X-Frame-Options DENY (helmet: 'self' / SAMEORIGIN), base-uri 'none' (helmet: 'self'), no
//   `https:` for styles and fonts (helmet allows any https origin; we load nothing from another
//   site, so no third party learns that a page of ours was opened), HSTS and
//   upgrade-insecure-requests only when PUBLIC_URL is https (helmet sends both always, which
//   breaks a plain-http local run), a Permissions-Policy (helmet has none), no-store on pages, and
//   a looser policy for bull-board's page (its markup needs base-uri 'self'). Configuring helmet
//   to all that is as long as writing the headers, and adds two packages (helmet,
//   fastify-plugin) to audit and keep current.
// - Scripts need no nonces: every page script is a file under /assets (src/http/assets.ts), so
//   script-src is 'self' alone and the hook never needs to reach into page rendering. Helmet's
//   one Fastify-specific feature (enableCSPNonces) would go unused.
// - Helmet sets headers in onRequest, before the route runs; the Cache-Control for pages depends
//   on the answer's content type, which only onSend knows, so a hook would stay anyway.
// What helmet 8 sets by default, each here: Content-Security-Policy, Cross-Origin-Opener-Policy,
// Cross-Origin-Resource-Policy, Origin-Agent-Cluster, Referrer-Policy, Strict-Transport-Security,
// X-Content-Type-Options, X-DNS-Prefetch-Control, X-Download-Options, X-Frame-Options,
// X-Permitted-Cross-Domain-Policies, X-XSS-Protection (0: the old filter is off), and no
// X-Powered-By (Fastify sends none). tests/security/headers.test.ts checks that list, so a header
// dropped here fails a test; when helmet adds one, add it here.
//
// Styles keep 'unsafe-inline': pages, charts (SVG) and the console use style attributes and
// <style> blocks, and bull-board's own markup does too. CSS cannot run script; and with
// default-src, img-src and font-src limited to 'self' (and form-action 'self'), an injected style
// could not send anything off the site. Scripts have no 'unsafe-inline', no 'unsafe-eval', and
// script-src-attr 'none' forbids inline handlers (onclick=...). JSON answers are not a way around
// 'self': nosniff makes a browser refuse to run anything not served as JavaScript.
import type { FastifyInstance, FastifyRequest } from 'fastify';

/** The policy's parts, shared by the page policy and bull-board's. */
const DIRECTIVES: Record<string, string> = {
  'default-src': "'self'",
  'script-src': "'self'",
  'script-src-attr': "'none'",
  'style-src': "'self' 'unsafe-inline'",
  'img-src': "'self' data:",
  'font-src': "'self'",
  'object-src': "'none'",
  'base-uri': "'none'",
  'form-action': "'self'",
  'frame-ancestors': "'none'",
};

const policy = (d: Record<string, string>): string =>
  Object.entries(d)
    .map(([k, v]) => (v ? `${k} ${v}` : k))
    .join('; ');

/** The Content-Security-Policy of every answer; with an https PUBLIC_URL it also upgrades any
 * http: subresource to https. */
export function contentSecurityPolicy(https: boolean): string {
  return policy({ ...DIRECTIVES, ...(https ? { 'upgrade-insecure-requests': '' } : {}) });
}

/** bull-board's page (/admin/queues): its <base href> needs base-uri 'self', its fonts data:.
 * Its only inline script is a JSON data block, which no policy blocks (it never runs). */
export const BOARD_CSP = policy({
  ...DIRECTIVES,
  'base-uri': "'self'",
  'font-src': "'self' data:",
});

/** HSTS for a year, subdomains too; only sent when PUBLIC_URL is https (a browser ignores it
 * over plain http anyway, and a local http run must not be pinned to https). */
export const HSTS = 'max-age=31536000; includeSubDomains';

/** Powerful features no page of ours uses. */
export const PERMISSIONS_POLICY =
  'accelerometer=(), camera=(), display-capture=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), midi=(), payment=(), usb=()';

/** The headers on every answer, whatever its type. */
export function baseHeaders(publicUrl: string): Record<string, string> {
  const https = /^https:\/\//i.test(publicUrl);
  return {
    'Content-Security-Policy': contentSecurityPolicy(https),
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'Origin-Agent-Cluster': '?1',
    'Permissions-Policy': PERMISSIONS_POLICY,
    'Referrer-Policy': 'no-referrer',
    ...(https ? { 'Strict-Transport-Security': HSTS } : {}),
    'X-Content-Type-Options': 'nosniff',
    'X-DNS-Prefetch-Control': 'off',
    'X-Download-Options': 'noopen',
    'X-Frame-Options': 'DENY',
    'X-Permitted-Cross-Domain-Policies': 'none',
    'X-XSS-Protection': '0',
  };
}

export function securityHeaders(app: FastifyInstance, opts: { publicUrl: string }): void {
  const headers = baseHeaders(opts.publicUrl);
  app.addHook('onSend', async (_req, reply, payload) => {
    // A header the route set itself stays (the raw email preview's stricter policy, say).
    for (const [name, value] of Object.entries(headers))
      if (!reply.hasHeader(name)) reply.header(name, value);
    // Pages about a person must not linger in a shared browser's cache.
    if (String(reply.getHeader('content-type') ?? '').startsWith('text/html'))
      reply.header('Cache-Control', 'no-store');
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
