// The only reader of process.env. Every setting has a local default so that `npm run dev` works
// with nothing but Redis and PostgreSQL; a bad value stops start-up with one message that lists
// every bad variable (see ConfigError and main.ts).
import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { z } from 'zod';
import { asClusterUrl, parseRedisUrl } from './redis-url.ts';

const DEV_SECRET = 'dev-only-secret-change-me-0123456789abcdef';
const DEV_ADMIN_TOKEN = 'dev-admin-token-0123';
// The outbox transport still signs and checks the SMS webhook, with this local token.
const DEV_TWILIO_AUTH_TOKEN = 'dev-twilio-auth-token';
// A fixed key: only for local use. Production must set REPLY_ENCRYPTION_KEYS.
const DEV_KEY_BYTES = Buffer.alloc(32, 7);
const DEV_KEY = 'dev:' + DEV_KEY_BYTES.toString('base64');
// Every value above is public (it is in this file), and so are docker-compose.yml's placeholders:
// production refuses each of them for every secret.
const DEV_VALUES = new Set([
  DEV_SECRET,
  DEV_ADMIN_TOKEN,
  DEV_TWILIO_AUTH_TOKEN,
  'change-me-to-a-long-random-string-of-32-chars',
  'change-me-admin-token',
]);

// What people are told about the sender: in production each must be a real value, never these.
const DEV_EMAIL_FROM = 'Steady <hello@example.com>';
const DEV_POSTAL_ADDRESS = 'Steady, 100 Example Street, Washington, DC 20001, USA';
const DEV_SUPPORT_CONTACT = 'help@example.com';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM (24-hour), e.g. 21:00');

/** Quiet hours may be longer than the law's, never shorter: no program message before 08:00 or
 * from 21:00 local, so the configured window must cover 21:00-08:00. It wraps midnight, and what
 * it leaves open (end to start) lies within 08:00-21:00. Malformed values are the schema's. */
function quietHoursChecks(raw: Record<string, string | undefined>): string[] {
  const start = raw.QUIET_HOURS_START ?? '21:00';
  const end = raw.QUIET_HOURS_END ?? '08:00';
  if (!hhmm.safeParse(start).success || !hhmm.safeParse(end).success) return [];
  const min = (v: string) => Number(v.slice(0, 2)) * 60 + Number(v.slice(3));
  if (min(start) > min(end) && min(end) >= 8 * 60 && min(start) <= 21 * 60) return [];
  return [
    `QUIET_HOURS_START, QUIET_HOURS_END (got ${start}-${end}): quiet hours must cover at least 21:00-08:00 local time (no program messages before 08:00 or after 21:00): start at 21:00 or earlier, end at 08:00 or later`,
  ];
}

const url = (protocols: string[]) =>
  z.string().refine(
    (v) => {
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    `must be a URL starting with ${protocols.map((p) => p + '//').join(' or ')}`,
  );

/** SUPPORT_CONTACT: where people ask for help or for their data; shown on the terms and privacy
 * pages and in texts. A web address, an email address or a phone number. */
const contact = z
  .string()
  .trim()
  .refine(
    (v) =>
      /^https?:\/\/[^\s]+$/i.test(v) ||
      /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v) ||
      /^\+?\(?[0-9][0-9 ().-]{5,20}[0-9]$/.test(v),
    'must be a web address (https://...), an email address or a phone number',
  );

const timezone = z.string().refine((tz) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, 'must be an IANA time zone such as America/New_York');

const keyList = z.string().transform((v, ctx) => {
  const keys: { id: string; key: Buffer }[] = [];
  for (const part of v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [id, b64] = part.split(':');
    const key = b64 ? Buffer.from(b64, 'base64') : Buffer.alloc(0);
    if (!id || !/^[A-Za-z0-9_-]+$/.test(id) || key.length !== 32) {
      ctx.addIssue({
        code: 'custom',
        message: 'must be a comma list of keyId:base64 (32-byte keys); the first encrypts',
      });
      return z.NEVER;
    }
    keys.push({ id, key });
  }
  if (keys.length === 0) {
    ctx.addIssue({ code: 'custom', message: 'needs at least one keyId:base64 key' });
    return z.NEVER;
  }
  return keys;
});

/** APP_SECRET: a comma list of secrets, the first signs and every one verifies (rotation). */
const secretList = z.string().transform((v, ctx) => {
  const secrets = v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (secrets.length === 0 || secrets.some((s) => s.length < 32)) {
    ctx.addIssue({
      code: 'custom',
      message: 'must be a comma list of secrets of at least 32 characters each; the first signs',
    });
    return z.NEVER;
  }
  return secrets;
});

const int = (min: number, max: number) =>
  z.coerce
    .number({ error: `must be a whole number from ${min} to ${max}` })
    .int({ error: `must be a whole number from ${min} to ${max}` })
    .min(min, { error: `must be a whole number from ${min} to ${max}` })
    .max(max, { error: `must be a whole number from ${min} to ${max}` });

const schema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  DATABASE_URL: url(['postgresql:', 'postgres:']).default(
    'postgresql://postgres@127.0.0.1:5432/steady',
  ),
  // The same database with no transaction-mode pooler (PgBouncer) in between, for what needs a
  // session: creating and migrating the database. Unset: DATABASE_URL.
  DIRECT_DATABASE_URL: url(['postgresql:', 'postgres:']).optional(),
  // One server (redis://, rediss://) or a Redis Cluster (redis+cluster://host:port,host:port).
  REDIS_URL: z
    .string()
    .superRefine((v, ctx) => {
      try {
        parseRedisUrl(v);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
      }
    })
    .default('redis://127.0.0.1:6379'),
  // 1: REDIS_URL (redis:// or rediss://) names one node of a Redis Cluster.
  REDIS_CLUSTER: bool.default(false),
  REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, - and _ only')
    .default('steady'),
  PORT: int(0, 65535).default(3000),
  HOST: z.string().default('127.0.0.1'),
  // Slow clients: how long a whole request may take to arrive, its headers, and an idle
  // keep-alive connection, before the web server closes the socket.
  HTTP_REQUEST_TIMEOUT_MS: int(100, 600000).default(30000),
  HTTP_HEADERS_TIMEOUT_MS: int(100, 600000).default(10000),
  HTTP_KEEPALIVE_TIMEOUT_MS: int(100, 600000).default(5000),
  PUBLIC_URL: url(['http:', 'https:']).optional(),
  APP_SECRET: secretList.prefault(DEV_SECRET),
  ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').default(DEV_ADMIN_TOKEN),
  SMS_TRANSPORT: z.enum(['outbox', 'twilio']).optional(),
  TWILIO_ACCOUNT_SID: z
    .string()
    .regex(/^AC[0-9a-fA-F]{32}$/, 'must look like AC + 32 hex')
    .optional(),
  TWILIO_AUTH_TOKEN: z.string().min(8).optional(),
  TWILIO_FROM: z
    .string()
    .regex(/^\+[1-9]\d{6,14}$/, 'must be an E.164 number like +12025550100')
    .optional(),
  TWILIO_MESSAGING_SERVICE_SID: z
    .string()
    .regex(/^MG[0-9a-fA-F]{32}$/)
    .optional(),
  // Only for tests and benchmarks: where the Twilio SDK sends its API calls.
  TWILIO_API_BASE: url(['http:', 'https:']).optional(),
  SMS_RATE_PER_SECOND: int(0, 100000).default(0),
  EMAIL_TRANSPORT: z.enum(['outbox', 'smtp']).optional(),
  SMTP_URL: url(['smtp:', 'smtps:']).optional(),
  EMAIL_FROM: z.string().default(DEV_EMAIL_FROM),
  REPLY_DOMAIN: z
    .string()
    .regex(/^[a-z0-9.-]+\.[a-z]{2,}$/i, 'must be a domain name like reply.example.com')
    .default('reply.example.com'),
  BOUNCE_ADDRESS: z.string().email().optional(),
  POSTAL_ADDRESS: z.string().default(DEV_POSTAL_ADDRESS),
  SUPPORT_CONTACT: contact.default(DEV_SUPPORT_CONTACT),
  INBOUND_SMTP_PORT: int(0, 65535).default(2525),
  // Where the inbound SMTP listener binds: 0.0.0.0 to take mail from other hosts (the image).
  INBOUND_SMTP_HOST: z.string().min(1).default('127.0.0.1'),
  // An SMTP connection silent this long is closed; connections at once, in all and per client.
  INBOUND_SMTP_IDLE_TIMEOUT_MS: int(100, 3600000).default(60000),
  INBOUND_SMTP_MAX_CONNECTIONS: int(2, 100000).default(100),
  INBOUND_SMTP_MAX_CONNECTIONS_PER_CLIENT: int(1, 100000).default(10),
  INBOUND_EMAIL_SECRET: z.string().min(16).optional(),
  // The authserv-id of our own relay's Authentication-Results header (sender proof for replies);
  // unset: the first (topmost) such header is trusted.
  INBOUND_AUTHSERV_ID: z
    .string()
    .regex(/^[^\s;()"]+$/, 'one authserv-id, like mx.example.com')
    .optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  // The default program (JOIN, the sign-up form and `enroll` without --program use it).
  PROGRAM: z.string().default('steady'),
  // Programs that run side by side: a comma list of folders in messages/; empty: every folder.
  // PROGRAM must be one of them.
  PROGRAMS: z
    .string()
    .regex(
      /^([a-z0-9][a-z0-9_-]*(,[a-z0-9][a-z0-9_-]*)*)?$/,
      'comma list of program folders, e.g. steady,calm',
    )
    .default(''),
  DEFAULT_TIMEZONE: timezone.default('America/New_York'),
  DEFAULT_COUNTRY: z.string().length(2).default('US'),
  ALLOWED_COUNTRIES: z
    .string()
    .regex(/^[A-Z]{2}(,[A-Z]{2})*$/, 'comma list of ISO country codes, e.g. US,CA')
    .default('US,CA'),
  QUIET_HOURS_START: hhmm.default('21:00'),
  QUIET_HOURS_END: hhmm.default('08:00'),
  CATCHUP_HOURS: z.coerce.number().min(0).max(720).default(3),
  CHECKIN_WINDOW_HOURS: z.coerce.number().min(1).max(720).default(72),
  CHECKIN_REMINDER_HOURS: z.coerce.number().min(1).max(720).default(36),
  REPLY_ENCRYPTION_KEYS: keyList.prefault(DEV_KEY),
  OPERATOR_EMAIL: z.string().email().optional(),
  OPERATOR_WEBHOOK_URL: url(['http:', 'https:']).optional(),
  // An optional second safety reader: POST {text, lang, channel} -> {abuse, self_harm}.
  SAFETY_READER_URL: url(['http:', 'https:']).optional(),
  SAFETY_READER_TIMEOUT_MS: int(50, 10000).default(800),
  RETENTION_DAYS: int(1, 3650).default(90),
  SEND_CONCURRENCY: int(1, 1000).default(50),
  SCHEDULER_BATCH: int(1, 10000).default(500),
  SCHEDULER_INTERVAL_MS: int(50, 600000).default(1000),
  SHUTDOWN_GRACE_MS: int(0, 600000).default(10000),
  // New unconfirmed people per hour, each channel on its own: SMS numbers that text JOIN (the
  // SMS-pumping guard; the name is kept for compatibility) and addresses from the web form.
  PENDING_CAP_PER_HOUR: int(1, 1000000).default(200),
  EMAIL_PENDING_CAP_PER_HOUR: int(1, 1000000).default(200),
  PROGRAM_SPEED: z.coerce.number().min(1).max(100000).default(1),
  DEV_ROUTES: bool.optional(),
  // Behind a reverse proxy: how many hops to trust for the client address (rate limits use it).
  TRUST_PROXY: z.coerce.number().int().min(0).max(10).default(0),
  // Prometheus metrics: every role serves /metrics and /healthz on METRICS_PORT (unset: off, but
  // `dev` uses 9464; 0: a spare port). The web role's public listener serves /metrics only with
  // METRICS_PUBLIC=1, and then only to `Authorization: Bearer <METRICS_TOKEN>`.
  METRICS_PORT: int(0, 65535).optional(),
  METRICS_HOST: z.string().optional(),
  METRICS_PUBLIC: bool.default(false),
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  // Outbound event webhooks (src/webhooks/). WEBHOOKS_ALLOW_PRIVATE lets endpoints be on private,
  // loopback or link-local addresses and plain http (unset: only in development; set it in tests).
  WEBHOOKS_ALLOW_PRIVATE: bool.optional(),
  // How long one delivery may take, the first retry's delay (doubling; 15 attempts span about a
  // day from 5 s), workers per process, and the send backlog above which deliveries wait.
  WEBHOOKS_TIMEOUT_MS: int(100, 60000).default(10000),
  WEBHOOKS_RETRY_BASE_MS: int(10, 3600000).default(5000),
  WEBHOOKS_CONCURRENCY: int(1, 100).default(4),
  WEBHOOKS_SHED_BACKLOG: int(0, 10000000).default(5000),
});

/** Checks that span several variables, on the raw values (so they are reported together with
 * the per-variable problems, not only once those are fixed). */
function crossChecks(raw: Record<string, string | undefined>): string[] {
  const out: string[] = [];
  const sms = raw.SMS_TRANSPORT ?? (raw.TWILIO_ACCOUNT_SID ? 'twilio' : 'outbox');
  if (sms === 'twilio') {
    for (const k of ['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN'])
      if (!raw[k]) out.push(`${k}: is required when SMS_TRANSPORT=twilio`);
    if (!raw.TWILIO_FROM && !raw.TWILIO_MESSAGING_SERVICE_SID)
      out.push(
        'TWILIO_FROM: TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID is required when SMS_TRANSPORT=twilio',
      );
  }
  out.push(...quietHoursChecks(raw));
  const email = raw.EMAIL_TRANSPORT ?? (raw.SMTP_URL ? 'smtp' : 'outbox');
  if (email === 'smtp' && !raw.SMTP_URL)
    out.push('SMTP_URL: is required when EMAIL_TRANSPORT=smtp');
  out.push(...limitChecks(raw));
  out.push(...metricsChecks(raw));
  if (raw.NODE_ENV === 'production') out.push(...productionSecrets(raw), ...productionPublic(raw));
  return out;
}

/** The public /metrics needs a token of its own: never the admin token (a scrape config holding
 * it would open the console), never a public value. */
function metricsChecks(raw: Record<string, string | undefined>): string[] {
  const out: string[] = [];
  const on = ['true', '1', 'yes'].includes(raw.METRICS_PUBLIC ?? '');
  if (on && !raw.METRICS_TOKEN)
    out.push(
      'METRICS_TOKEN: is required when METRICS_PUBLIC=1 (scrapers send it as a bearer token)',
    );
  if (raw.METRICS_TOKEN && raw.METRICS_TOKEN === (raw.ADMIN_TOKEN ?? DEV_ADMIN_TOKEN))
    out.push(
      'METRICS_TOKEN: must differ from ADMIN_TOKEN (a scraper must not hold the admin token)',
    );
  if (raw.METRICS_TOKEN && DEV_VALUES.has(raw.METRICS_TOKEN))
    out.push('METRICS_TOKEN: is a development default, which is public; set a secret of your own');
  const port = raw.METRICS_PORT;
  if (port && port !== '0' && port === (raw.PORT ?? '3000') && !/\D/.test(port))
    out.push(`METRICS_PORT (got "${port}"): must differ from PORT (the public listener)`);
  return out;
}

/** Limits that only make sense in order: the headers arrive within the whole request's time,
 * and one client can never take every SMTP connection. Values that do not parse are reported by
 * the schema, not here. */
function limitChecks(raw: Record<string, string | undefined>): string[] {
  const out: string[] = [];
  const num = (name: string, fallback: number) => Number(raw[name] ?? fallback);
  const headers = num('HTTP_HEADERS_TIMEOUT_MS', 10000);
  const request = num('HTTP_REQUEST_TIMEOUT_MS', 30000);
  if (headers > request)
    out.push(
      `HTTP_HEADERS_TIMEOUT_MS: must not be more than HTTP_REQUEST_TIMEOUT_MS (${headers} > ${request})`,
    );
  const perClient = num('INBOUND_SMTP_MAX_CONNECTIONS_PER_CLIENT', 10);
  const all = num('INBOUND_SMTP_MAX_CONNECTIONS', 100);
  if (perClient >= all)
    out.push(
      `INBOUND_SMTP_MAX_CONNECTIONS_PER_CLIENT: must be less than INBOUND_SMTP_MAX_CONNECTIONS (${perClient} >= ${all}), so one client cannot take every connection`,
    );
  return out;
}

/** Production runs on no public value: every secret is set, and none is a development default
 * (those are in this file, so anyone could sign webhooks or links with them). */
function productionSecrets(raw: Record<string, string | undefined>): string[] {
  const out: string[] = [];
  const list = (v: string | undefined) =>
    (v ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  const one = (v: string | undefined) => (v ? [v] : []);
  const check = (name: string, why: string, values: string[], isDev: (v: string) => boolean) => {
    if (values.length === 0) out.push(`${name}: must be set in production (${why})`);
    else if (values.some(isDev))
      out.push(`${name}: is a development default, which is public; set a secret of your own`);
  };
  const devValue = (v: string) => DEV_VALUES.has(v);
  check(
    'APP_SECRET',
    'it signs links, reply addresses and sessions',
    list(raw.APP_SECRET),
    devValue,
  );
  check('ADMIN_TOKEN', 'it opens the console and the admin API', one(raw.ADMIN_TOKEN), devValue);
  // The SMS webhook is served by every web process (twilio or outbox transport alike): without
  // a token of our own, anyone could sign inbound messages for it.
  check(
    'TWILIO_AUTH_TOKEN',
    'it checks the signature of every inbound SMS webhook',
    one(raw.TWILIO_AUTH_TOKEN),
    devValue,
  );
  check(
    'INBOUND_EMAIL_SECRET',
    'it checks the signature of the inbound email webhook',
    one(raw.INBOUND_EMAIL_SECRET),
    devValue,
  );
  check(
    'REPLY_ENCRYPTION_KEYS',
    'reply text is encrypted with it',
    list(raw.REPLY_ENCRYPTION_KEYS),
    (part) => {
      const b64 = part.split(':')[1];
      return b64 !== undefined && Buffer.from(b64, 'base64').equals(DEV_KEY_BYTES);
    },
  );
  return out;
}

/** Placeholder text a copied example would leave in: "example.com", "Example Street", ...
 * ("example-health.org" is a real name and passes). */
const EXAMPLE = /\bexample\.(?:com|org|net|edu)\b|\bexample\s+(?:street|st|road|avenue|ave)\b/i;

/** Production tells people who is writing to them, truthfully: the sender, the postal address in
 * every email footer and the support contact on the terms and privacy pages are real values (not
 * unset, not this file's defaults, not example placeholders), and the public address, in every
 * link we send, is https. */
function productionPublic(raw: Record<string, string | undefined>): string[] {
  const out: string[] = [];
  const real = (name: string, why: string, devDefault: string) => {
    const v = raw[name]?.trim();
    if (!v) out.push(`${name}: must be set in production (${why})`);
    else if (v === devDefault || EXAMPLE.test(v))
      out.push(`${name} (got "${v}"): is a development default or an example; set the real value`);
  };
  real('EMAIL_FROM', 'the sender every email shows', DEV_EMAIL_FROM);
  real('POSTAL_ADDRESS', 'the postal address every email footer carries', DEV_POSTAL_ADDRESS);
  real(
    'SUPPORT_CONTACT',
    'the contact the terms and privacy pages and HELP give people',
    DEV_SUPPORT_CONTACT,
  );
  // Production is https (above) and Steady serves plain HTTP, so a proxy stands in front: with
  // TRUST_PROXY unset every client would look like the proxy, and ten wrong tokens from anyone
  // would lock every operator out. Say how many proxy hops to trust (0 only when Steady really
  // faces the internet itself, e.g. TLS terminated by a load balancer that keeps client IPs).
  if (raw.TRUST_PROXY === undefined || raw.TRUST_PROXY.trim() === '')
    out.push(
      'TRUST_PROXY: must be set in production: the number of proxies in front of Steady (1 behind one TLS proxy), so client addresses (sign-in limits) are real',
    );
  // Email replies (a STOP among them) go to reply+...@REPLY_DOMAIN: the default goes nowhere.
  const replyDomain = raw.REPLY_DOMAIN?.trim();
  if (!replyDomain || EXAMPLE.test(replyDomain) || replyDomain === 'reply.example.com')
    out.push(
      'REPLY_DOMAIN: must be set in production to a domain whose mail reaches the SMTP listener (email replies, STOP among them, go there)',
    );
  const publicUrl = raw.PUBLIC_URL?.trim();
  if (!publicUrl)
    out.push('PUBLIC_URL: must be set in production, to the https address people and Twilio use');
  else if (!/^https:\/\//i.test(publicUrl))
    out.push(
      'PUBLIC_URL: must start with https:// in production (links in every message carry it)',
    );
  return out;
}

export type Env = z.output<typeof schema>;

/** Every variable Steady reads, with its default as it would be written in the environment
 * (undefined: no default). .env.example lists exactly these (tools/env-example.ts). */
export function configVariables(): { name: string; default?: string }[] {
  return Object.entries(schema.shape).map(([name, field]) => {
    const def = (field as { _zod: { def: { type: string; defaultValue?: unknown } } })._zod.def;
    const value = def.type === 'default' || def.type === 'prefault' ? def.defaultValue : undefined;
    return { name, default: value === undefined ? undefined : String(value) };
  });
}

/**
 * Lays a `.env` file (KEY=value lines, read as `node --env-file` reads them) under the
 * environment: a variable already set in the environment wins. Returns the names it set. Not read
 * when the environment says NODE_ENV=test, so a developer's .env never reaches the test suite's
 * processes. The command line calls this once, before the configuration is built.
 */
export function loadEnvFile(
  path = '.env',
  env: Record<string, string | undefined> = process.env,
): string[] {
  if (env.NODE_ENV === 'test') return [];
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new ConfigError([`${path}: cannot be read (${(err as Error).message})`]);
  }
  const set: string[] = [];
  for (const [name, value] of Object.entries(parseEnv(text))) {
    if (env[name] !== undefined) continue;
    env[name] = value;
    set.push(name);
  }
  return set;
}

export interface Config {
  env: Env['NODE_ENV'];
  databaseUrl: string;
  /** DIRECT_DATABASE_URL, or DATABASE_URL when unset: what needs a session (migrations). */
  directDatabaseUrl: string;
  /** REDIS_URL; a cluster's is always redis+cluster:// or rediss+cluster:// (REDIS_CLUSTER=1
   * turns a redis:// URL into that), so the URL alone says which client to make (src/redis.ts). */
  redisUrl: string;
  redisPrefix: string;
  port: number;
  host: string;
  /** Slow-client limits of the web server (ms). */
  http: { requestTimeoutMs: number; headersTimeoutMs: number; keepAliveTimeoutMs: number };
  publicUrl: string;
  /** Where people ask for help or about their data (SUPPORT_CONTACT): a URL, email or phone. */
  supportContact: string;
  /** PUBLIC_URL + "/terms" and "/privacy": the pages made from messages/legal/. */
  termsUrl: string;
  privacyUrl: string;
  /** The key that signs (links, reply addresses, sessions) and keys hashes: APP_SECRET's first. */
  appSecret: string;
  /** Every APP_SECRET key, the signing one first: verification accepts any (rotation). */
  appSecrets: readonly string[];
  adminToken: string;
  sms: {
    transport: 'outbox' | 'twilio';
    accountSid?: string;
    authToken: string;
    from?: string;
    messagingServiceSid?: string;
    apiBase?: string;
    ratePerSecond: number;
  };
  email: {
    transport: 'outbox' | 'smtp';
    smtpUrl?: string;
    from: string;
    replyDomain: string;
    bounceAddress: string;
    postalAddress: string;
    inboundSmtpPort: number;
    inboundSmtpHost: string;
    inboundSmtpIdleTimeoutMs: number;
    inboundSmtpMaxConnections: number;
    inboundSmtpMaxConnectionsPerClient: number;
    inboundSecret?: string;
    /** Authentication-Results from this authserv-id only; undefined: the topmost header. */
    inboundAuthservId?: string;
  };
  logLevel: Env['LOG_LEVEL'];
  /** The default program (PROGRAM). */
  program: string;
  /** The live programs (PROGRAMS); empty: every program in messages/. */
  programs: string[];
  defaultTimezone: string;
  defaultCountry: string;
  allowedCountries: string[];
  quietHours: { start: string; end: string };
  catchupHours: number;
  checkinWindowHours: number;
  checkinReminderHours: number;
  encryptionKeys: { id: string; key: Buffer }[];
  operatorEmail?: string;
  operatorWebhookUrl?: string;
  safetyReaderUrl?: string;
  safetyReaderTimeoutMs: number;
  retentionDays: number;
  sendConcurrency: number;
  schedulerBatch: number;
  schedulerIntervalMs: number;
  shutdownGraceMs: number;
  /** New pending SMS numbers per hour (PENDING_CAP_PER_HOUR). */
  pendingCapPerHour: number;
  /** New pending email addresses per hour from the sign-up form (EMAIL_PENDING_CAP_PER_HOUR). */
  emailPendingCapPerHour: number;
  programSpeed: number;
  devRoutes: boolean;
  trustProxy: number;
  /** METRICS_*: port null = no metrics server (dev then uses 9464); host defaults to HOST. */
  metrics: { port: number | null; host: string; public: boolean; token?: string };
  /** WEBHOOKS_*: outbound event webhooks. */
  webhooks: {
    allowPrivate: boolean;
    httpsOnly: boolean;
    timeoutMs: number;
    retryBaseMs: number;
    concurrency: number;
    /** Program sends waiting above which deliveries wait (0: never). */
    shedBacklog: number;
  };
}

export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(
      'Steady cannot start: fix these settings (environment variables) and try again:\n' +
        problems.map((p) => '  - ' + p).join('\n'),
    );
    this.name = 'ConfigError';
  }
}

/** Reads configuration from an environment map (process.env in production, a plain object in tests). */
export function loadConfig(source: Record<string, string | undefined> = process.env): Config {
  // Empty strings mean "not set": a blank line in a .env file should not defeat a default.
  const cleaned = Object.fromEntries(
    Object.entries(source).filter(([k, v]) => k in schema.shape && v !== undefined && v !== ''),
  );
  const parsed = schema.safeParse(cleaned);
  const cross = crossChecks(cleaned);
  if (!parsed.success || cross.length) {
    const issues = parsed.success ? [] : parsed.error.issues;
    const problems = issues.map((i) => {
      const name = String(i.path[0] ?? 'environment');
      const shown =
        name in cleaned && !/SECRET|TOKEN|KEY|URL/.test(name) ? ` (got "${cleaned[name]}")` : '';
      return `${name}${shown}: ${i.message}`;
    });
    throw new ConfigError([...problems, ...cross]);
  }
  const e = parsed.data;
  const smsTransport = e.SMS_TRANSPORT ?? (e.TWILIO_ACCOUNT_SID ? 'twilio' : 'outbox');
  const emailTransport = e.EMAIL_TRANSPORT ?? (e.SMTP_URL ? 'smtp' : 'outbox');
  const publicUrl = (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, '');
  return {
    env: e.NODE_ENV,
    databaseUrl: e.DATABASE_URL,
    directDatabaseUrl: e.DIRECT_DATABASE_URL ?? e.DATABASE_URL,
    redisUrl: e.REDIS_CLUSTER ? asClusterUrl(e.REDIS_URL) : e.REDIS_URL,
    redisPrefix: e.REDIS_PREFIX,
    port: e.PORT,
    host: e.HOST,
    http: {
      requestTimeoutMs: e.HTTP_REQUEST_TIMEOUT_MS,
      headersTimeoutMs: e.HTTP_HEADERS_TIMEOUT_MS,
      keepAliveTimeoutMs: e.HTTP_KEEPALIVE_TIMEOUT_MS,
    },
    publicUrl,
    supportContact: e.SUPPORT_CONTACT,
    termsUrl: `${publicUrl}/terms`,
    privacyUrl: `${publicUrl}/privacy`,
    appSecret: e.APP_SECRET[0]!,
    appSecrets: e.APP_SECRET,
    adminToken: e.ADMIN_TOKEN,
    sms: {
      transport: smsTransport,
      accountSid: e.TWILIO_ACCOUNT_SID,
      // The outbox transport still signs and checks webhooks, with a local token (never in
      // production: productionSecrets requires one there).
      authToken: e.TWILIO_AUTH_TOKEN ?? DEV_TWILIO_AUTH_TOKEN,
      from: e.TWILIO_FROM ?? (smsTransport === 'outbox' ? '+12025550100' : undefined),
      messagingServiceSid: e.TWILIO_MESSAGING_SERVICE_SID,
      apiBase: e.TWILIO_API_BASE,
      ratePerSecond: e.SMS_RATE_PER_SECOND,
    },
    email: {
      transport: emailTransport,
      smtpUrl: e.SMTP_URL,
      from: e.EMAIL_FROM,
      replyDomain: e.REPLY_DOMAIN,
      bounceAddress: e.BOUNCE_ADDRESS ?? `bounces@${e.REPLY_DOMAIN}`,
      postalAddress: e.POSTAL_ADDRESS,
      inboundSmtpPort: e.INBOUND_SMTP_PORT,
      inboundSmtpHost: e.INBOUND_SMTP_HOST,
      inboundSmtpIdleTimeoutMs: e.INBOUND_SMTP_IDLE_TIMEOUT_MS,
      inboundSmtpMaxConnections: e.INBOUND_SMTP_MAX_CONNECTIONS,
      inboundSmtpMaxConnectionsPerClient: e.INBOUND_SMTP_MAX_CONNECTIONS_PER_CLIENT,
      inboundSecret:
        e.INBOUND_EMAIL_SECRET ?? (e.NODE_ENV === 'production' ? undefined : e.APP_SECRET[0]),
      inboundAuthservId: e.INBOUND_AUTHSERV_ID?.toLowerCase(),
    },
    logLevel: e.LOG_LEVEL,
    program: e.PROGRAM,
    programs: e.PROGRAMS.split(',').filter(Boolean),
    defaultTimezone: e.DEFAULT_TIMEZONE,
    defaultCountry: e.DEFAULT_COUNTRY,
    allowedCountries: e.ALLOWED_COUNTRIES.split(','),
    quietHours: { start: e.QUIET_HOURS_START, end: e.QUIET_HOURS_END },
    catchupHours: e.CATCHUP_HOURS,
    checkinWindowHours: e.CHECKIN_WINDOW_HOURS,
    checkinReminderHours: e.CHECKIN_REMINDER_HOURS,
    encryptionKeys: e.REPLY_ENCRYPTION_KEYS,
    operatorEmail: e.OPERATOR_EMAIL,
    operatorWebhookUrl: e.OPERATOR_WEBHOOK_URL,
    safetyReaderUrl: e.SAFETY_READER_URL,
    safetyReaderTimeoutMs: e.SAFETY_READER_TIMEOUT_MS,
    retentionDays: e.RETENTION_DAYS,
    sendConcurrency: e.SEND_CONCURRENCY,
    schedulerBatch: e.SCHEDULER_BATCH,
    schedulerIntervalMs: e.SCHEDULER_INTERVAL_MS,
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    pendingCapPerHour: e.PENDING_CAP_PER_HOUR,
    emailPendingCapPerHour: e.EMAIL_PENDING_CAP_PER_HOUR,
    programSpeed: e.PROGRAM_SPEED,
    // The local outbox and phone show every message: never on in production unless asked for.
    devRoutes:
      e.DEV_ROUTES ??
      (e.NODE_ENV !== 'production' && (smsTransport === 'outbox' || emailTransport === 'outbox')),
    trustProxy: e.TRUST_PROXY,
    metrics: {
      port: e.METRICS_PORT ?? null,
      host: e.METRICS_HOST ?? e.HOST,
      public: e.METRICS_PUBLIC,
      token: e.METRICS_TOKEN,
    },
    webhooks: {
      allowPrivate: e.WEBHOOKS_ALLOW_PRIVATE ?? e.NODE_ENV === 'development',
      httpsOnly: e.NODE_ENV === 'production',
      timeoutMs: e.WEBHOOKS_TIMEOUT_MS,
      retryBaseMs: e.WEBHOOKS_RETRY_BASE_MS,
      concurrency: e.WEBHOOKS_CONCURRENCY,
      shedBacklog: e.WEBHOOKS_SHED_BACKLOG,
    },
  };
}
