// The console's door: every /admin route refuses a request without a session (401, 303 or 403,
// never 200), forms are refused without their CSRF token, sign-in answers wrong tokens slowly and
// identically, is rate-limited per IP, and signing out ends the session on the server. What the
// limits count and how they hold up under a flood: sign-in-limits.test.ts.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RouteModule } from '../../src/http/app.ts';
import { LOGIN_LIMIT } from '../../src/http/admin/login.ts';
import {
  consoleTestbed,
  cookieHeader,
  cookiesFrom,
  freshIp,
  hiddenCsrf,
  signIn,
  type ConsoleTestbed,
} from './helpers.ts';

const routes: { method: string; url: string }[] = [];
const collector: RouteModule = async (app) => {
  app.addHook('onRoute', (r) => {
    for (const method of [r.method].flat()) routes.push({ method, url: r.url });
  });
};
// Registered before the route modules (so the collector cannot see them): listed by hand.
const API_ROUTES = [
  { method: 'GET', url: '/admin/api/subscribers' },
  { method: 'GET', url: '/admin/api/subscribers/:id' },
  { method: 'POST', url: '/admin/api/subscribers/:id/:action' },
];

const PARAMS: Record<string, string> = {
  id: randomUUID(),
  action: 'stop',
  queueName: 'sms',
  jobId: 'x',
  queueStatus: 'failed',
  schedulerId: 'x',
};
const concrete = (url: string) =>
  url.replace(/:(\w+)/g, (_, p: string) => PARAMS[p] ?? 'x').replace('*', 'js/main.js');

let t: ConsoleTestbed;
beforeAll(async () => {
  t = await consoleTestbed({ before: [collector] });
});
afterAll(() => t?.close());

const adminRoutes = () => [
  ...routes.filter((r) => r.url.startsWith('/admin') && !r.url.startsWith('/admin/login')),
  ...API_ROUTES,
];

describe('without a session', () => {
  it('finds the console routes to walk', () => {
    const urls = adminRoutes().map((r) => `${r.method} ${r.url}`);
    for (const expected of [
      'GET /admin',
      'GET /admin/dashboard',
      'POST /admin/flags/:id/reveal',
      'GET /admin/subscribers/:id',
      'GET /admin/queues',
      'PUT /admin/queues/api/queues/:queueName/retry/:queueStatus',
    ])
      expect(urls).toContain(expected);
  });

  it('refuses every /admin route, page or API, with 401, 303 or 403 and never 2xx', async () => {
    const seen: string[] = [];
    for (const r of adminRoutes()) {
      for (const accept of ['text/html', 'application/json']) {
        const res = await t.app.inject({
          method: r.method as 'GET',
          url: concrete(r.url),
          headers: {
            accept,
            'x-forwarded-for': freshIp(),
            ...(r.method === 'GET' || r.method === 'HEAD'
              ? {}
              : { 'content-type': 'application/json' }),
          },
          ...(r.method === 'GET' || r.method === 'HEAD' ? {} : { payload: '{}' }),
        });
        seen.push(`${r.method} ${r.url} ${accept} -> ${res.statusCode}`);
        expect([303, 401, 403], `${r.method} ${r.url} (${accept})`).toContain(res.statusCode);
        if (res.statusCode === 303) expect(res.headers.location).toMatch(/^\/admin\/login\?next=/);
      }
    }
    expect(seen.length).toBeGreaterThan(40);
  });

  it('sends a browser to the sign-in page and a script a 401', async () => {
    const page = await t.app.inject({
      method: 'GET',
      url: '/admin/dashboard',
      headers: { accept: 'text/html' },
    });
    expect(page.statusCode).toBe(303);
    expect(page.headers.location).toBe('/admin/login?next=%2Fadmin%2Fdashboard');
    const api = await t.app.inject({ method: 'POST', url: '/admin/flags/x/acknowledge' });
    expect(api.statusCode).toBe(401);
  });

  it('ignores a forged or tampered session cookie', async () => {
    const op = await signIn(t);
    const [body, sig] = op.jar.steady_console!.split('.');
    for (const cookie of [
      `steady_console=${body}.${sig!.slice(0, -2)}xx`,
      'steady_console=abc.def',
      `steady_console=${Buffer.from('{"p":"session","s":"x","e":0}').toString('base64url')}.zz`,
    ]) {
      const res = await t.app.inject({
        method: 'GET',
        url: '/admin',
        headers: { cookie, accept: 'text/html' },
      });
      expect(res.statusCode).toBe(303);
    }
  });
});

describe('sign-in', () => {
  it('opens a signed, HttpOnly, SameSite=Strict session that expires, Secure on https', async () => {
    const ip = freshIp();
    const form = await t.app.inject({
      method: 'GET',
      url: '/admin/login',
      headers: { 'x-forwarded-for': ip },
    });
    expect(form.statusCode).toBe(200);
    expect(form.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(form.body).toMatch(/<label for="token">/);
    const jar = cookiesFrom(form);
    const res = await t.app.inject({
      method: 'POST',
      url: '/admin/login',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-forwarded-for': ip,
        cookie: cookieHeader(jar),
      },
      payload: new URLSearchParams({
        token: t.config.adminToken,
        _csrf: hiddenCsrf(form.body),
        next: '/admin/dashboard',
      }).toString(),
    });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/admin/dashboard');
    const cookie = String(res.headers['set-cookie']);
    expect(cookie).toMatch(/^steady_console=[\w-]+\.[\w-]+;/);
    for (const attr of ['HttpOnly', 'SameSite=Strict', 'Secure', 'Path=/admin', 'Max-Age=43200'])
      expect(cookie).toContain(attr);
    const audit = await t.deps.db.auditEvent.findFirst({
      where: { action: 'console.sign_in' },
      orderBy: { at: 'desc' },
    });
    expect(audit?.actor).toMatch(/^console:/);
  });

  it('refuses the form without its CSRF token (403)', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/admin/login',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-forwarded-for': freshIp(),
      },
      payload: new URLSearchParams({ token: t.config.adminToken }).toString(),
    });
    expect(res.statusCode).toBe(403);
    expect(res.headers['set-cookie']).not.toMatch(/steady_console=/);
  });

  it('answers a wrong token slowly and the same way every time', async () => {
    const ip = freshIp();
    const texts: string[] = [];
    for (const token of ['wrong-token-0123456789', t.config.adminToken + 'x', '']) {
      const form = await t.app.inject({
        method: 'GET',
        url: '/admin/login',
        headers: { 'x-forwarded-for': ip },
      });
      const started = Date.now();
      const res = await t.app.inject({
        method: 'POST',
        url: '/admin/login',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-forwarded-for': ip,
          cookie: cookieHeader(cookiesFrom(form)),
        },
        payload: new URLSearchParams({ token, _csrf: hiddenCsrf(form.body) }).toString(),
      });
      expect(Date.now() - started).toBeGreaterThanOrEqual(290);
      expect(res.statusCode).toBe(401);
      expect(String(res.headers['set-cookie'])).not.toMatch(/steady_console=/);
      texts.push(res.body.replace(/value="[^"]*"/g, ''));
    }
    expect(new Set(texts).size).toBe(1);
  });

  it('limits attempts per IP address (429 with Retry-After)', async () => {
    const ip = freshIp();
    const form = await t.app.inject({
      method: 'GET',
      url: '/admin/login',
      headers: { 'x-forwarded-for': ip },
    });
    const payload = new URLSearchParams({ token: 'x', _csrf: hiddenCsrf(form.body) }).toString();
    // In parallel: each attempt is counted before its token is compared, so none slips past.
    const answers = await Promise.all(
      Array.from({ length: LOGIN_LIMIT.attempts + 1 }, () =>
        t.app.inject({
          method: 'POST',
          url: '/admin/login',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            'x-forwarded-for': ip,
            cookie: cookieHeader(cookiesFrom(form)),
          },
          payload,
        }),
      ),
    );
    const statuses = answers.map((r) => r.statusCode);
    expect(statuses.filter((s) => s === 401)).toHaveLength(LOGIN_LIMIT.attempts);
    const limited = answers.filter((r) => r.statusCode === 429);
    expect(limited).toHaveLength(1);
    expect(Number(limited[0]!.headers['retry-after'])).toBeGreaterThan(0);
    // Another address is not affected.
    expect((await signIn(t)).csrf).not.toBe('');
  });
});

describe('with a session', () => {
  it('refuses every console form post without the CSRF token (403)', async () => {
    const op = await signIn(t);
    const posts = routes.filter(
      (r) =>
        r.url.startsWith('/admin') &&
        !r.url.startsWith('/admin/login') &&
        !r.url.startsWith('/admin/queues') &&
        r.method === 'POST',
    );
    expect(posts.length).toBeGreaterThanOrEqual(4);
    for (const r of posts) {
      const res = await op.post(concrete(r.url), { note: 'x' }, { csrf: false });
      expect(res.statusCode, r.url).toBe(403);
      const wrong = await op.post(concrete(r.url), { _csrf: 'not-the-token' }, { csrf: false });
      expect(wrong.statusCode, r.url).toBe(403);
    }
  });

  it('refuses queue-board writes from another origin', async () => {
    const op = await signIn(t);
    const url = '/admin/queues/api/queues/sms/pause';
    expect((await op.inject({ method: 'PUT', url })).statusCode).toBe(403);
    expect(
      (await op.inject({ method: 'PUT', url, headers: { origin: 'https://evil.example' } }))
        .statusCode,
    ).toBe(403);
  });

  it('signs out with the CSRF token and the session stops working', async () => {
    const op = await signIn(t);
    expect((await op.get('/admin')).statusCode).toBe(200);
    expect((await op.post('/admin/logout', {}, { csrf: false })).statusCode).toBe(403);
    const out = await op.post('/admin/logout');
    expect(out.statusCode).toBe(303);
    expect(out.headers.location).toBe('/admin/login');
    // Even a browser that kept the old cookie is signed out: the session is gone from Redis.
    const after = await op.get('/admin');
    expect(after.statusCode).toBe(303);
  });

  it('survives an APP_SECRET rotation: the old session and its forms still work, a dropped key does not', async () => {
    const op = await signIn(t);
    const { appSecret, appSecrets } = t.deps.config;
    try {
      Object.assign(t.deps.config, {
        appSecret: 'a-brand-new-secret-0123456789-0123456789',
        appSecrets: ['a-brand-new-secret-0123456789-0123456789', appSecret],
      });
      expect((await op.get('/admin')).statusCode).toBe(200);
      expect((await op.post('/admin/flags/x/acknowledge', {}, { csrf: false })).statusCode).toBe(
        403,
      );
      expect((await op.post('/admin/flags/x/acknowledge')).statusCode).not.toBe(403);
      Object.assign(t.deps.config, { appSecrets: ['a-brand-new-secret-0123456789-0123456789'] });
      expect((await op.get('/admin')).statusCode).toBe(303);
    } finally {
      Object.assign(t.deps.config, { appSecret, appSecrets });
    }
  });

  it('serves console pages as UTF-8 HTML that is not cached', async () => {
    const op = await signIn(t);
    for (const url of ['/admin', '/admin/subscribers', '/admin/dashboard']) {
      const res = await op.get(url);
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body).toContain('<meta charset="utf-8">');
    }
  });
});
