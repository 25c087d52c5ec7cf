// Every route under /admin, as registered on the app (not a list kept by hand), refuses a request
// without a session or bearer token: 401, 403, or a 303 to the sign-in page. Only the sign-in page
// itself is open. A forged session cookie or a wrong token is no better than none.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.ts';
import { routeModules } from '../../src/http/modules.ts';
import { harness, type Harness } from '../support/harness.ts';
import { concrete, listRoutes, type RouteEntry } from '../support/routes.ts';

let h: Harness;
let app: FastifyInstance;
let adminRoutes: RouteEntry[];

beforeAll(async () => {
  h = await harness();
  app = await buildApp(h.deps, { modules: routeModules });
  await app.ready();
  adminRoutes = listRoutes(app).filter(
    (r) =>
      (r.url === '/admin' || r.url.startsWith('/admin/')) &&
      // printRoutes also shows Fastify's per-prefix 404 catch-alls ("/admin/queues/*"), which are
      // not routes: a path nothing matches gets the plain 404 page.
      app.findRoute({ method: r.methods[0] as 'GET', url: r.url }) !== null,
  );
});
afterAll(async () => {
  await app?.close();
  await h?.close();
});

/** The sign-in form is the one page meant for people without a session. */
const isSignIn = (url: string, method: string) =>
  url === '/admin/login' && (method === 'GET' || method === 'HEAD');

// 429: wrong tokens from one client are limited (guess-limit.ts), and a limit opens nothing.
const REFUSED = [401, 403, 303, 429];

const attempts = (): { method: string; url: string }[] =>
  adminRoutes.flatMap((r) =>
    r.methods
      .filter((m) => m !== 'HEAD' && !isSignIn(r.url, m))
      .map((method) => ({ method, url: concrete(r.url) })),
  );

describe('the operator console and its API', () => {
  it('has the routes this test expects to walk (the console, the API, the queue dashboard)', () => {
    const urls = adminRoutes.map((r) => r.url);
    expect(urls).toContain('/admin/api/subscribers');
    expect(urls.some((u) => u.startsWith('/admin/queues'))).toBe(true);
    expect(attempts().length).toBeGreaterThan(30);
  });

  it('refuses every route without credentials', async () => {
    const open: string[] = [];
    for (const a of attempts()) {
      for (const accept of ['application/json', 'text/html']) {
        const res = await app.inject({
          method: a.method as 'GET',
          url: a.url,
          headers: { accept, 'content-type': 'application/json' },
          payload: a.method === 'GET' || a.method === 'DELETE' ? undefined : '{}',
        });
        if (!REFUSED.includes(res.statusCode))
          open.push(`${a.method} ${a.url} (${accept}) -> ${res.statusCode}`);
        if (res.statusCode === 303) expect(res.headers.location).toMatch(/^\/admin\/login/);
      }
    }
    expect(open).toEqual([]);
  });

  it('refuses a wrong bearer token and a forged session cookie just the same', async () => {
    const open: string[] = [];
    const forged = [
      { authorization: 'Bearer not-the-admin-token' },
      { authorization: `Bearer ${h.config.adminToken}x` },
      { authorization: `Basic ${Buffer.from(`admin:${h.config.adminToken}`).toString('base64')}` },
      { cookie: 'steady_session=eyJwIjoic2Vzc2lvbiIsInMiOiJvcGVyYXRvciIsImUiOjB9.AAAA' },
      { cookie: 'steady_session=' + 'A'.repeat(500) },
    ];
    for (const a of attempts()) {
      for (const headers of forged) {
        const res = await app.inject({
          method: a.method as 'GET',
          url: a.url,
          headers: { accept: 'application/json', ...headers },
        });
        if (!REFUSED.includes(res.statusCode))
          open.push(`${a.method} ${a.url} ${Object.keys(headers)[0]} -> ${res.statusCode}`);
      }
    }
    expect(open).toEqual([]);
  });

  it('the JSON API answers the real token (so the refusals above are about the credentials)', async () => {
    const res = await app.inject({
      method: 'GET',
      url: '/admin/api/subscribers?phone=%2B12025550123',
      headers: { authorization: `Bearer ${h.config.adminToken}` },
      // Not the address the wrong tokens above came from: that one is rate-limited by now.
      remoteAddress: '192.0.2.77',
    });
    expect([200, 404]).toContain(res.statusCode);
  });
});
