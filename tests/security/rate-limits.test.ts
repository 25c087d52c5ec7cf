// Rate limits on the routes anyone can reach: sign-up and console sign-in (per client address,
// tight), and the inbound webhooks (per address, generous). Each answers 429 with Retry-After once
// over its limit, and other addresses are not affected.
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
const address = () => `198.51.100.${++n}`;

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
    const login = (from: string) =>
      app.inject({
        method: 'POST',
        url: '/admin/login',
        remoteAddress: from,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'token=guess&_csrf=x',
      });
    const { codes, last } = await hammer(LOGIN_LIMIT.attempts + 1, login, ip);
    expect(codes.slice(0, -1).every((c) => c !== 429 && c >= 400)).toBe(true);
    expect(last.statusCode).toBe(429);
    expect(Number(last.headers['retry-after'])).toBeGreaterThan(0);
    expect((await login(address())).statusCode).not.toBe(429);
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
});
