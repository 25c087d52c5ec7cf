// GET /metrics on the public web listener. Off by default: metrics are served on METRICS_PORT
// (src/metrics-server.ts), which operators keep private. With METRICS_PUBLIC=1 (for a host that
// can only expose one port) the same text is served here, only to `Authorization: Bearer
// <METRICS_TOKEN>`; anyone else gets 401. Without METRICS_PUBLIC the route does not exist (404).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Deps } from '../deps.ts';
import { metricsText, scrapeGauges } from '../metrics-server.ts';
import { metrics } from '../metrics.ts';

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Compares in constant time (hashes first, so the lengths never differ). */
function sameToken(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

export function publicMetricsRoute(app: FastifyInstance, deps: Deps): void {
  const { public: isPublic, token } = deps.config.metrics;
  if (!isPublic || !token) return;
  const gauges = scrapeGauges(deps, { roles: ['web'] });
  app.get('/metrics', async (req, reply) => {
    const auth = req.headers.authorization ?? '';
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (!m || !sameToken(m[1]!, token)) {
      metrics.inc('steady_metrics_auth_failures_total');
      return reply
        .code(401)
        .header('www-authenticate', 'Bearer realm="metrics"')
        .header('cache-control', 'no-store')
        .send({ error: 'unauthorized', message: 'A bearer token is required.' });
    }
    const text = await metricsText(gauges);
    return reply.type(metrics.contentType).header('cache-control', 'no-store').send(text);
  });
}
