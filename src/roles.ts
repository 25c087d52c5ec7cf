// Starting and stopping the service's roles: web, workers, scheduler (with the cron table), or all
// of them in one process (`dev`). SIGINT/SIGTERM stop taking work, let jobs in flight finish
// within SHUTDOWN_GRACE_MS, then close connections.
import type { FastifyInstance } from 'fastify';
import { startCron } from '../jobs/cron.ts';
import { startScheduler } from '../jobs/scheduler.ts';
import { startWorkers, type WorkerPool } from '../jobs/workers.ts';
import type { Deps } from './deps.ts';
import { buildApp } from './http/app.ts';
import { routeModules, startSideServices } from './http/modules.ts';
import { closeDeps } from './main.ts';
import { startMetricsServer } from './metrics-server.ts';
import { QUEUE_NAMES, type QueueName } from './queues.ts';

export type Role = 'web' | 'worker' | 'scheduler';

export interface Running {
  app?: FastifyInstance;
  url?: string;
  /** The metrics listener (METRICS_PORT), when one runs. */
  metricsUrl?: string;
  stop(): Promise<void>;
}

export async function startRoles(
  deps: Deps,
  roles: Role[],
  opts: {
    queues?: QueueName[];
    /** The metrics port when METRICS_PORT is unset (dev: 9464); a busy default is only a warning. */
    defaultMetricsPort?: number;
  } = {},
): Promise<Running> {
  const stops: (() => Promise<void>)[] = [];
  let app: FastifyInstance | undefined;
  let url: string | undefined;
  // Metrics first: a METRICS_PORT that cannot be used stops start-up before any work is taken.
  // One listener per process, whatever roles it runs; it closes last, after the workers drain.
  let metricsServer: Awaited<ReturnType<typeof startMetricsServer>> | undefined;
  const metricsPort = deps.config.metrics.port ?? opts.defaultMetricsPort;
  if (metricsPort !== undefined) {
    try {
      metricsServer = await startMetricsServer(deps, {
        port: metricsPort,
        host: deps.config.metrics.host,
        roles,
      });
    } catch (err) {
      if (deps.config.metrics.port !== null) throw err;
      deps.log.warn({ port: metricsPort }, `metrics not served: ${(err as Error).message}`);
    }
  }
  if (roles.includes('web')) {
    app = await buildApp(deps, { modules: routeModules });
    url = await app.listen({ port: deps.config.port, host: deps.config.host });
    const side = await startSideServices(deps);
    stops.push(async () => {
      await side.stop();
      await app!.close();
    });
  }
  let pool: WorkerPool | undefined;
  if (roles.includes('worker')) {
    pool = startWorkers(deps, { queues: opts.queues ?? QUEUE_NAMES });
    stops.push(() => pool!.close());
  }
  if (roles.includes('scheduler')) {
    const loop = startScheduler(deps);
    const cron = startCron(deps);
    stops.push(async () => {
      cron.stop();
      await loop.stop();
    });
  }
  if (metricsServer) {
    const server = metricsServer;
    stops.push(() => server.close());
  }
  let stopping: Promise<void> | null = null;
  return {
    app,
    url,
    metricsUrl: metricsServer?.url,
    stop() {
      // Web first (no new work comes in), then the scheduler, then the workers drain.
      stopping ??= (async () => {
        for (const s of stops)
          await s().catch((err) => deps.log.error({ err: String(err) }, 'error while stopping'));
        await closeDeps(deps);
      })();
      return stopping;
    },
  };
}

// What a dropped database connection looks like from node-postgres and the Prisma adapter.
const CONNECTION_LOST =
  /Connection terminated|connection error and is not queryable|terminating connection|ECONNRESET|ECONNREFUSED|57P01|57P02|57P03/;

/**
 * Prisma's interactive transactions roll back from a timer when they time out; if the database
 * connection is gone by then, that rollback rejects with nobody listening, and Node would end the
 * whole process for it (seen when every connection was cut mid-transaction). The transaction has
 * failed already and its caller has its error, so a lost connection here is logged and survived.
 * Any other unhandled rejection still ends the process, as Node's default would.
 */
export function surviveLostConnections(log: Deps['log']): void {
  process.on('unhandledRejection', (reason) => {
    const message =
      reason instanceof Error
        ? `${reason.message} ${String((reason as { code?: unknown }).code ?? '')}`
        : String(reason);
    if (CONNECTION_LOST.test(message)) {
      log.warn(
        { err: message.slice(0, 200) },
        'database connection lost during a transaction rollback; carrying on',
      );
      return;
    }
    log.fatal(
      { err: reason instanceof Error ? reason.stack : message },
      'unhandled promise rejection; exiting',
    );
    process.exit(1);
  });
}

export function stopOnSignals(running: Running, log: Deps['log']): void {
  surviveLostConnections(log);
  let count = 0;
  const onSignal = (sig: string) => {
    count++;
    if (count > 1) {
      log.warn('second signal: exiting now');
      process.exit(130);
    }
    log.info({ signal: sig }, 'shutting down: finishing jobs in flight (Ctrl-C again to force)');
    running.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
}
