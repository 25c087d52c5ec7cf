#!/usr/bin/env node
// Smoke test of the built service, as production runs it: `node dist/cli.js <role>` with no
// TypeScript tooling (no tsx, NODE_OPTIONS cleared), in production mode with secrets of its own.
// Builds (unless --no-build), migrates a database of its own (steady_smoke on the test server,
// kept between runs), then starts `serve`, `work` and `schedule` once, each on spare ports with a
// Redis prefix of its own, and checks /healthz on the web listener and /healthz and /metrics on
// each role's METRICS_PORT. SIGTERM then stops each role, which must exit 0. Exit 1 on any failure.
//
//   node tools/smoke-built.mjs [--no-build] [--prod-install DIR]
//
// --prod-install DIR does what the Dockerfile's run stage does: copies dist/, messages/, prisma/
// and package*.json to DIR, installs production dependencies only (`npm ci --omit=dev
// --ignore-scripts`) and runs the roles from there, so nothing outside the image's files is used.
//
// SMOKE_DATABASE_URL and SMOKE_REDIS_URL override the services (defaults: TEST_DATABASE_URL's
// server with database steady_smoke, TEST_REDIS_URL or redis://127.0.0.1:6379).
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { clearTimeout, setTimeout } from 'node:timers';
import { fileURLToPath } from 'node:url';
import { productionSettings } from './production-settings.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const build = !args.includes('--no-build');
const prodIndex = args.indexOf('--prod-install');
const prodDir = prodIndex >= 0 ? resolve(args[prodIndex + 1] ?? '') : null;
if (prodIndex >= 0 && !args[prodIndex + 1]) {
  console.error('usage: node tools/smoke-built.mjs [--no-build] [--prod-install DIR]');
  process.exit(2);
}

const say = (line) => console.log(`[smoke] ${line}`);
const failures = [];
const check = (ok, what) => {
  say(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures.push(what);
};

function run(cmd, argv, opts = {}) {
  const r = spawnSync(cmd, argv, { stdio: 'inherit', ...opts });
  if (r.status !== 0) {
    console.error(`[smoke] \`${cmd} ${argv.join(' ')}\` failed (exit ${r.status ?? r.signal}).`);
    process.exit(1);
  }
}

const started = Date.now();
if (build) run(process.execPath, [join(root, 'tools', 'build.mjs')], { cwd: root });
if (!existsSync(join(root, 'dist', 'cli.js'))) {
  console.error('[smoke] dist/cli.js is missing: run `npm run build` first.');
  process.exit(1);
}

// Where the built service runs from: the checkout, or a production-only install like the image.
let appDir = root;
if (prodDir) {
  say(
    `production install in ${prodDir} (dist, messages, prisma, package*.json; npm ci --omit=dev)`,
  );
  rmSync(prodDir, { recursive: true, force: true });
  mkdirSync(prodDir, { recursive: true });
  for (const p of ['dist', 'messages', 'prisma', 'package.json', 'package-lock.json'])
    cpSync(join(root, p), join(prodDir, p), { recursive: true });
  run('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund'], {
    cwd: prodDir,
    env: { ...process.env, NODE_ENV: 'production' },
  });
  check(
    !existsSync(join(prodDir, 'node_modules', 'tsx')) &&
      !existsSync(join(prodDir, 'node_modules', 'typescript')) &&
      !existsSync(join(prodDir, 'node_modules', 'prisma')),
    'the production install has no tsx, typescript or prisma CLI',
  );
  appDir = prodDir;
}

const testDb = new URL(
  process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/steady_test',
);
testDb.pathname = '/steady_smoke';
const databaseUrl = process.env.SMOKE_DATABASE_URL ?? testDb.href;
const redisUrl =
  process.env.SMOKE_REDIS_URL ?? process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `steadysmoke-${randomBytes(4).toString('hex')}`;

async function sparePort() {
  const s = createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

// Production settings, none of them a public default; outbox transports (nothing leaves).
const base = {
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  HOME: process.env.HOME ?? '/tmp',
  NODE_ENV: 'production',
  DATABASE_URL: databaseUrl,
  REDIS_URL: redisUrl,
  REDIS_PREFIX: prefix,
  HOST: '127.0.0.1',
  ...productionSettings(),
  LOG_LEVEL: 'info',
};
// Run from an empty folder: no .env of the checkout's is read, and nothing is resolved from cwd.
const cwd = mkdtempSync(join(tmpdir(), 'steady-smoke-cwd-'));
const cli = join(appDir, 'dist', 'cli.js');

say(`migrate ${new URL(databaseUrl).pathname.slice(1)}`);
run(process.execPath, [cli, 'migrate'], { cwd, env: base });

function get(port, path, headers = {}) {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, headers, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) => resolve({ status: 0, body: String(err.message) }));
    req.end();
  });
}

// Generous: a role starts in 1-3 s on a quiet machine, far slower on a busy one.
const START_TIMEOUT_S = 120;

function startRole(role, env) {
  const proc = spawn(process.execPath, [cli, role], {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines = [];
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${role}: not started within ${START_TIMEOUT_S} s`)),
      START_TIMEOUT_S * 1000,
    );
    createInterface({ input: proc.stdout }).on('line', (line) => {
      lines.push(line);
      if (line.includes('"msg":"started"')) {
        clearTimeout(timer);
        resolve();
      }
    });
    createInterface({ input: proc.stderr }).on('line', (line) => lines.push(line));
    proc.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${role} exited (${signal ?? code}) before it started`));
    });
  });
  const exited = new Promise((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { role, proc, lines, ready, exited };
}

const roles = [];
try {
  // All three at once (each loads the content and the safety model, a few seconds).
  for (const role of ['serve', 'work', 'schedule']) {
    const ports = { web: await sparePort(), smtp: await sparePort(), metrics: await sparePort() };
    const env = {
      ...base,
      PORT: String(ports.web),
      INBOUND_SMTP_PORT: String(ports.smtp),
      METRICS_PORT: String(ports.metrics),
    };
    roles.push({ ...startRole(role, env), ports });
  }
  for (const r of roles) {
    const { role, ports } = r;
    try {
      await r.ready;
      check(true, `${role} started (node dist/cli.js ${role})`);
    } catch (err) {
      check(false, `${err.message}\n${r.lines.slice(-20).join('\n')}`);
      continue;
    }
    if (role === 'serve') {
      const h = await get(ports.web, '/healthz');
      check(h.status === 200, `serve: GET /healthz on the web port ${ports.web} -> ${h.status}`);
      const pub = await get(ports.web, '/metrics');
      check(
        pub.status !== 200,
        `serve: public /metrics without a token is refused (${pub.status})`,
      );
    }
    const mh = await get(ports.metrics, '/healthz');
    check(
      mh.status === 200,
      `${role}: GET /healthz on METRICS_PORT ${ports.metrics} -> ${mh.status}`,
    );
    const m = await get(ports.metrics, '/metrics');
    check(
      m.status === 200 && /^steady_\w+/m.test(m.body),
      `${role}: GET /metrics on METRICS_PORT -> ${m.status}, ${m.body.split('\n').filter((l) => l.startsWith('steady_')).length} steady_ samples`,
    );
  }
} finally {
  for (const r of roles) if (r.proc.exitCode === null) r.proc.kill('SIGTERM');
  for (const r of roles) {
    let timer;
    const timeout = new Promise((resolve) => (timer = setTimeout(() => resolve(null), 15_000)));
    const exit = await Promise.race([r.exited, timeout]);
    clearTimeout(timer);
    if (exit === null) {
      r.proc.kill('SIGKILL');
      check(false, `${r.role}: still running 15 s after SIGTERM`);
    } else check(exit.code === 0, `${r.role}: SIGTERM -> exit ${exit.signal ?? exit.code}`);
  }
  rmSync(cwd, { recursive: true, force: true });
  await dropRedisKeys().catch((err) => say(`could not remove Redis keys ${prefix}:* (${err})`));
}

/** The roles' queue keys under this run's prefix (a fresh one each run). */
async function dropRedisKeys() {
  const { Redis } = await import('ioredis');
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
    if (keys.length) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
  redis.disconnect();
}

const secs = ((Date.now() - started) / 1000).toFixed(1);
if (failures.length) {
  console.error(`[smoke] ${failures.length} check(s) failed in ${secs} s`);
  process.exit(1);
}
say(`built serve, work and schedule passed in ${secs} s`);
