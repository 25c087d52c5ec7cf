// Rate limits on the routes anyone can reach: sign-up and console sign-in (per client address,
// tight), the admin API's bearer token (failed attempts, per address), and the inbound webhooks
// (per address, generous). Each answers 429 with Retry-After once over its limit, and other
// addresses are not affected. Redis counts them under a keyed hash, never the plain address.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.ts';
import { LOGIN_LIMIT } from '../../src/http/admin/login.ts';
import { EMAIL_INBOUND_LIMIT } from '../../src/http/email-inbound.ts';
import { SIGNUP_LIMITS } from '../../src/http/email-signup.ts';
import { routeModules } from '../../src/http/modules.ts';
import { INBOUND_LIMIT } from '../../src/http/twilio-routes.ts';
import { harness, type Harness } from '../support/harness.ts';

let h: Harness;
let app: FastifyInstance;
let n = 0;

beforeAll(async () => {
  h = await harness();
  app = await buildApp(h.deps, { modules: routeModules });
});
afterAll(async () => {
  await app?.close();
  await h?.close();
});

/** A fresh client address per test, so the limits of one test do not spill into another. */
const used: string[] = [];
const address = () => {
  const ip = ++n % 2 ? `198.51.100.${n}` : `2001:db8:${n.toString(16)}:77::1`;
  used.push(ip);
  return ip;
};

async function hammer(
  times: number,
  request: (ip: string) => Promise<{ statusCode: number; headers: Record<string, unknown> }>,
  ip: string,
) {
  const codes: number[] = [];
  let last: { statusCode: number; headers: Record<string, unknown> } | undefined;
  for (let i = 0; i < times; i++) {
    last = await request(ip);
    codes.push(last.statusCode);
  }
  return { codes, last: last! };
}

describe('rate limits', () => {
  it(`sign-up: ${SIGNUP_LIMITS.perIp.limit} attempts an hour per address`, async () => {
    const ip = address();
    const signup = (from: string) =>
      app.inject({
        method: 'POST',
        url: '/subscribe',
        remoteAddress: from,
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        payload: JSON.stringify({ email: 'not an address', timezone: 'America/New_York' }),
      });
    const { codes, last } = await hammer(SIGNUP_LIMITS.perIp.limit + 1, signup, ip);
    expect(codes.slice(0, -1).every((c) => c === 400)).toBe(true);
    expect(last.statusCode).toBe(429);
    expect(Number(last.headers['retry-after'])).toBeGreaterThan(0);
    expect((await signup(address())).statusCode).toBe(400);
  });

  it(`console sign-in: ${LOGIN_LIMIT.attempts} attempts per ${LOGIN_LIMIT.windowSec / 60} minutes per address`, async () => {
    const ip = address();
    // Only a post from the real form (its CSRF token and nonce cookie) is an attempt that counts.
    const form = await app.inject({ method: 'GET', url: '/admin/login', remoteAddress: ip });
    const csrf = /name="_csrf" value="([^"]+)"/.exec(form.body)?.[1] ?? '';
    const cookie = String(form.headers['set-cookie']).split(';')[0]!;
    const login = (from: string) =>
      app.inject({
        method: 'POST',
        url: '/admin/login',
        remoteAddress: from,
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
        payload: new URLSearchParams({ token: 'guess', _csrf: csrf }).toString(),
      });
    const { codes, last } = await hammer(LOGIN_LIMIT.attempts + 1, login, ip);
    expect(codes.slice(0, -1).every((c) => c !== 429 && c >= 400)).toBe(true);
    expect(last.statusCode).toBe(429);
    expect(Number(last.headers['retry-after'])).toBeGreaterThan(0);
    expect((await login(address())).statusCode).not.toBe(429);
  });

  it(`admin API: ${LOGIN_LIMIT.attempts} wrong bearer tokens per address, then even the right one waits`, async () => {
    const ip = address();
    const api = (from: string, token: string) =>
      app.inject({
        method: 'GET',
        url: '/admin/api/subscribers',
        remoteAddress: from,
        headers: { authorization: `Bearer ${token}` },
      });
    const { codes, last } = await hammer(
      LOGIN_LIMIT.attempts + 1,
      (from) => api(from, 'a-wrong-guess-0123456789'),
      ip,
    );
    expect(codes.slice(0, -1).every((c) => c === 401)).toBe(true);
    expect(last.statusCode).toBe(429);
    expect(Number(last.headers['retry-after'])).toBeGreaterThan(0);
    // The right token from the same address is refused too until the window passes: otherwise
    // a guesser would keep guessing and learn the token from the one answer that is not 429.
    const right = await api(ip, h.config.adminToken);
    expect(right.statusCode).toBe(429);
    // Another address is not affected (400: the lookup needs ?phone= or ?email=).
    expect((await api(address(), h.config.adminToken)).statusCode).toBe(400);
  });

  it(`inbound SMS webhook: ${INBOUND_LIMIT.requests} requests a minute per address`, async () => {
    const ip = address();
    const post = (from: string) =>
      app.inject({
        method: 'POST',
        url: '/webhooks/twilio/sms',
        remoteAddress: from,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'From=%2B12025550123&Body=hi&MessageSid=SM00000000000000000000000000000000',
      });
    const { codes, last } = await hammer(INBOUND_LIMIT.requests + 1, post, ip);
    expect(codes.slice(0, -1).every((c) => c === 403)).toBe(true); // unsigned
    expect(last.statusCode).toBe(429);
    expect(Number(last.headers['retry-after'])).toBeGreaterThan(0);
    expect((await post(address())).statusCode).toBe(403);
  });

  it(`inbound email webhook: ${EMAIL_INBOUND_LIMIT.requests} requests a minute per address`, async () => {
    const ip = address();
    const post = (from: string) =>
      app.inject({
        method: 'POST',
        url: '/webhooks/email/inbound',
        remoteAddress: from,
        headers: { 'content-type': 'application/json' },
        payload: '{}',
      });
    const { codes, last } = await hammer(EMAIL_INBOUND_LIMIT.requests + 1, post, ip);
    expect(codes.slice(0, -1).every((c) => c === 401)).toBe(true);
    expect(last.statusCode).toBe(429);
    expect((await post(address())).statusCode).toBe(401);
  });

  it('Redis holds no client address in any key or counter (keyed hashes only)', async () => {
    expect(used.length).toBeGreaterThan(4);
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await h.deps.redis.scan(cursor, 'MATCH', `${h.config.redisPrefix}:*`);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    const limits = keys.filter((k) => k.startsWith(`${h.config.redisPrefix}:rl:`));
    expect(limits.length).toBeGreaterThan(4);
    const values = await Promise.all(limits.map((k) => h.deps.redis.get(k)));
    const stored = [...keys, ...values].join('\n');
    for (const ip of used) {
      expect(stored).not.toContain(ip);
      // Nor the /64 an IPv6 address is counted by, nor any dotted quad.
      if (ip.includes(':')) expect(stored).not.toContain(ip.split('::')[0]!);
    }
    expect(stored).not.toMatch(/\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}/);
    expect(stored).not.toMatch(/2001:db8/i);
  });
});
