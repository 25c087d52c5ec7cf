// buildApp(deps) builds the web service without listening, so tests use app.inject().
import formbody from '@fastify/formbody';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Deps } from '../deps.ts';
import { adminApi } from './admin-api.ts';
import { assetRoutes } from './assets.ts';
import { devRoutes } from './dev-routes.ts';
import { rejectControlChars } from './input.ts';
import { publicMetricsRoute } from './metrics-route.ts';
import { securityHeaders } from './security.ts';
import { twilioRoutes } from './twilio-routes.ts';

export type RouteModule = (app: FastifyInstance, deps: Deps) => Promise<void>;

export interface AppOptions {
  /** Extra route modules (email course, console, local phone) registered beside the core ones. */
  modules?: RouteModule[];
}

export async function buildApp(deps: Deps, opts: AppOptions = {}): Promise<FastifyInstance> {
  const { requestTimeoutMs, headersTimeoutMs, keepAliveTimeoutMs } = deps.config.http;
  const app = Fastify({
    logger: false,
    bodyLimit: 256 * 1024,
    // Slow clients: a request that promises a body and never sends it, or headers sent a byte at
    // a time, would otherwise hold its socket for good (Fastify's default request timeout is
    // none). Node checks these every connectionsCheckingInterval (30 s by default, which would
    // stretch a 10 s limit to 40 s), so the check runs at a fraction of the shorter limit.
    requestTimeout: requestTimeoutMs,
    keepAliveTimeout: keepAliveTimeoutMs,
    http: {
      requestTimeout: requestTimeoutMs,
      headersTimeout: headersTimeoutMs,
      connectionsCheckingInterval: Math.max(
        50,
        Math.min(1000, Math.floor(Math.min(headersTimeoutMs, requestTimeoutMs) / 4)),
      ),
    },
    // Only behind a known number of proxies is X-Forwarded-For believed (rate limits use the
    // client address; anyone can write that header when connecting directly).
    trustProxy: (_address: string, hop: number) => hop < deps.config.trustProxy,
    routerOptions: { maxParamLength: 600 },
  });
  securityHeaders(app, { publicUrl: deps.config.publicUrl });
  // Before any route: every route's path, query and parsed body are checked for control bytes.
  rejectControlChars(app);
  await app.register(formbody, { bodyLimit: 64 * 1024 });

  app.setErrorHandler(
    (err: { statusCode?: number; code?: string; message: string }, req, reply) => {
      const status =
        err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
      if (status === 500)
        deps.log.error({ err: err.message, url: req.routeOptions?.url }, 'request failed');
      reply.code(status).send({
        error: status === 500 ? 'internal' : (err.code ?? 'bad_request'),
        message: status === 500 ? 'Something went wrong on our side.' : err.message,
      });
    },
  );
  app.setNotFoundHandler((_req, reply) =>
    reply.code(404).send({ error: 'not_found', message: 'No such page' }),
  );

  // Page scripts as files (the policy allows no inline script).
  assetRoutes(app);
  app.get('/healthz', async () => ({ ok: true }));
  app.get('/readyz', async (_req, reply) => {
    const [pg, redis] = await Promise.all([
      deps.db.$queryRaw`SELECT 1`.then(
        () => true,
        () => false,
      ),
      deps.redis.ping().then(
        (r) => r === 'PONG',
        () => false,
      ),
    ]);
    return reply.code(pg && redis ? 200 : 503).send({ ok: pg && redis, postgres: pg, redis });
  });
  // Metrics live on METRICS_PORT; here only with METRICS_PUBLIC=1 and a bearer token.
  publicMetricsRoute(app, deps);

  await twilioRoutes(app, deps);
  await app.register(async (admin) => adminApi(admin, deps), { prefix: '/admin/api' });
  if (deps.config.devRoutes) await devRoutes(app, deps);
  for (const m of opts.modules ?? []) await m(app, deps);
  return app;
}
