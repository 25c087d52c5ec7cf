// Console sessions. The cookie holds a signed, expiring session id; Redis holds the live session,
// so signing out (or changing ADMIN_TOKEN) ends it on the server, not just in the browser. Form
// posts carry a CSRF token derived from the session id, so no second secret needs storing.
// Everything here is made with APP_SECRET's first key and checked against every key, so rotating
// the secret does not sign operators out or expire the forms open in their browsers.
import { createHmac, randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Deps } from '../../deps.ts';
import { matchesAnyKey } from '../../security/crypto.ts';
import { signToken, verifyToken } from '../../security/tokens.ts';

export const SESSION_COOKIE = 'steady_console';
export const SESSION_TTL_SEC = 12 * 3600;

export interface ConsoleSession {
  sid: string;
  csrf: string;
  /** Who did it, for audit events: one shared token, so the session stands in for a person. */
  actor: string;
}

type SessionDeps = Pick<Deps, 'config' | 'redis' | 'clock'>;

const hmac = (secret: string, value: string) =>
  createHmac('sha256', secret).update(value).digest('base64url');

const sessionKey = (deps: Pick<Deps, 'config'>, sid: string) =>
  `${deps.config.redisPrefix}:console-session:${sid}`;

// A session is bound to the ADMIN_TOKEN it was opened with: rotating the token signs everyone out.
const tokenFingerprint = (secret: string, deps: Pick<Deps, 'config'>) =>
  hmac(secret, 'admin-token:' + deps.config.adminToken).slice(0, 22);

const csrfWith = (secret: string, sid: string) => hmac(secret, 'csrf:' + sid);

export const csrfFor = (deps: Pick<Deps, 'config'>, sid: string) =>
  csrfWith(deps.config.appSecret, sid);

export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq < 1) continue;
    const name = part.slice(0, eq).trim();
    const raw = part.slice(eq + 1).trim();
    try {
      out[name] = decodeURIComponent(raw);
    } catch {
      out[name] = raw;
    }
  }
  return out;
}

export function cookieHeader(
  deps: Pick<Deps, 'config'>,
  name: string,
  value: string,
  opts: { path: string; maxAgeSec: number },
): string {
  const secure = deps.config.publicUrl.startsWith('https:') ? '; Secure' : '';
  const expires = new Date(Date.now() + opts.maxAgeSec * 1000).toUTCString();
  return `${name}=${encodeURIComponent(value)}; Path=${opts.path}; Max-Age=${opts.maxAgeSec}; Expires=${expires}; HttpOnly; SameSite=Strict${secure}`;
}

export async function openSession(deps: SessionDeps, reply: FastifyReply): Promise<ConsoleSession> {
  const sid = randomBytes(18).toString('base64url');
  await deps.redis.set(
    sessionKey(deps, sid),
    tokenFingerprint(deps.config.appSecret, deps),
    'EX',
    SESSION_TTL_SEC,
  );
  // Expiry uses the wall clock, not deps.clock: a sped-up program clock must not end sessions early.
  const token = signToken(
    deps.config.appSecret,
    'session',
    sid,
    new Date(Date.now() + SESSION_TTL_SEC * 1000),
  );
  reply.header(
    'Set-Cookie',
    cookieHeader(deps, SESSION_COOKIE, token, { path: '/admin', maxAgeSec: SESSION_TTL_SEC }),
  );
  return describe(deps, sid);
}

export async function readSession(
  deps: SessionDeps,
  req: FastifyRequest,
): Promise<ConsoleSession | null> {
  const token = parseCookies(req.headers.cookie)[SESSION_COOKIE];
  if (!token) return null;
  const check = verifyToken(deps.config.appSecrets, 'session', token, new Date());
  if (!check.ok) return null;
  const stored = await deps.redis.get(sessionKey(deps, check.subject)).catch(() => null);
  if (!stored || !matchesAnyKey(deps.config.appSecrets, stored, (k) => tokenFingerprint(k, deps)))
    return null;
  return describe(deps, check.subject);
}

export async function closeSession(
  deps: SessionDeps,
  reply: FastifyReply,
  session: ConsoleSession | null,
): Promise<void> {
  if (session) await deps.redis.del(sessionKey(deps, session.sid)).catch(() => 0);
  reply.header(
    'Set-Cookie',
    cookieHeader(deps, SESSION_COOKIE, '', { path: '/admin', maxAgeSec: 0 }),
  );
}

function describe(deps: Pick<Deps, 'config'>, sid: string): ConsoleSession {
  return {
    sid,
    csrf: csrfFor(deps, sid),
    actor: `console:${hmac(deps.config.appSecret, 'actor:' + sid).slice(0, 8)}`,
  };
}

/** The CSRF token a request carries: the `_csrf` form field, or X-CSRF-Token for fetch(). */
export function csrfOf(req: FastifyRequest): string {
  const body = req.body as Record<string, unknown> | undefined;
  const field = body && typeof body === 'object' ? body._csrf : undefined;
  const header = req.headers['x-csrf-token'];
  return typeof field === 'string' ? field : typeof header === 'string' ? header : '';
}

export const csrfOk = (deps: Pick<Deps, 'config'>, session: ConsoleSession, req: FastifyRequest) =>
  matchesAnyKey(deps.config.appSecrets, csrfOf(req), (k) => csrfWith(k, session.sid));

// Sessions found by the auth hook, per request (a WeakMap keeps the request type untouched).
const bound = new WeakMap<FastifyRequest, ConsoleSession>();
export const bindSession = (req: FastifyRequest, s: ConsoleSession) => void bound.set(req, s);

/** The signed-in session; only called in routes behind the auth hook. */
export function sessionOf(req: FastifyRequest): ConsoleSession {
  const s = bound.get(req);
  if (!s) throw new Error('console route without the auth hook');
  return s;
}
