// Shared set-up for console tests: real Deps (test database, fresh Redis prefix, fake clock), the
// real adapters to the local fake Twilio API and SMTP listener (workers started on demand), the
// app with the real route modules, a signed-in browser's cookie jar, and a person with a flagged
// reply written straight to the database (so these tests do not depend on the classifier).
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { buildApp, type RouteModule } from '../../src/http/app.ts';
import { routeModules } from '../../src/http/modules.ts';
import { encryptText } from '../../src/security/crypto.ts';
import type { Db } from '../../src/db/client.ts';
import type {
  EmailSender,
  OutgoingEmail,
  OutgoingSms,
  SmsSender,
} from '../../src/channels/port.ts';
import { harness, type Harness } from '../support/harness.ts';

export interface ConsoleTestbed extends Harness {
  app: FastifyInstance;
  /** What the real adapters were asked to send (their `kind` included), as well as sent. */
  sms: { sent: OutgoingSms[] };
  email: { sent: OutgoingEmail[] };
}

/** Keeps a copy of each message handed to a real adapter, then sends it through that adapter. */
function recording<S extends SmsSender | EmailSender>(sender: S, sent: unknown[]): S {
  return Object.assign(Object.create(sender) as S, {
    send: (m: never) => (sent.push(m), sender.send(m)),
  });
}

// Area codes no other test file uses, with the fictional 555-01XX lines: freshPhone (tests/support)
// deletes whoever holds the number it picks, which in a shared pool could be another file's person.
const CONSOLE_AREAS = [
  '207',
  '208',
  '209',
  '210',
  '216',
  '217',
  '218',
  '219',
  '224',
  '225',
  '228',
  '229',
  '231',
  '234',
  '239',
  '240',
  '248',
  '251',
  '252',
  '253',
];
const POOL = CONSOLE_AREAS.flatMap((a) =>
  Array.from({ length: 100 }, (_, i) => `+1${a}55501${String(i).padStart(2, '0')}`),
);

/** A number from the console tests' own pool that nobody holds right now (never deletes a live one). */
export async function consolePhone(db: Db): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const phone = POOL[Math.floor(Math.random() * POOL.length)]!;
    if ((await db.subscriber.count({ where: { phone } })) === 0) return phone;
  }
  throw new Error('no free number in the console test pool');
}

export async function consoleTestbed(
  opts: Parameters<typeof harness>[0] & { before?: RouteModule[] } = {},
): Promise<ConsoleTestbed> {
  // Console tests are about pages and the rows and jobs they write, so the workers start only
  // when a test asks for delivery (`startWorkers()`, then `settle()`).
  const h = await harness({ workers: false, ...opts });
  const sms = { sent: [] as OutgoingSms[] };
  const email = { sent: [] as OutgoingEmail[] };
  h.deps.sms = recording(h.deps.sms, sms.sent);
  h.deps.email = recording(h.deps.email, email.sent);
  // People left by earlier runs (untouched for an hour: never those of a file running now). By
  // updatedAt, which Prisma writes from the system clock: createdAt follows each test's own clock
  // (months back), so judging by it deleted the people of console files running at the same time.
  await h.deps.db.subscriber.deleteMany({
    where: { phone: { in: POOL }, updatedAt: { lt: new Date(Date.now() - 3600_000) } },
  });
  const app = await buildApp(h.deps, { modules: [...(opts.before ?? []), ...routeModules] });
  const closeHarness = h.close;
  return Object.assign(h, {
    app,
    sms,
    email,
    async close() {
      await app.close();
      await closeHarness();
    },
  });
}

let ipCounter = Math.floor(Math.random() * 200);
/** A client address of its own, so the sign-in rate limit never crosses between tests. */
export function freshIp(): string {
  ipCounter++;
  return `203.0.${ipCounter % 250}.${1 + Math.floor(Math.random() * 250)}`;
}

/** The name=value pairs a browser would keep from Set-Cookie headers (Max-Age=0 removes). */
export function cookiesFrom(
  res: LightMyRequestResponse,
  jar: Record<string, string> = {},
): Record<string, string> {
  const raw = res.headers['set-cookie'];
  for (const line of Array.isArray(raw) ? raw : raw ? [raw] : []) {
    const [pair] = line.split(';');
    const eq = pair!.indexOf('=');
    const name = pair!.slice(0, eq);
    if (/Max-Age=0/i.test(line)) delete jar[name];
    else jar[name] = pair!.slice(eq + 1);
  }
  return jar;
}

export const cookieHeader = (jar: Record<string, string>) =>
  Object.entries(jar)
    .map(([k, v]) => `${k}=${v}`)
    .join('; ');

export const hiddenCsrf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';

export interface Operator {
  jar: Record<string, string>;
  csrf: string;
  ip: string;
  get(url: string, headers?: Record<string, string>): Promise<LightMyRequestResponse>;
  post(
    url: string,
    fields?: Record<string, string>,
    opts?: { csrf?: boolean; headers?: Record<string, string> },
  ): Promise<LightMyRequestResponse>;
  inject(opts: InjectOptions): Promise<LightMyRequestResponse>;
}

/** Signs in through the real form: GET (nonce cookie + CSRF), then POST the token. */
export async function signIn(t: ConsoleTestbed, token = t.config.adminToken): Promise<Operator> {
  const ip = freshIp();
  const jar: Record<string, string> = {};
  const form = await t.app.inject({
    method: 'GET',
    url: '/admin/login',
    headers: { 'x-forwarded-for': ip },
  });
  cookiesFrom(form, jar);
  const res = await t.app.inject({
    method: 'POST',
    url: '/admin/login',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-forwarded-for': ip,
      cookie: cookieHeader(jar),
    },
    payload: new URLSearchParams({
      token,
      _csrf: hiddenCsrf(form.body),
      next: '/admin',
    }).toString(),
  });
  if (res.statusCode !== 303) throw new Error(`sign-in answered ${res.statusCode}`);
  cookiesFrom(res, jar);
  const landing = await t.app.inject({
    method: 'GET',
    url: '/admin',
    headers: { cookie: cookieHeader(jar), accept: 'text/html' },
  });
  const op: Operator = {
    jar,
    ip,
    csrf: hiddenCsrf(landing.body),
    inject: (o) =>
      t.app.inject({
        ...o,
        headers: {
          'x-forwarded-for': ip,
          cookie: cookieHeader(jar),
          ...(o.headers as Record<string, string>),
        },
      }),
    get: (url, headers = {}) =>
      op.inject({ method: 'GET', url, headers: { accept: 'text/html', ...headers } }),
    post: (url, fields = {}, opts = {}) =>
      op.inject({
        method: 'POST',
        url,
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...opts.headers },
        payload: new URLSearchParams({
          ...fields,
          ...(opts.csrf === false ? {} : { _csrf: op.csrf }),
        }).toString(),
      }),
  };
  return op;
}

export const DISCLOSURE = "2. he took my phone again and said he'd hurt me if I text you";

export interface FlagOptions {
  band?: 'act' | 'ask';
  category?: 'abuse' | 'self_harm';
  risk?: number;
  /** Stored encrypted, as the inbound flow stores it. */
  why?: string[];
  /** Defaults to safety_hold for an `act` flag and active for an `ask` one (no hold). */
  state?: 'active' | 'paused' | 'safety_hold';
}

/** An SMS subscriber with one flagged, encrypted reply: by default an `act` flag with a hold. */
export async function flaggedSubscriber(t: Harness, text = DISCLOSURE, opts: FlagOptions = {}) {
  const band = opts.band ?? 'act';
  const category = opts.category ?? 'abuse';
  const { db } = t.deps;
  const phone = await consolePhone(db);
  const sub = await db.subscriber.create({
    data: { phone, timezone: 'America/New_York', status: 'active', country: 'US' },
  });
  const enrollment = await db.enrollment.create({
    data: {
      subscriberId: sub.id,
      program: t.deps.programs.default.key,
      channel: 'sms',
      state: opts.state ?? (band === 'act' ? 'safety_hold' : 'active'),
      nextStep: 'w1-d3',
      startedAt: new Date(),
    },
  });
  const message = await db.message.create({
    data: {
      subscriberId: sub.id,
      channel: 'sms',
      direction: 'in',
      kind: 'reply',
      status: 'received',
      fromAddr: phone,
      bodyEnc: encryptText(t.config.encryptionKeys, text),
      processedAt: new Date(),
    },
  });
  const flag = await db.safetyFlag.create({
    data: {
      subscriberId: sub.id,
      enrollmentId: enrollment.id,
      messageId: message.id,
      category,
      matched: [`${category}:threat`],
      band,
      risk: opts.risk ?? 0,
      whyEnc: opts.why ? encryptText(t.config.encryptionKeys, JSON.stringify(opts.why)) : null,
    },
  });
  return { phone, sub, enrollment, message, flag };
}
