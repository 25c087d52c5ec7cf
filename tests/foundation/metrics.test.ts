// Prometheus metrics (src/metrics.ts, src/metrics-server.ts): what a worker counts and times while
// it sends, served on its metrics port with the scrape-time gauges and Node's process metrics; the
// real `work` and `schedule` roles honouring METRICS_PORT; and the public /metrics, which does
// not exist unless METRICS_PUBLIC=1 and then answers only the right bearer token.
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { parser as promql } from '@prometheus-io/lezer-promql';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { ConfigError, loadConfig } from '../../src/config.ts';
import type { Deps } from '../../src/deps.ts';
import { enroll } from '../../src/flows/enroll.ts';
import { createOutbound, enqueueSends } from '../../src/flows/outbound.ts';
import { buildApp } from '../../src/http/app.ts';
import { createLog } from '../../src/log.ts';
import { buildDeps, closeDeps } from '../../src/main.ts';
import { scrapeGauges, startMetricsServer, type MetricsServer } from '../../src/metrics-server.ts';
import { collectProcessMetrics, METRIC_NAMES, registry } from '../../src/metrics.ts';
import { startRoles } from '../../src/roles.ts';
import { daytimeZones } from '../../src/bench/seed.ts';
import { startCli, type CliProcess } from '../support/cli-process.ts';
import { freshPhone, ownDatabase } from '../support/db.ts';
import { TEST_REDIS_URL, testConfig, testPrefix } from '../support/env.ts';
import { startFakeTwilio, type FakeTwilio } from '../support/fake-twilio.ts';
import { harness, waitFor, type Harness } from '../support/harness.ts';
import { postToTwilioWebhook } from '../support/twilio-post.ts';

interface Series {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses Prometheus text format (enough of it for these tests). */
function parse(text: string): Series[] {
  const out: Series[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a metric line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[k!] = v!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/** The value of the one series with this name and (at least) these labels; undefined if none. */
function value(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const found = parse(text).filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  if (found.length > 1)
    throw new Error(`${name} ${JSON.stringify(labels)} matches ${found.length} series`);
  return found[0]?.value;
}

async function scrape(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { headers });
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
}

describe('a worker counts and times its sends, served on its metrics port', () => {
  let h: Harness;
  let app: FastifyInstance;
  let server: MetricsServer;
  let sid = 0;

  beforeAll(async () => {
    h = await harness({ start: '2026-05-04T14:00:00Z' }); // Monday 10:00 in New York
    app = await buildApp(h.deps);
    server = await startMetricsServer(h.deps, { port: 0, host: '127.0.0.1', roles: ['worker'] });
  });
  afterAll(async () => {
    await server?.close();
    await app?.close();
    await h?.close();
  });

  const text = async (from: string, body: string) => {
    const res = await postToTwilioWebhook(app, h.config, '/webhooks/twilio/sms', {
      MessageSid: `SM${Date.now().toString(16)}${(sid++).toString().padStart(8, '0')}metrics`,
      From: from,
      To: '+12025550100',
      Body: body,
    });
    expect(res.statusCode).toBe(200);
    await h.settle();
  };

  it('a disclosure: the safety message counted, its latency, lateness and provider call timed', async () => {
    const phone = await freshPhone(h.deps.db);
    await enroll(h.deps, {
      phone,
      timezone: 'America/New_York',
      confirm: true,
      evidence: { source: 'test' },
    });
    await h.settle();
    const before = (await scrape(`${server.url}/metrics`)).text;
    const count = (t: string, name: string, labels: Record<string, string>) =>
      value(t, name, labels) ?? 0;

    await text(phone, 'he hit me last night');
    expect(h.smsTo(phone).length).toBeGreaterThanOrEqual(2); // the welcome, then the safety message

    const res = await scrape(`${server.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.type).toMatch(/^text\/plain; version=0\.0\.4/);
    const after = res.text;
    const delta = (name: string, labels: Record<string, string>) =>
      count(after, name, labels) - count(before, name, labels);

    const safety = { channel: 'sms', kind: 'safety' };
    expect(delta('steady_sends_total', { ...safety, outcome: 'sent' })).toBe(1);
    expect(delta('steady_messages_sent_total', safety)).toBe(1);
    expect(delta('steady_safety_flags_total', { category: 'abuse', band: 'act' })).toBe(1);
    expect(delta('steady_safety_latency_seconds_count', { channel: 'sms' })).toBe(1);
    // Every bucket from 0.05 s up holds it (the fake clock stood still: no time passed).
    expect(delta('steady_safety_latency_seconds_bucket', { channel: 'sms', le: '0.05' })).toBe(1);
    expect(delta('steady_send_lateness_seconds_count', safety)).toBe(1);
    expect(delta('steady_send_lateness_seconds_bucket', { ...safety, le: '+Inf' })).toBe(1);
    // The provider call was timed on the real clock: the fake Twilio answered within 2.5 s.
    const ok = { channel: 'sms', outcome: 'ok' };
    expect(delta('steady_provider_call_seconds_count', ok)).toBeGreaterThanOrEqual(1);
    expect(delta('steady_provider_call_seconds_bucket', { ...ok, le: '2.5' })).toBe(
      delta('steady_provider_call_seconds_count', ok),
    );
    expect(count(after, 'steady_provider_call_seconds_sum', ok)).toBeGreaterThan(0);
  });

  it('an opt-out and a provider error are counted by their labels', async () => {
    const phone = await freshPhone(h.deps.db);
    await enroll(h.deps, {
      phone,
      timezone: 'America/New_York',
      confirm: true,
      evidence: { source: 'test' },
    });
    await h.settle();
    const before = (await scrape(`${server.url}/metrics`)).text;
    // Twilio's 21211 (invalid number) on the next send: a permanent failure.
    h.twilio.failNext(21211);
    await text(phone, 'HELP');
    await text(phone, 'STOP');
    const after = (await scrape(`${server.url}/metrics`)).text;
    const delta = (name: string, labels: Record<string, string>) =>
      (value(after, name, labels) ?? 0) - (value(before, name, labels) ?? 0);
    expect(delta('steady_optouts_total', { channel: 'sms', source: 'sms_keyword' })).toBe(1);
    expect(
      delta('steady_provider_errors_total', {
        channel: 'sms',
        code: 'invalid_recipient',
        provider_code: '21211',
      }),
    ).toBe(1);
    expect(delta('steady_sends_total', { channel: 'sms', kind: 'system', outcome: 'failed' })).toBe(
      1,
    );
    expect(delta('steady_provider_call_seconds_count', { channel: 'sms', outcome: 'error' })).toBe(
      1,
    );
  });

  it('scrape-time gauges: queue depth per lane, the oldest unclaimed due enrollment, roles', async () => {
    const { text: t } = await scrape(`${server.url}/metrics`);
    for (const queue of ['sms', 'email', 'priority', 'inbound'])
      for (const state of ['waiting', 'delayed', 'active', 'prioritized', 'failed'])
        expect(value(t, 'steady_queue_jobs', { queue, state }), `${queue} ${state}`).toBeTypeOf(
          'number',
        );
    expect(value(t, 'steady_role_info', { role: 'worker' })).toBe(1);

    // An enrollment of this harness's program due ten minutes ago, not claimed (no scheduler here).
    const phone = await freshPhone(h.deps.db);
    const r = await enroll(h.deps, {
      phone,
      timezone: 'America/New_York',
      confirm: true,
      evidence: { source: 'test' },
    });
    await h.settle();
    await h.deps.db.enrollment.update({
      where: { id: r.enrollmentId! },
      data: { nextRunAt: new Date(h.clock.now().getTime() - 600_000), state: 'active' },
    });
    const oldest = value(
      (await scrape(`${server.url}/metrics`)).text,
      'steady_oldest_due_enrollment_seconds',
    );
    expect(oldest).toBeGreaterThanOrEqual(600);
    await h.deps.db.enrollment.update({
      where: { id: r.enrollmentId! },
      data: { nextRunAt: null },
    });
  });

  it("serves Node's default process metrics, /healthz, and nothing else", async () => {
    const { text: t } = await scrape(`${server.url}/metrics`);
    for (const name of [
      'process_cpu_user_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_heap_size_used_bytes',
      'nodejs_eventloop_lag_seconds',
    ])
      expect(value(t, name), name).toBeGreaterThanOrEqual(0);
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ ok: true, roles: ['worker'] });
    expect((await fetch(`${server.url}/admin`)).status).toBe(404);
    expect((await fetch(`${server.url}/metrics`, { method: 'POST' })).status).toBe(405);
  });

  it('a slow Redis does not hang the scrape: the queue gauges are left out and counted', async () => {
    const slow = await startMetricsServer(
      {
        ...h.deps,
        // Queues whose counts never come back (as if Redis stopped answering).
        queues: Object.fromEntries(
          Object.keys(h.deps.queues).map((k) => [k, { getJobCounts: () => new Promise(() => {}) }]),
        ) as unknown as Deps['queues'],
      },
      { port: 0, host: '127.0.0.1', roles: ['worker'] },
    );
    try {
      const t0 = Date.now();
      const { status, text: t } = await scrape(`${slow.url}/metrics`);
      expect(status).toBe(200);
      expect(Date.now() - t0).toBeLessThan(3000);
      expect(value(t, 'steady_queue_jobs', { queue: 'sms', state: 'waiting' })).toBeUndefined();
      expect(
        value(t, 'steady_metrics_collect_errors_total', { source: 'queues' }),
      ).toBeGreaterThanOrEqual(4);
      expect(value(t, 'steady_oldest_due_enrollment_seconds')).toBeTypeOf('number');
    } finally {
      await slow.close();
    }
  });
});

describe('the public /metrics on the web listener', () => {
  const TOKEN = 'metrics-token-for-tests-0123456789';
  let deps: Deps;
  beforeAll(async () => {
    deps = await buildDeps(testConfig(), { log: createLog('silent'), dbPoolSize: 2 });
  });
  afterAll(async () => {
    if (deps) await closeDeps(deps);
  });

  it('does not exist by default (404), even with a token', async () => {
    const app = await buildApp(deps);
    try {
      expect((await app.inject({ url: '/metrics' })).statusCode).toBe(404);
      const withToken = await app.inject({
        url: '/metrics',
        headers: { authorization: `Bearer ${deps.config.adminToken}` },
      });
      expect(withToken.statusCode).toBe(404);
      expect(withToken.body).not.toMatch(/steady_/);
    } finally {
      await app.close();
    }
  });

  it('with METRICS_PUBLIC=1: refused without the token or with a wrong one, served with it', async () => {
    const config = testConfig({ METRICS_PUBLIC: '1', METRICS_TOKEN: TOKEN });
    const app = await buildApp({ ...deps, config });
    try {
      const none = await app.inject({ url: '/metrics' });
      expect(none.statusCode).toBe(401);
      expect(none.headers['www-authenticate']).toMatch(/^Bearer/);
      expect(none.body).not.toMatch(/steady_|process_/);
      for (const authorization of [
        `Bearer ${TOKEN}x`,
        `Bearer ${TOKEN.slice(0, -1)}`,
        `Bearer ${config.adminToken}`,
        `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}`,
        TOKEN,
      ]) {
        const res = await app.inject({ url: '/metrics', headers: { authorization } });
        expect(res.statusCode, authorization).toBe(401);
        expect(res.body).not.toMatch(/steady_|process_/);
      }
      const ok = await app.inject({
        url: '/metrics',
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expect(ok.statusCode).toBe(200);
      expect(ok.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
      expect(value(ok.body, 'steady_metrics_auth_failures_total')).toBeGreaterThanOrEqual(6);
      expect(value(ok.body, 'steady_role_info', { role: 'web' })).toBe(1);
      expect(value(ok.body, 'steady_queue_jobs', { queue: 'priority', state: 'waiting' })).toBe(0);
      expect(value(ok.body, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    } finally {
      await app.close();
    }
  });

  it('METRICS_PUBLIC=1 needs a token of its own', () => {
    const problems = (env: Record<string, string>) => {
      try {
        testConfig(env);
        return [];
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        return err.problems;
      }
    };
    expect(problems({ METRICS_PUBLIC: '1' })).toEqual([
      expect.stringMatching(/^METRICS_TOKEN: is required when METRICS_PUBLIC=1/),
    ]);
    expect(
      problems({
        METRICS_PUBLIC: '1',
        METRICS_TOKEN: 'admin-token-0123456789',
        ADMIN_TOKEN: 'admin-token-0123456789',
      }),
    ).toEqual([expect.stringMatching(/^METRICS_TOKEN: must differ from ADMIN_TOKEN/)]);
    expect(problems({ METRICS_TOKEN: 'short' })).toEqual([
      expect.stringMatching(/^METRICS_TOKEN: must be at least 16/),
    ]);
    expect(problems({ METRICS_PORT: '3000', PORT: '3000' })).toEqual([
      expect.stringMatching(/^METRICS_PORT \(got "3000"\): must differ from PORT/),
    ]);
    expect(loadConfig({ METRICS_PORT: '9464', HOST: '0.0.0.0' }).metrics).toEqual({
      port: 9464,
      host: '0.0.0.0',
      public: false,
      token: undefined,
    });
    expect(loadConfig({}).metrics.port).toBeNull();
  });
});

describe('startRoles: one metrics listener per process', () => {
  const start = async (env: Record<string, string>, defaultMetricsPort?: number) => {
    const d = await buildDeps(testConfig(env), { log: createLog('silent'), dbPoolSize: 1 });
    return startRoles(d, [], { defaultMetricsPort });
  };

  it('none without METRICS_PORT; METRICS_PORT wins over the default; a busy default is skipped', async () => {
    const off = await start({});
    expect(off.metricsUrl).toBeUndefined();
    await off.stop();

    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const busy = (blocker.address() as { port: number }).port;
    try {
      const on = await start({ METRICS_PORT: '0', METRICS_HOST: '127.0.0.1' }, busy);
      expect(on.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect((await fetch(`${on.metricsUrl}/healthz`)).status).toBe(200);
      await on.stop();
      await expect(fetch(`${on.metricsUrl}/healthz`)).rejects.toThrow();

      // dev's default port taken by someone else: dev still starts, without metrics.
      const skipped = await start({ METRICS_HOST: '127.0.0.1' }, busy);
      expect(skipped.metricsUrl).toBeUndefined();
      await skipped.stop();
    } finally {
      blocker.close();
    }
  });
});

describe('the real roles honour METRICS_PORT', () => {
  let fake: FakeTwilio;
  let deps: Deps;
  let env: Record<string, string>;
  const procs: CliProcess[] = [];
  let blocker: Server | undefined;

  beforeAll(async () => {
    fake = await startFakeTwilio();
    env = {
      NODE_ENV: 'test',
      // Its own database: another file's sweep must not take the message this one queues.
      DATABASE_URL: await ownDatabase('metrics'),
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: testPrefix('metrics'),
      SMS_TRANSPORT: 'twilio',
      TWILIO_ACCOUNT_SID: fake.accountSid,
      TWILIO_AUTH_TOKEN: fake.authToken,
      TWILIO_FROM: '+12025550100',
      TWILIO_API_BASE: fake.url,
      PUBLIC_URL: 'https://steady.example.com',
      LOG_LEVEL: 'info',
      SEND_CONCURRENCY: '2',
      METRICS_HOST: '127.0.0.1',
    };
    deps = await buildDeps(loadConfig(env), { log: createLog('silent'), dbPoolSize: 2 });
  });
  afterEach(() => {
    for (const p of procs) if (p.proc.exitCode === null) p.proc.kill('SIGKILL');
    blocker?.close();
  });
  afterAll(async () => {
    if (deps)
      for (const q of Object.values(deps.queues))
        await q.obliterate({ force: true }).catch(() => {});
    if (deps) await closeDeps(deps);
    await fake?.close();
  });

  /** The metrics URL the role logged in its "started" line. */
  const metricsUrl = (p: CliProcess) => {
    const line = p.lines.find((l) => l.includes('"msg":"started"'));
    return (JSON.parse(line!) as { metrics?: string }).metrics;
  };

  it('`work` with METRICS_PORT: steady_ counters and histograms after a send, then exits cleanly', async () => {
    const worker = startCli(['work'], { ...env, METRICS_PORT: '0' });
    procs.push(worker);
    await worker.started;
    const url = metricsUrl(worker);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);

    // One message due now for a confirmed subscriber, queued as the scheduler would.
    const now = new Date();
    const phone = await freshPhone(deps.db);
    const r = await enroll(deps, {
      phone,
      timezone: daytimeZones(now)[0],
      confirm: true,
      evidence: { source: 'test' },
    });
    const send = await deps.db.$transaction((tx) =>
      createOutbound(
        tx,
        {
          subscriberId: r.subscriberId,
          enrollmentId: r.enrollmentId,
          channel: 'sms',
          kind: 'nudge',
          template: 'w1-d1',
          step: 'w1-d1',
          lane: 'program',
        },
        now,
      ),
    );
    await enqueueSends(deps.queues, [send!], now);
    const nudge = { channel: 'sms', kind: 'nudge' };
    // The provider has both, and the worker has recorded them sent (counted right after).
    let t = '';
    await waitFor(
      async () => {
        t = (await scrape(`${url}/metrics`)).text;
        return (
          value(t, 'steady_sends_total', { ...nudge, outcome: 'sent' }) === 1 &&
          value(t, 'steady_sends_total', { channel: 'sms', kind: 'system', outcome: 'sent' }) === 1
        );
      },
      { timeout: 15_000 },
    );
    expect(fake.messages.map((m) => m.to)).toEqual([phone, phone]); // welcome + nudge
    expect(value(t, 'steady_sends_total', { ...nudge, outcome: 'sent' })).toBe(1);
    expect(value(t, 'steady_messages_sent_total', nudge)).toBe(1);
    expect(value(t, 'steady_send_lateness_seconds_count', nudge)).toBe(1);
    expect(value(t, 'steady_send_lateness_seconds_bucket', { ...nudge, le: '+Inf' })).toBe(1);
    // Queued when due and sent by an idle worker: well under a minute late.
    expect(value(t, 'steady_send_lateness_seconds_bucket', { ...nudge, le: '60' })).toBe(1);
    expect(value(t, 'steady_provider_call_seconds_count', { channel: 'sms', outcome: 'ok' })).toBe(
      2,
    );
    expect(value(t, 'steady_role_info', { role: 'worker' })).toBe(1);
    expect(value(t, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);

    worker.proc.kill('SIGTERM');
    expect((await worker.exited).code).toBe(0);
  });

  it('`schedule` serves its metrics (claim ticks timed) on METRICS_PORT', async () => {
    const scheduler = startCli(['schedule'], {
      ...env,
      METRICS_PORT: '0',
      SCHEDULER_INTERVAL_MS: '100',
    });
    procs.push(scheduler);
    await scheduler.started;
    const url = metricsUrl(scheduler)!;
    await waitFor(
      async () =>
        (value((await scrape(`${url}/metrics`)).text, 'steady_claim_tick_seconds_count') ?? 0) >= 2,
      { timeout: 10_000 },
    );
    const { text: t } = await scrape(`${url}/metrics`);
    expect(value(t, 'steady_role_info', { role: 'scheduler' })).toBe(1);
    expect(value(t, 'steady_oldest_due_enrollment_seconds')).toBeTypeOf('number');
    scheduler.proc.kill('SIGTERM');
    expect((await scheduler.exited).code).toBe(0);
  });

  it('a METRICS_PORT already in use stops the role at start-up, naming it', async () => {
    blocker = createServer();
    await new Promise<void>((r) => blocker!.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    const scheduler = startCli(['schedule'], { ...env, METRICS_PORT: String(port) });
    procs.push(scheduler);
    const exit = await scheduler.exited;
    expect(exit.code).toBe(2);
    expect(scheduler.lines.join('\n')).toMatch(
      new RegExp(`METRICS_PORT ${port} on 127\\.0\\.0\\.1 cannot be used`),
    );
  });
});

describe('ops/monitoring: the dashboard and the alerts', () => {
  const dir = join(import.meta.dirname, '../../ops/monitoring');

  /** Metric families this code can serve: counters and histograms, scrape-time gauges, Node's. */
  const served = () => {
    collectProcessMetrics();
    const gauges = scrapeGauges({} as Deps, { roles: [] });
    return new Set([
      ...METRIC_NAMES,
      ...gauges.getMetricsAsArray().map((m) => m.name),
      ...registry.getMetricsAsArray().map((m) => m.name),
      'up', // Prometheus' own
    ]);
  };

  /** Grafana's variables, as Grafana would fill them in. */
  const filled = (expr: string) =>
    expr
      .replaceAll('$__rate_interval', '5m')
      .replaceAll('$__range', '6h')
      .replaceAll('$job', 'steady-.*');

  function check(expr: string, where: string, known: Set<string>) {
    const tree = promql.parse(filled(expr));
    const errors: number[] = [];
    tree.iterate({ enter: (n) => void (n.type.isError && errors.push(n.from)) });
    expect(errors, `${where}: PromQL does not parse: ${expr}`).toEqual([]);
    const names = [
      ...filled(expr).matchAll(/\b((?:steady|process|nodejs)_[a-z0-9_]+|up)\b(?=\s*[{[)])/g),
    ].map((m) => m[1]!.replace(/_(bucket|sum|count)$/, ''));
    expect(names.length, `${where}: names no metric: ${expr}`).toBeGreaterThan(0);
    for (const name of names) expect(known.has(name), `${where}: ${name} is not served`).toBe(true);
  }

  it('every dashboard query parses as PromQL and names a metric Steady serves', async () => {
    const known = served();
    const dash = JSON.parse(await readFile(join(dir, 'grafana-dashboard.json'), 'utf8')) as {
      uid: string;
      panels: { type: string; title: string; targets?: { expr: string }[] }[];
    };
    expect(dash.uid).toBe('steady-overview');
    const queries = dash.panels.flatMap((p) => (p.targets ?? []).map((t) => [p.title, t.expr]));
    expect(queries.length).toBeGreaterThan(20);
    for (const [title, expr] of queries) check(expr!, `panel "${title}"`, known);
    // What issue 14 asks the dashboard to show.
    const all = queries.map(([, e]) => e).join('\n');
    for (const name of [
      'steady_sends_total',
      'steady_provider_errors_total',
      'steady_safety_flags_total',
      'steady_optouts_total',
      'steady_send_lateness_seconds_bucket',
      'steady_safety_latency_seconds_bucket',
      'steady_claim_tick_seconds_bucket',
      'steady_provider_call_seconds_bucket',
      'steady_queue_jobs',
      'steady_oldest_due_enrollment_seconds',
      'process_cpu_seconds_total',
    ])
      expect(all, name).toContain(name);
  });

  it('the alert rules parse and the scrape config loads them and names each role', async () => {
    const known = served();
    const alerts = parseYaml(await readFile(join(dir, 'alerts.yml'), 'utf8')) as {
      groups: { rules: { alert: string; expr: string }[] }[];
    };
    const rules = alerts.groups.flatMap((g) => g.rules);
    expect(rules.length).toBeGreaterThan(3);
    for (const r of rules) check(r.expr, `alert ${r.alert}`, known);
    const prom = parseYaml(await readFile(join(dir, 'prometheus.yml'), 'utf8')) as {
      rule_files: string[];
      scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
    };
    expect(prom.rule_files).toEqual(['alerts.yml']);
    expect(prom.scrape_configs.map((c) => c.job_name)).toEqual([
      'steady-web',
      'steady-worker',
      'steady-scheduler',
    ]);
    for (const c of prom.scrape_configs) expect(c.static_configs[0]!.targets[0]).toMatch(/:9464$/);
  });
});
