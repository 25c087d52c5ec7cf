#!/usr/bin/env node
// Rehearses the Dockerfile without Docker (for machines with no Docker daemon, like CI here): reads
// the Dockerfile and carries out its own instructions, stage by stage, in folders under
// /tmp/steady-image/<stage> standing for each stage's /app: COPY from the checkout (or from an
// earlier stage with --from), RUN in the stage's WORKDIR with its ENV. Then it starts the run
// stage's ENTRYPOINT + CMD for each role (`serve`, `work`, `schedule`, after `migrate`) as an
// unprivileged user, the way the image's USER would, runs the HEALTHCHECK command against each,
// sends SIGTERM (through tini, if installed) and expects exit 0.
//
//   node tools/rehearse-image.mjs [--user nobody] [--keep]
//
// What it cannot do: pull the base image (this machine's Node stands in for the image's), or run
// a RUN that installs Debian packages (apt-get: skipped; it checks that the packages are present
// here instead). Ports: each role gets spare ones instead of the image's 3000/2525/9464, since
// there is no network namespace of its own. Uses the test PostgreSQL server (database
// steady_smoke) and Redis with a prefix of its own, as tools/smoke-built.mjs does.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { clearTimeout, setTimeout } from 'node:timers';
import { fileURLToPath } from 'node:url';
import { productionSettings } from './production-settings.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const user = args.includes('--user') ? args[args.indexOf('--user') + 1] : 'nobody';
const keep = args.includes('--keep');
const base = '/tmp/steady-image';
const say = (line) => console.log(`[rehearse] ${line}`);
const failures = [];
const check = (ok, what) => {
  say(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures.push(what);
};

// --- Read the Dockerfile: instructions with their continuation lines joined.
const instructions = [];
{
  let current = '';
  for (const raw of readFileSync(join(root, 'Dockerfile'), 'utf8').split('\n')) {
    const line = raw.trim();
    if (!current && (line === '' || line.startsWith('#'))) continue;
    if (current && line.startsWith('#')) continue;
    if (line.endsWith('\\')) {
      current += line.slice(0, -1) + ' ';
      continue;
    }
    current += line;
    const [, op, rest] = current.match(/^(\S+)\s+([\s\S]*)$/) ?? [];
    instructions.push({ op: op.toUpperCase(), rest: rest.trim() });
    current = '';
  }
}

/** ENV a=b c="d e" -> entries. */
function envPairs(text) {
  const out = {};
  for (const m of text.matchAll(/(\w+)=("([^"]*)"|\S+)/g)) out[m[1]] = m[3] ?? m[2];
  return out;
}

function runShell(cmd, cwd, env) {
  say(`RUN ${cmd}`);
  const r = spawnSync('bash', ['-c', cmd], { cwd, env, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`[rehearse] RUN failed (exit ${r.status ?? r.signal}): ${cmd}`);
    process.exit(1);
  }
}

// --- Carry out the stages.
const started = Date.now();
if (!keep) rmSync(base, { recursive: true, force: true });
mkdirSync(base, { recursive: true });
chmodSync(base, 0o755);
const stages = new Map(); // name -> { dir, workdir, env, user, healthcheck, entrypoint, cmd }
let stage = null;
const args0 = {};
for (const { op, rest } of instructions) {
  if (op === 'ARG') {
    const [k, v] = rest.split('=');
    args0[k] = v;
    continue;
  }
  if (op === 'FROM') {
    const m = rest.match(/^(\S+)(?:\s+AS\s+(\S+))?$/i);
    const image = m[1].replace(/\$\{(\w+)\}/g, (_, k) => args0[k] ?? '');
    const name = m[2] ?? `stage${stages.size}`;
    const dir = join(base, name);
    if (!keep || !existsSync(dir)) rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    chmodSync(dir, 0o755);
    stage = { name, dir, workdir: '/', env: {}, user: 'root', healthcheck: null };
    stages.set(name, stage);
    say(
      `FROM ${image} AS ${name}: this machine's Node ${process.version} stands in for the image's`,
    );
    continue;
  }
  const local = (p) => join(stage.dir, p.startsWith('/') ? p : join(stage.workdir, p));
  switch (op) {
    case 'WORKDIR':
      stage.workdir = rest;
      mkdirSync(local(rest), { recursive: true });
      break;
    case 'ENV':
      Object.assign(stage.env, envPairs(rest));
      break;
    case 'COPY': {
      const parts = rest.split(/\s+/);
      const from = parts[0].startsWith('--from=') ? parts.shift().slice('--from='.length) : null;
      const dest = parts.pop();
      for (const src of parts) {
        const source = from ? join(stages.get(from).dir, src) : join(root, src);
        const target = dest.endsWith('/')
          ? join(local(dest), src.split('/').pop())
          : parts.length > 1
            ? join(local(dest), src.split('/').pop())
            : local(dest);
        mkdirSync(dirname(target), { recursive: true });
        // Never the checkout's generated or installed files (.dockerignore keeps them out).
        cpSync(source, target, {
          recursive: true,
          filter: (p) =>
            from !== null ||
            !/\/(node_modules|dist|generated|\.git)(\/|$)/.test(p.slice(root.length)),
        });
      }
      say(`COPY ${rest}`);
      break;
    }
    case 'RUN':
      if (/\bapt-get\b/.test(rest)) {
        const pkgs =
          rest
            .match(/install\s+(?:-\S+\s+)*([\w\s.-]+?)(?:&&|$)/)?.[1]
            .trim()
            .split(/\s+/) ?? [];
        for (const p of pkgs)
          check(
            spawnSync('dpkg', ['-s', p], { stdio: 'ignore' }).status === 0,
            `RUN apt-get install ${p}: skipped; the package is installed on this machine`,
          );
        break;
      }
      runShell(rest, local(stage.workdir), {
        ...process.env,
        ...stage.env,
        NODE_OPTIONS: '',
      });
      break;
    case 'USER':
      stage.user = rest;
      break;
    case 'HEALTHCHECK':
      stage.healthcheck = JSON.parse(rest.slice(rest.indexOf('CMD') + 3).trim());
      break;
    case 'ENTRYPOINT':
      stage.entrypoint = JSON.parse(rest);
      break;
    case 'CMD':
      stage.cmd = JSON.parse(rest);
      break;
    case 'EXPOSE':
      break;
    default:
      say(`(${op} not rehearsed)`);
  }
}

const run = stage; // the last stage is the image
const app = join(run.dir, run.workdir);
say(`run stage in ${app}, ${Math.round((Date.now() - started) / 1000)} s so far`);
check(run.user !== 'root', `the image runs as USER ${run.user}, not root`);
for (const dev of ['tsx', 'typescript', 'prisma', 'vitest', 'eslint', 'vite', 'playwright-core'])
  check(!existsSync(join(app, 'node_modules', dev)), `no ${dev} in the run stage's node_modules`);
check(!existsSync(join(app, 'src')), 'no TypeScript sources in the run stage');
const du = spawnSync('du', ['-sm', app], { encoding: 'utf8' }).stdout.split('\t')[0];
say(`run stage size: ${du} MB (node_modules, dist, messages, prisma)`);

// --- Start the roles as the image would, as an unprivileged user (set in the child itself, with
// no su/runuser in between, so signals reach tini or node as they would in the container).
const id = (flag) => Number(spawnSync('id', [flag, user], { encoding: 'utf8' }).stdout.trim());
const asUser = process.getuid?.() === 0 ? { uid: id('-u'), gid: id('-g') } : {};
const entry = [...run.entrypoint];
if (entry[0] === '/usr/bin/tini' && !existsSync('/usr/bin/tini')) {
  say('tini is not installed here (apt-get install tini): starting node without it');
  entry.splice(0, 2);
}
check(
  statSync(app).mode & 0o005 ? true : false,
  `the app folder is readable by others (${user} stands in for the image's ${run.user})`,
);

const testDb = new URL(
  process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/steady_test',
);
testDb.pathname = '/steady_smoke';
const prefix = `steadyimage-${randomBytes(4).toString('hex')}`;
const settings = {
  DATABASE_URL: process.env.SMOKE_DATABASE_URL ?? testDb.href,
  REDIS_URL: process.env.SMOKE_REDIS_URL ?? process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
  REDIS_PREFIX: prefix,
  ...productionSettings(),
};
async function sparePort() {
  const s = createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}
const envFor = (extra) => ({
  PATH: process.env.PATH,
  HOME: '/tmp',
  // tini is PID 1 in the container; here it is not, so it registers as a subreaper instead.
  TINI_SUBREAPER: '1',
  ...run.env,
  ...settings,
  ...extra,
});

const migrate = spawnSync(entry[0], [...entry.slice(1), 'migrate'], {
  ...asUser,
  cwd: app,
  env: envFor({}),
  encoding: 'utf8',
});
check(migrate.status === 0, `migrate as ${user}: exit ${migrate.status} ${migrate.stderr.trim()}`);

function get(port, path) {
  return new Promise((res) => {
    const req = request({ host: '127.0.0.1', port, path, timeout: 5000 }, (r) => {
      r.resume();
      r.on('end', () => res(r.statusCode));
    });
    req.on('error', () => res(0));
    req.end();
  });
}

const roles = [];
for (const role of ['serve', 'work', 'schedule']) {
  const ports = {
    PORT: await sparePort(),
    INBOUND_SMTP_PORT: await sparePort(),
    METRICS_PORT: await sparePort(),
  };
  const env = envFor(Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])));
  const proc = spawn(entry[0], [...entry.slice(1), role], {
    ...asUser,
    cwd: app,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines = [];
  const ready = new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('not started in 120 s')), 120_000);
    createInterface({ input: proc.stdout }).on('line', (l) => {
      lines.push(l);
      if (l.includes('"msg":"started"')) {
        clearTimeout(t);
        resolve();
      }
    });
    createInterface({ input: proc.stderr }).on('line', (l) => lines.push(l));
    proc.once('exit', (c) => (clearTimeout(t), reject(new Error(`exited ${c}`))));
  });
  ready.catch(() => {}); // awaited below
  const exited = new Promise((r) => proc.once('exit', (code, signal) => r({ code, signal })));
  roles.push({ role, proc, ports, env, ready, exited, lines });
}
for (const r of roles) {
  try {
    await r.ready;
    check(true, `${r.role}: started (${[...entry, r.role].join(' ')}) as ${user}`);
  } catch (err) {
    check(false, `${r.role}: ${err.message}\n${r.lines.slice(-15).join('\n')}`);
    continue;
  }
  const hc = spawnSync(run.healthcheck[0], run.healthcheck.slice(1), {
    ...asUser,
    cwd: app,
    env: r.env,
    timeout: 10_000,
  });
  check(hc.status === 0, `${r.role}: the image's HEALTHCHECK command exits ${hc.status}`);
  if (r.role === 'serve')
    check((await get(r.ports.PORT, '/healthz')) === 200, 'serve: GET /healthz on PORT -> 200');
}
for (const r of roles) {
  const at = Date.now();
  r.proc.kill('SIGTERM');
  let t;
  const exit = await Promise.race([
    r.exited,
    new Promise((res) => (t = setTimeout(() => res(null), 20_000))),
  ]);
  clearTimeout(t);
  if (!exit) r.proc.kill('SIGKILL');
  check(
    exit?.code === 0,
    `${r.role}: SIGTERM -> exit ${exit ? (exit.signal ?? exit.code) : 'none in 20 s'} after ${Date.now() - at} ms`,
  );
}

const secs = Math.round((Date.now() - started) / 1000);
if (failures.length) {
  console.error(`[rehearse] ${failures.length} check(s) failed (${secs} s)`);
  process.exit(1);
}
say(`the Dockerfile's stages and roles passed (${secs} s); left in ${base}`);
