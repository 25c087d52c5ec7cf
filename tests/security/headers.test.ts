// Security headers: every answer says nosniff, no-referrer and no framing; every HTML page also
// carries a Content-Security-Policy and is not cached (a shared or watched browser must not keep
// pages about a person).
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.ts';
import { routeModules } from '../../src/http/modules.ts';
import { harness, type Harness } from '../support/harness.ts';

let h: Harness;
let app: FastifyInstance;

beforeAll(async () => {
  h = await harness();
  app = await buildApp(h.deps, { modules: routeModules });
});
afterAll(async () => {
  await app?.close();
  await h?.close();
});

const PAGES = [
  '/',
  '/resources',
  '/admin/login',
  '/confirm/not-a-token',
  '/unsubscribe/not-a-token',
  '/admin',
  '/no-such-page',
];

function expectBaseHeaders(headers: Record<string, unknown>) {
  expect(headers['x-content-type-options']).toBe('nosniff');
  expect(headers['referrer-policy']).toBe('no-referrer');
  expect(headers['x-frame-options']).toBe('DENY');
}

describe('security headers', () => {
  it.each(PAGES)('%s (as a browser asks for it)', async (url) => {
    const res = await app.inject({ method: 'GET', url, headers: { accept: 'text/html' } });
    expect(res.statusCode).toBeLessThan(500);
    expectBaseHeaders(res.headers);
    if (String(res.headers['content-type']).startsWith('text/html')) {
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      const csp = String(res.headers['content-security-policy']);
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("base-uri 'none'");
      expect(res.headers['cache-control']).toContain('no-store');
    }
  });

  it('the pages a person sees are HTML with a policy (not a bare JSON error)', async () => {
    for (const url of ['/', '/resources', '/admin/login']) {
      const res = await app.inject({ method: 'GET', url, headers: { accept: 'text/html' } });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-security-policy']).toBeDefined();
    }
  });

  it('API answers and webhook refusals carry the base headers too', async () => {
    for (const [method, url] of [
      ['GET', '/admin/api/subscribers'],
      ['POST', '/webhooks/twilio/sms'],
      ['POST', '/webhooks/email/inbound'],
      ['GET', '/healthz'],
    ] as const) {
      const res = await app.inject({ method, url });
      expectBaseHeaders(res.headers);
    }
  });
});
