// Security headers: every answer carries helmet's set (written by hand in src/http/security.ts; the
// list below is helmet 8's defaults plus a Permissions-Policy), HSTS only with an https
// PUBLIC_URL, and a Content-Security-Policy whose script-src has no 'unsafe-inline'. Every HTML
// page a person or an operator sees is fetched here: none has an inline script or an inline event
// handler; each script it loads is a same-origin file that is served, as JavaScript, uncached.
// Pages about a person are not cached either.
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFIRM_TTL_MS } from '../../src/flows/enroll.ts';
import { unsubscribeUrl } from '../../src/flows/compose.ts';
import { buildApp } from '../../src/http/app.ts';
import { routeModules } from '../../src/http/modules.ts';
import { signToken } from '../../src/security/tokens.ts';
import { freshEmail } from '../support/db.ts';
import {
  consoleTestbed,
  flaggedSubscriber,
  freshIp,
  signIn,
  type ConsoleTestbed,
  type Operator,
} from '../admin/helpers.ts';

let t: ConsoleTestbed;
let op: Operator;
let subscriberId: string;
let confirmToken: string;
let unsubscribeToken: string;
let outboxId: string;

beforeAll(async () => {
  // Outbox transports: the local phone and the outbox viewer exist only with them.
  t = await consoleTestbed({ env: { SMS_TRANSPORT: 'outbox', EMAIL_TRANSPORT: 'outbox' } });
  op = await signIn(t);
  // An open flag, so the review and subscriber pages carry their reveal and confirm scripts.
  ({
    sub: { id: subscriberId },
  } = await flaggedSubscriber(t));
  // Someone who signed up and has not confirmed yet: the confirmation page shows its button.
  const email = freshEmail('headers');
  const signup = await t.app.inject({
    method: 'POST',
    url: '/subscribe',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': freshIp() },
    payload: new URLSearchParams({ email, timezone: 'America/Chicago' }).toString(),
  });
  expect(signup.statusCode).toBe(200);
  const { id } = await t.deps.db.subscriber.findUniqueOrThrow({ where: { email } });
  confirmToken = signToken(
    t.config.appSecret,
    'confirm',
    id,
    new Date(t.clock.now().getTime() + CONFIRM_TTL_MS),
  );
  unsubscribeToken = unsubscribeUrl(t.config, id).split('/').pop()!;
  ({ id: outboxId } = await t.deps.db.outboxItem.create({
    data: {
      channel: 'email',
      to: email,
      from: 'Steady <hello@example.com>',
      kind: 'confirm_email',
      subject: 'Please confirm',
      body: 'Confirm: https://steady.example.com/confirm/abc.def',
      html: '<p style="color:#333">Confirm: <a href="https://steady.example.com/confirm/abc.def">here</a></p>',
    },
  }));
}, 60_000);
afterAll(async () => {
  await t?.close();
});

/** helmet 8's default headers (CSP and HSTS checked apart), as this service sets them. */
const HELMET_SET: Record<string, string> = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'origin-agent-cluster': '?1',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-dns-prefetch-control': 'off',
  'x-download-options': 'noopen',
  'x-frame-options': 'DENY',
  'x-permitted-cross-domain-policies': 'none',
  'x-xss-protection': '0',
};

function expectBaseHeaders(res: LightMyRequestResponse, https = true) {
  for (const [name, value] of Object.entries(HELMET_SET))
    expect(res.headers[name], name).toBe(value);
  expect(res.headers['x-powered-by']).toBeUndefined();
  expect(String(res.headers['permissions-policy'])).toMatch(/camera=\(\).*geolocation=\(\)/);
  if (https)
    expect(res.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
  else expect(res.headers['strict-transport-security']).toBeUndefined();
  expect(res.headers['content-security-policy']).toBeDefined();
}

/** The policy as directive name -> its sources. */
function directives(csp: unknown): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const part of String(csp).split(';')) {
    const [name, ...sources] = part.trim().split(/\s+/);
    if (name) map.set(name.toLowerCase(), sources);
  }
  return map;
}

function expectStrictScripts(csp: unknown) {
  const d = directives(csp);
  expect(d.get('default-src')).toEqual(["'self'"]);
  const scripts = d.get('script-src') ?? d.get('default-src')!;
  expect(scripts).toEqual(["'self'"]);
  for (const bad of ["'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", 'https:', 'data:'])
    expect(scripts).not.toContain(bad);
  expect(d.get('script-src-attr')).toEqual(["'none'"]);
  expect(d.get('object-src')).toEqual(["'none'"]);
  expect(d.get('frame-ancestors')).toEqual(["'none'"]);
  expect(d.get('form-action')).toEqual(["'self'"]);
}

/** Opening tags (attribute values are escaped by esc(), so '>' never appears inside them). */
const tags = (html: string) => html.match(/<[a-z][a-z0-9-]*(?:\s[^>]*)?>/gi) ?? [];

/** Every <script> on the page: its attributes and what is written between the tags. */
function scriptsIn(html: string): { attrs: string; body: string }[] {
  return [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)].map((m) => ({
    attrs: m[1]!,
    body: m[2]!,
  }));
}

interface PageCase {
  name: string;
  get: () => Promise<LightMyRequestResponse>;
  status?: number;
  /** Scripts the page must load (so a test of "no inline script" cannot pass on an empty page). */
  scripts?: string[];
}

const anon = (url: string) => () =>
  t.app.inject({ method: 'GET', url, headers: { accept: 'text/html' } });
const signedIn = (url: string) => () => op.get(url);

const PAGES: PageCase[] = [
  { name: '/', get: anon('/'), scripts: ['quick-exit', 'tz-fill', 'tz-suggest'] },
  {
    name: 'POST /subscribe refused (the form again, with its error summary)',
    get: () =>
      t.app.inject({
        method: 'POST',
        url: '/subscribe',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-forwarded-for': freshIp(),
          accept: 'text/html',
        },
        payload: 'email=not-an-address&timezone=America%2FChicago',
      }),
    status: 400,
    scripts: ['quick-exit', 'error-summary', 'tz-fill', 'tz-suggest'],
  },
  {
    name: '/confirm/:token',
    get: () => anon(`/confirm/${confirmToken}`)(),
    scripts: ['quick-exit'],
  },
  {
    name: '/confirm/:token broken (offers a new link)',
    get: anon('/confirm/not-a-token'),
    status: 400,
    scripts: ['quick-exit', 'tz-fill'],
  },
  {
    name: '/unsubscribe/:token',
    get: () => anon(`/unsubscribe/${unsubscribeToken}`)(),
    scripts: ['quick-exit'],
  },
  { name: '/resources', get: anon('/resources'), scripts: ['quick-exit'] },
  { name: '/terms', get: anon('/terms'), scripts: ['quick-exit'] },
  { name: '/privacy', get: anon('/privacy'), scripts: ['quick-exit'] },
  { name: '/admin/login', get: anon('/admin/login') },
  { name: '/admin (signed in)', get: signedIn('/admin'), scripts: ['reveal', 'confirm-submit'] },
  { name: '/admin/optouts', get: signedIn('/admin/optouts'), scripts: ['reveal'] },
  { name: '/admin/subscribers', get: signedIn('/admin/subscribers') },
  {
    name: '/admin/subscribers/:id',
    get: () => signedIn(`/admin/subscribers/${subscriberId}`)(),
    scripts: ['reveal', 'confirm-submit'],
  },
  { name: '/admin/dashboard', get: signedIn('/admin/dashboard') },
  { name: '/dev/phone', get: anon('/dev/phone'), scripts: ['dev-phone'] },
  { name: '/dev/outbox', get: anon('/dev/outbox') },
  { name: '/dev/outbox/:id/view', get: () => anon(`/dev/outbox/${outboxId}/view`)() },
];

describe('every HTML page', () => {
  it.each(PAGES)('$name', async ({ get, status = 200, scripts = [] }) => {
    const res = await get();
    expect(res.statusCode).toBe(status);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expectBaseHeaders(res);
    expectStrictScripts(res.headers['content-security-policy']);
    expect(directives(res.headers['content-security-policy']).get('base-uri')).toEqual(["'none'"]);
    expect(res.headers['cache-control']).toBe('no-store');

    // No inline event handler attribute on any element (onclick=, onload=, ...).
    const handlers = tags(res.body).filter((tag) => /\son[a-z]+\s*=/i.test(tag));
    expect(handlers).toEqual([]);
    expect(res.body).not.toMatch(/javascript:/i);

    // No inline script: each <script> has a src on this site and nothing between its tags (no
    // nonce is needed, so none is given: a nonce would have to match the response's policy).
    const found = scriptsIn(res.body);
    const names: string[] = [];
    for (const s of found) {
      expect(s.body.trim(), 'inline script text').toBe('');
      expect(s.attrs).not.toMatch(/\snonce=/);
      const src = /\ssrc="([^"]+)"/.exec(s.attrs)?.[1];
      expect(src, `a <script> without src: <script${s.attrs}>`).toMatch(
        /^\/assets\/[a-z0-9-]+\.js\?v=[A-Za-z0-9_-]+$/,
      );
      names.push(/^\/assets\/([a-z0-9-]+)\.js/.exec(src!)![1]!);
      const js = await t.app.inject({ method: 'GET', url: src! });
      expect(js.statusCode).toBe(200);
      expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
      expect(js.headers['cache-control']).toBe('no-store');
      expect(js.body).not.toMatch(/\beval\(|new Function\(|<\/?script/);
      expectBaseHeaders(js);
    }
    for (const name of scripts) expect(names).toContain(name);
  });

  it('the policy is the same on every page and answer: nothing looser anywhere', async () => {
    const policies = new Set<string>();
    for (const p of PAGES) policies.add(String((await p.get()).headers['content-security-policy']));
    for (const [method, url] of [
      ['GET', '/healthz'],
      ['GET', '/no-such-page'],
      ['GET', '/admin/api/subscribers'],
      ['POST', '/webhooks/twilio/sms'],
      ['POST', '/webhooks/email/inbound'],
    ] as const)
      policies.add(
        String((await t.app.inject({ method, url })).headers['content-security-policy']),
      );
    expect([...policies]).toHaveLength(1);
  });
});

describe('answers that are not pages', () => {
  it('API answers, webhook refusals, health and 404s carry the same headers', async () => {
    for (const [method, url] of [
      ['GET', '/admin/api/subscribers'],
      ['POST', '/webhooks/twilio/sms'],
      ['POST', '/webhooks/email/inbound'],
      ['GET', '/healthz'],
      ['GET', '/no-such-page'],
      ['GET', '/assets/no-such-script.js'],
    ] as const) {
      const res = await t.app.inject({ method, url });
      expectBaseHeaders(res);
      expectStrictScripts(res.headers['content-security-policy']);
    }
    expect(
      (await t.app.inject({ method: 'GET', url: '/assets/no-such-script.js' })).statusCode,
    ).toBe(404);
    expect((await t.app.inject({ method: 'GET', url: '/assets/..%2fapp.ts' })).statusCode).toBe(
      404,
    );
  });

  it('a route that sets a stricter policy keeps it (the raw email preview)', async () => {
    const res = await t.app.inject({ method: 'GET', url: `/dev/outbox/${outboxId}` });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-security-policy']).toBe(
      "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
    );
    expectBaseHeaders(res);
  });

  it("bull-board's page has its own policy, still with no inline script", async () => {
    const res = await op.get('/admin/queues');
    expect(res.statusCode).toBe(200);
    const d = directives(res.headers['content-security-policy']);
    expect(d.get('base-uri')).toEqual(["'self'"]);
    expectStrictScripts(res.headers['content-security-policy']);
    expectBaseHeaders(res);
    // Its one inline <script> is a JSON data block, which never runs (and no policy blocks).
    const inline = scriptsIn(res.body).filter((s) => !/\ssrc=/.test(s.attrs));
    expect(inline.map((s) => s.attrs.trim())).toEqual([
      'id="__UI_CONFIG__" type="application/json"',
    ]);
  });
});

describe('HSTS and upgrade-insecure-requests follow PUBLIC_URL', () => {
  let plain: FastifyInstance;
  beforeAll(async () => {
    // The same service with an http PUBLIC_URL (a local run).
    plain = await buildApp(
      { ...t.deps, config: { ...t.deps.config, publicUrl: 'http://127.0.0.1:3000' } },
      { modules: routeModules },
    );
  });
  afterAll(async () => {
    await plain?.close();
  });

  it('with an https PUBLIC_URL: HSTS for a year with subdomains, and http: loads upgraded', async () => {
    expect(t.config.publicUrl).toMatch(/^https:\/\//);
    for (const url of ['/', '/healthz', '/admin/login']) {
      const res = await t.app.inject({ method: 'GET', url });
      expectBaseHeaders(res, true);
      expect(
        directives(res.headers['content-security-policy']).has('upgrade-insecure-requests'),
      ).toBe(true);
    }
  });

  it('with an http PUBLIC_URL: neither', async () => {
    for (const url of ['/', '/healthz', '/admin/login']) {
      const res = await plain.inject({ method: 'GET', url });
      expect(res.statusCode).toBe(200);
      expectBaseHeaders(res, false);
      expectStrictScripts(res.headers['content-security-policy']);
      expect(
        directives(res.headers['content-security-policy']).has('upgrade-insecure-requests'),
      ).toBe(false);
    }
  });
});
