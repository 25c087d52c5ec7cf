// The metrics listener every role starts on METRICS_PORT: GET /metrics (Prometheus text) and
// GET /healthz. It is a plain node:http server apart from the public web listener, so operators
// can keep it on a private network; the web role's public /metrics (METRICS_PUBLIC=1, bearer
// token) serves the same text (src/http/app.ts).
//
// Besides what the process counted (src/metrics.ts), each scrape reads a few gauges from the
// shared state, each within a short timeout so a slow Redis or PostgreSQL never hangs the scrape
// (a gauge that could not be read is left out and counted in
// steady_metrics_collect_errors_total): the depth of every queue (lane) by state, from BullMQ's
// own job counts, and how long the oldest due enrollment has waited to be claimed.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Gauge, Registry } from 'prom-client';
import type { Deps } from './deps.ts';
import { collectProcessMetrics, metrics } from './metrics.ts';
import { QUEUE_NAMES } from './queues.ts';
import { StartupError } from './startup-error.ts';

/** How long a scrape waits for Redis or PostgreSQL per gauge (Prometheus' own timeout is 10 s). */
export const COLLECT_TIMEOUT_MS = 1000;

const QUEUE_STATES = ['waiting', 'prioritized', 'delayed', 'active', 'failed'] as const;

type GaugeDeps = Pick<Deps, 'queues' | 'db' | 'clock' | 'programs'>;

function within<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timeout')), ms);
    timer.unref();
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** The gauges read at scrape time for one set of deps, in a registry of their own. */
export function scrapeGauges(
  deps: GaugeDeps,
  opts: { roles: readonly string[]; timeoutMs?: number },
): Registry {
  const own = new Registry();
  const timeoutMs = opts.timeoutMs ?? COLLECT_TIMEOUT_MS;
  new Gauge({
    name: 'steady_queue_jobs',
    help: "Jobs in each queue (lane: sms, email, priority, inbound) by state, from BullMQ's job counts.",
    labelNames: ['queue', 'state'],
    registers: [own],
    async collect() {
      this.reset();
      await Promise.all(
        QUEUE_NAMES.map(async (queue) => {
          try {
            const counts = await within(
              deps.queues[queue].getJobCounts(...QUEUE_STATES),
              timeoutMs,
            );
            for (const state of QUEUE_STATES) this.set({ queue, state }, counts[state] ?? 0);
          } catch {
            metrics.inc('steady_metrics_collect_errors_total', { source: 'queues' });
          }
        }),
      );
    },
  });
  new Gauge({
    name: 'steady_oldest_due_enrollment_seconds',
    help: 'How long the oldest enrollment whose next step is due has waited to be claimed by a scheduler (0: none waiting).',
    registers: [own],
    async collect() {
      this.reset();
      const now = deps.clock.now();
      try {
        // The claim query's own WHERE (the partial index enrollments_due_idx).
        const rows = await within(
          deps.db.$queryRaw<{ oldest: Date | null }[]>`
            SELECT min("nextRunAt") AS oldest FROM enrollments
            WHERE state = 'active' AND "nextRunAt" IS NOT NULL AND "nextRunAt" <= ${now}
              AND program = ANY(${deps.programs.all().map((p) => p.key)}::text[])`,
          timeoutMs,
        );
        const oldest = rows[0]?.oldest;
        this.set(oldest ? Math.max(0, (now.getTime() - oldest.getTime()) / 1000) : 0);
      } catch {
        metrics.inc('steady_metrics_collect_errors_total', { source: 'enrollments' });
      }
    },
  });
  const info = new Gauge({
    name: 'steady_role_info',
    help: 'The roles this process runs (web, worker, scheduler): 1 per role.',
    labelNames: ['role'],
    registers: [own],
  });
  for (const role of opts.roles) info.set({ role }, 1);
  return own;
}

/** Everything a scrape returns: this process's counters, histograms and process metrics, then
 * the gauges read now. */
export async function metricsText(gauges: Registry): Promise<string> {
  collectProcessMetrics();
  // The gauges first: one that cannot be read counts it, and that count belongs in this scrape.
  const read = await gauges.metrics();
  return (await metrics.render()) + read;
}

export interface MetricsServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * Starts the metrics listener. Port 0 takes a spare port (see `port`). A port already in use is a
 * StartupError naming METRICS_PORT.
 */
export async function startMetricsServer(
  deps: GaugeDeps & Pick<Deps, 'log'>,
  opts: { port: number; host: string; roles: readonly string[] },
): Promise<MetricsServer> {
  collectProcessMetrics();
  const gauges = scrapeGauges(deps, { roles: opts.roles });
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('GET only\n');
      return;
    }
    if (path === '/healthz') {
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ ok: true, roles: opts.roles }));
      return;
    }
    if (path === '/metrics') {
      try {
        const text = await metricsText(gauges);
        res.writeHead(200, { 'content-type': metrics.contentType }).end(text);
      } catch (err) {
        deps.log.error({ err: String(err) }, 'metrics scrape failed');
        res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n');
      }
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics\n');
  };
  const server = createServer((req, res) => void handle(req, res));
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE' || err.code === 'EACCES' || err.code === 'EADDRNOTAVAIL'
          ? new StartupError(
              `METRICS_PORT ${opts.port} on ${opts.host} cannot be used (${err.code}): another process has it, or the address is wrong. Set METRICS_PORT (and METRICS_HOST) to a free port for each process on this machine.`,
            )
          : err,
      ),
    );
    server.listen(opts.port, opts.host, () => resolve());
  });
  server.on('error', (err) => deps.log.error({ err: String(err) }, 'metrics server error'));
  const port = (server.address() as AddressInfo).port;
  const shown = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  return {
    url: `http://${shown === '0.0.0.0' ? '127.0.0.1' : shown}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
