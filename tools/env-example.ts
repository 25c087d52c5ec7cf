// Writes .env.example from the configuration schema in src/config.ts: every variable Steady
// reads, with its default, commented out (a copied file changes nothing until a line is
// uncommented). `npm run env-example` rewrites the file; tests/foundation/env-example.test.ts
// fails when a variable is missing or its default differs.
//   npm run env-example            rewrite .env.example
//   npm run env-example -- --check exit 1 if .env.example is not what this would write
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { configVariables } from '../src/config.ts';
import { ROOT } from '../src/paths.ts';

/** One line of help per variable (README "Configuration" has the long form). */
const HELP: Record<string, string> = {
  NODE_ENV: 'development | test | production (production refuses every public default below)',
  DATABASE_URL: 'PostgreSQL; `dev` creates and migrates the database',
  DIRECT_DATABASE_URL:
    'PostgreSQL without PgBouncer in between, for migrate (unset: DATABASE_URL; README "Behind PgBouncer")',
  REDIS_URL:
    'Redis (redis://, rediss://) or a Redis Cluster (redis+cluster://host:port,host:port); noeviction',
  REDIS_CLUSTER: '1: REDIS_URL (redis:// or rediss://) names one node of a Redis Cluster',
  REDIS_PREFIX: 'key prefix for queues and locks',
  PORT: 'web listener',
  HOST: 'web listener address (0.0.0.0 in the image)',
  HTTP_REQUEST_TIMEOUT_MS: 'a request must arrive whole within this long',
  HTTP_HEADERS_TIMEOUT_MS: 'its headers within this long (not more than the above)',
  HTTP_KEEPALIVE_TIMEOUT_MS: 'idle keep-alive connections close after this long',
  PUBLIC_URL: 'the URL people and Twilio use (unset: http://localhost:$PORT); https in production',
  APP_SECRET:
    'secret[,older,...], 32+ characters each; the first signs. The default is public: production refuses it',
  ADMIN_TOKEN: 'operator console and admin API token. The default is public: production refuses it',
  SMS_TRANSPORT: 'outbox | twilio (unset: twilio when TWILIO_ACCOUNT_SID is set, else outbox)',
  TWILIO_ACCOUNT_SID: 'AC + 32 hex',
  TWILIO_AUTH_TOKEN: 'also checks webhook signatures; required in production',
  TWILIO_FROM: 'sender number (E.164), or set TWILIO_MESSAGING_SERVICE_SID',
  TWILIO_MESSAGING_SERVICE_SID: 'MG + 32 hex',
  TWILIO_API_BASE: 'tests and benchmarks only: where the Twilio SDK sends its calls',
  SMS_RATE_PER_SECOND: 'provider rate across all workers (0: no limit)',
  EMAIL_TRANSPORT: 'outbox | smtp (unset: smtp when SMTP_URL is set, else outbox)',
  SMTP_URL: 'e.g. smtp://user:pass@smtp.example.com:587',
  EMAIL_FROM: 'sender; a real value in production',
  REPLY_DOMAIN: 'replies go to reply+<token>@REPLY_DOMAIN',
  BOUNCE_ADDRESS: 'envelope sender (unset: bounces@$REPLY_DOMAIN)',
  POSTAL_ADDRESS: 'in every email footer; a real value in production',
  SUPPORT_CONTACT: 'a web address, email address or phone number; a real value in production',
  INBOUND_SMTP_PORT: 'the built-in SMTP listener for replies and bounces',
  INBOUND_SMTP_HOST: 'where it binds (0.0.0.0 in the image, to take mail from the MX)',
  INBOUND_SMTP_IDLE_TIMEOUT_MS: 'a silent SMTP connection is closed after this long',
  INBOUND_SMTP_MAX_CONNECTIONS: 'SMTP connections at once, in all',
  INBOUND_SMTP_MAX_CONNECTIONS_PER_CLIENT: 'and from one client address (lower than the above)',
  INBOUND_EMAIL_SECRET:
    'HMAC secret of POST /webhooks/email/inbound (unset: APP_SECRET outside production)',
  INBOUND_AUTHSERV_ID: "authserv-id of your relay's Authentication-Results header",
  LOG_LEVEL: 'fatal | error | warn | info | debug | trace | silent',
  PROGRAM: 'the default program in messages/ (JOIN, the sign-up form, enroll without --program)',
  PROGRAMS: 'programs that run side by side: comma list of folders in messages/ (empty: every one)',
  DEFAULT_TIMEZONE: 'when a number or form does not tell',
  DEFAULT_COUNTRY: 'when a number does not tell',
  ALLOWED_COUNTRIES: 'phone numbers accepted',
  QUIET_HOURS_START: 'local quiet hours for program messages (never narrower than 21:00-08:00)',
  QUIET_HOURS_END: 'end of quiet hours',
  CATCHUP_HOURS: 'a step later than this after downtime waits for the next day',
  CHECKIN_WINDOW_HOURS: 'check-in reply window',
  CHECKIN_REMINDER_HOURS: 'one reminder after this long',
  REPLY_ENCRYPTION_KEYS:
    'keyId:base64(32 bytes)[,...]; the first encrypts. The default is public: production refuses it',
  OPERATOR_EMAIL: 'where safety alerts go (masked data only)',
  OPERATOR_WEBHOOK_URL: 'where safety alerts go (masked data only)',
  SAFETY_READER_URL: 'optional second safety reader',
  SAFETY_READER_TIMEOUT_MS: 'its time limit',
  RETENTION_DAYS: 'reply text older than this is purged',
  SEND_CONCURRENCY: 'jobs per worker process per queue',
  SCHEDULER_BATCH: 'claim batch size',
  SCHEDULER_INTERVAL_MS: 'scheduler polling interval',
  SHUTDOWN_GRACE_MS: 'how long SIGTERM waits for jobs in flight',
  PENDING_CAP_PER_HOUR: 'new unconfirmed SMS numbers per hour (SMS pumping guard)',
  EMAIL_PENDING_CAP_PER_HOUR: 'new unconfirmed addresses per hour from the web form',
  PROGRAM_SPEED: 'program clock speed (dev --speed)',
  DEV_ROUTES: 'the /dev outbox and phone (unset: on with an outbox transport, never in production)',
  TRUST_PROXY: 'proxy hops to trust for the client address (0: ignore X-Forwarded-For)',
  METRICS_PORT: 'every role serves /metrics and /healthz here (unset: off; dev uses 9464)',
  METRICS_HOST: 'where the metrics listener binds',
  METRICS_PUBLIC: 'also serve /metrics on the public web listener, behind METRICS_TOKEN',
  METRICS_TOKEN: 'bearer token for the public /metrics (not the admin token)',
  WEBHOOKS_ALLOW_PRIVATE:
    'event webhooks may go to private/loopback addresses and plain http (unset: only in development; tests set 1)',
  WEBHOOKS_TIMEOUT_MS: 'one webhook delivery may take this long',
  WEBHOOKS_RETRY_BASE_MS:
    'first retry delay, doubling each time (15 attempts: about a day from 5 s)',
  WEBHOOKS_CONCURRENCY: 'webhook deliveries at once per worker process',
  WEBHOOKS_SHED_BACKLOG: 'program sends waiting above which webhook deliveries wait (0: never)',
};

/** A value as a .env line holds it: quoted when it has spaces, quotes or a #. */
function quote(value: string): string {
  return /[\s#"'`]/.test(value) ? `"${value.replace(/"/g, '\\"')}"` : value;
}

export function renderEnvExample(): string {
  const lines = [
    "# Steady's settings, each with its default. Copy this file to .env and uncomment what you",
    '# change: `npm run dev`, `npm start -- <role>` and every `npm run cli` command read .env from',
    '# the working directory, and a variable set in the environment wins over the file. A line',
    '# left as `# NAME=` has no default. Generated from src/config.ts by `npm run env-example`.',
  ];
  for (const v of configVariables()) {
    lines.push('');
    const help = HELP[v.name];
    if (help) lines.push(`# ${help}`);
    lines.push(`# ${v.name}=${v.default === undefined ? '' : quote(v.default)}`);
  }
  return lines.join('\n') + '\n';
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  const file = join(ROOT, '.env.example');
  const text = renderEnvExample();
  if (process.argv.includes('--check')) {
    const current = (() => {
      try {
        return readFileSync(file, 'utf8');
      } catch {
        return '';
      }
    })();
    if (current !== text) {
      console.error('.env.example is out of date: run `npm run env-example`');
      process.exit(1);
    }
    console.log('.env.example is up to date');
  } else {
    writeFileSync(file, text);
    console.log(`wrote .env.example (${configVariables().length} variables)`);
  }
}
