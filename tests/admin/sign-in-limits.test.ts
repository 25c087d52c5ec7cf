// The sign-in limits cannot be turned against operators: a flood of wrong tokens from one address
// locks out that address only, posts that fail the CSRF or Origin check are not attempts and count
// for nothing, and a flood from many addresses alerts operators and slows clients that have
// failed, but never refuses a client for others' failures. Clients are told apart by their
// connection address (`remoteAddress`; no X-Forwarded-For, so it is what the app sees).
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  GUESS_LIMIT,
  GUESS_LIMIT_ALL,
  PRESSURE_DELAY_MS,
} from '../../src/http/admin/guess-limit.ts';
import { metrics } from '../../src/metrics.ts';
import {
  consoleTestbed,
  cookieHeader,
  cookiesFrom,
  hiddenCsrf,
  signIn,
  type ConsoleTestbed,
} from './helpers.ts';

let t: ConsoleTestbed;
beforeAll(async () => {
  t = await consoleTestbed({ env: { OPERATOR_EMAIL: 'duty@example.com' } });
});
afterAll(() => t?.close());

let n = 0;
/** An address of its own per call (TEST-NET-2 and the IPv6 documentation range). */
const address = () => {
  n++;
  return n % 3
    ? `198.51.${100 + Math.floor(n / 250)}.${n % 250}`
    : `2001:db8:5:${n.toString(16)}::9`;
};

interface Form {
  cookie: string;
  csrf: string;
}

/** The sign-in form, as a browser at `ip` gets it: the nonce cookie and the CSRF token. */
async function loginForm(ip: string): Promise<Form> {
  const res = await t.app.inject({ method: 'GET', url: '/admin/login', remoteAddress: ip });
  return { cookie: cookieHeader(cookiesFrom(res)), csrf: hiddenCsrf(res.body) };
}

function post(
  ip: string,
  fields: Record<string, string>,
  opts: { cookie?: string; headers?: Record<string, string> } = {},
): Promise<LightMyRequestResponse> {
  return t.app.inject({
    method: 'POST',
    url: '/admin/login',
    remoteAddress: ip,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...(opts.cookie ? { cookie: opts.cookie } : {}),
      ...opts.headers,
    },
    payload: new URLSearchParams(fields).toString(),
  });
}

const attempt = (ip: string, form: Form, token: string, headers?: Record<string, string>) =>
  post(ip, { token, _csrf: form.csrf, next: '/admin' }, { cookie: form.cookie, headers });

/** A full sign-in from a new address (GET the form, POST the right token): status and time. */
async function signInFrom(ip: string, headers?: Record<string, string>) {
  const started = Date.now();
  const form = await loginForm(ip);
  const res = await attempt(ip, form, t.config.adminToken, headers);
  return { res, ms: Date.now() - started };
}

/** Runs `count` requests, `width` at a time. */
async function inBatches<T>(count: number, width: number, run: (i: number) => Promise<T>) {
  const out: T[] = [];
  for (let i = 0; i < count; i += width)
    out.push(
      ...(await Promise.all(
        Array.from({ length: Math.min(width, count - i) }, (_, j) => run(i + j)),
      )),
    );
  return out;
}

const allCount = async () =>
  Number((await t.deps.redis.get(`${t.config.redisPrefix}:rl:admin-auth:all`)) ?? 0);

const tally = (codes: number[]) =>
  codes.reduce<Record<number, number>>((m, c) => ((m[c] = (m[c] ?? 0) + 1), m), {});

describe('one address cannot lock out the others', () => {
  it('500 wrong tokens from one address: that address gets 429, another signs in at once', async () => {
    const attacker = address();
    const form = await loginForm(attacker);
    const before = await allCount();
    const limitedBefore = metrics.get('steady_admin_auth_limited_total', { surface: 'console' });
    const codes = (
      await inBatches(500, 50, () => attempt(attacker, form, 'a-wrong-guess-0123456789'))
    ).map((r) => r.statusCode);
    expect(tally(codes)).toEqual({ 401: GUESS_LIMIT.attempts, 429: 500 - GUESS_LIMIT.attempts });
    expect(metrics.get('steady_admin_auth_limited_total', { surface: 'console' })).toBe(
      limitedBefore + 500 - GUESS_LIMIT.attempts,
    );
    // Only what the address's own limit let through counted towards all addresses together.
    expect((await allCount()) - before).toBe(GUESS_LIMIT.attempts);

    const { res, ms } = await signInFrom(address());
    expect(res.statusCode).toBe(303);
    expect(res.headers['set-cookie']).toMatch(/steady_console=/);
    expect(ms).toBeLessThan(1000);

    // The attacker's address stays locked for its window, the right token included.
    const locked = await attempt(attacker, form, t.config.adminToken);
    expect(locked.statusCode).toBe(429);
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('posts without a valid CSRF token are refused (403) and count for nothing', async () => {
    const ip = address();
    const form = await loginForm(ip);
    const before = await allCount();
    const junk = await inBatches(
      500,
      100,
      (i) =>
        i % 3 === 0
          ? post(ip, { token: 'x' }) // no token, no cookie
          : i % 3 === 1
            ? post(ip, { token: 'x', _csrf: 'forged' }, { cookie: form.cookie })
            : post(ip, { token: 'x', _csrf: form.csrf }), // the token without its nonce cookie
    );
    expect(new Set(junk.map((r) => r.statusCode))).toEqual(new Set([403]));
    expect(await allCount()).toBe(before);
    // The same address still has every one of its attempts: it signs in at once.
    const started = Date.now();
    const ok = await attempt(ip, form, t.config.adminToken);
    expect(ok.statusCode).toBe(303);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe('Origin and Sec-Fetch-Site', () => {
  it('refuses a sign-in from another site (403), even with the right token and CSRF', async () => {
    const before = await allCount();
    for (const headers of <Record<string, string>[]>[
      { origin: 'https://evil.example' },
      { origin: 'null' },
      { origin: 'https://steady.example.com.evil.example' },
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
      { 'sec-fetch-site': 'cross-site', origin: 'https://steady.example.com' },
    ]) {
      const { res } = await signInFrom(address(), headers);
      expect(res.statusCode, JSON.stringify(headers)).toBe(403);
      expect(String(res.headers['set-cookie'])).not.toMatch(/steady_console=/);
    }
    // Refused before counting.
    expect(await allCount()).toBe(before);
  });

  it('accepts our own origin, a request the user started, and an old client without either', async () => {
    for (const headers of <Record<string, string>[]>[
      { origin: 'https://steady.example.com' },
      { 'sec-fetch-site': 'same-origin', origin: 'https://steady.example.com' },
      { 'sec-fetch-site': 'none' },
      { origin: 'http://localhost:80' }, // the address the request was sent to
      {},
    ]) {
      const { res } = await signInFrom(address(), headers);
      expect(res.statusCode, JSON.stringify(headers)).toBe(303);
    }
  });

  it('refuses console forms from another site even with the session and its CSRF token', async () => {
    const op = await signIn(t);
    const search = (headers: Record<string, string>) =>
      op.post('/admin/subscribers/search', { contact: 'nobody-at-all@example.com' }, { headers });
    for (const headers of <Record<string, string>[]>[
      { origin: 'https://evil.example' },
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
    ])
      expect((await search(headers)).statusCode, JSON.stringify(headers)).toBe(403);
    for (const headers of <Record<string, string>[]>[
      { origin: 'https://steady.example.com' },
      { 'sec-fetch-site': 'same-origin' },
      {},
    ])
      expect((await search(headers)).statusCode, JSON.stringify(headers)).toBe(200);
    // Signing out from another site is refused too; from our page it works.
    expect(
      (await op.post('/admin/logout', {}, { headers: { origin: 'https://evil.example' } }))
        .statusCode,
    ).toBe(403);
    expect(
      (await op.post('/admin/logout', {}, { headers: { 'sec-fetch-site': 'same-origin' } }))
        .statusCode,
    ).toBe(303);
  });
});

// Last in the file: it puts this file's sign-in count (its own Redis prefix) over the total limit.
describe('many addresses together', () => {
  it('never refuses a client that has not failed: slows those that have, alerts operators once', async () => {
    const form = await loginForm(address());
    const alertsBefore = t.email.sent.filter((m) => m.kind === 'operator_alert').length;
    const pressureBefore = metrics.get('steady_admin_auth_pressure_total', { surface: 'console' });
    const over = GUESS_LIMIT_ALL.attempts - (await allCount()) + 20;
    const codes = (
      await inBatches(over, 100, () => attempt(address(), form, 'a-wrong-guess-0123456789'))
    ).map((r) => r.statusCode);
    // No address had failed before: none is refused, each only told its token was wrong.
    expect(tally(codes)).toEqual({ 401: over });
    expect(
      metrics.get('steady_admin_auth_pressure_total', { surface: 'console' }) - pressureBefore,
    ).toBeGreaterThanOrEqual(20);

    // The operator, from an address of their own, signs in at once.
    const { res, ms } = await signInFrom(address());
    expect(res.statusCode).toBe(303);
    expect(ms).toBeLessThan(1000);
    // Even after a typo: the second try is slowed a little (on top of a wrong token's own
    // delay for the first), never refused.
    const typo = address();
    const typoForm = await loginForm(typo);
    expect((await attempt(typo, typoForm, 'a-typo-in-the-token-0123')).statusCode).toBe(401);
    const started = Date.now();
    expect((await attempt(typo, typoForm, t.config.adminToken)).statusCode).toBe(303);
    const slowed = Date.now() - started;
    expect(slowed).toBeGreaterThanOrEqual(PRESSURE_DELAY_MS.min - 10);
    expect(slowed).toBeLessThan(1000);
    // The API's right token from a new address is answered too (400: the lookup needs a query).
    const api = await t.app.inject({
      method: 'GET',
      url: '/admin/api/subscribers',
      remoteAddress: address(),
      headers: { authorization: `Bearer ${t.config.adminToken}` },
    });
    expect(api.statusCode).toBe(400);

    // Operators are alerted once for the window, with no address in the alert.
    await expect
      .poll(() => t.email.sent.filter((m) => m.kind === 'operator_alert').length - alertsBefore)
      .toBe(1);
    const alert = t.email.sent.filter((m) => m.kind === 'operator_alert').at(-1)!;
    expect(alert.to).toBe('duty@example.com');
    expect(alert.subject).toMatch(/sign-in/i);
    expect(alert.text).not.toMatch(/198\.51\.|2001:db8/);
    await attempt(address(), form, 'another-wrong-guess-0123');
    expect(t.email.sent.filter((m) => m.kind === 'operator_alert').length - alertsBefore).toBe(1);
  });
});
