// A per-client-address limit for machine-to-machine routes (the Twilio and email webhooks), run
// before the body is read. It only stops one host flooding a route: providers post from pools of
// addresses, so limits are generous. If Redis cannot count, the request goes through (the route's
// own signature check still guards it): a limiter must not turn a Redis blip into lost mail.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Deps } from '../deps.ts';
import { metrics } from '../metrics.ts';
import { clientId, rateLimit } from './rate-limit.ts';

export interface IpLimit {
  requests: number;
  windowSec: number;
}

export function ipLimit(deps: Pick<Deps, 'redis' | 'config'>, route: string, limit: IpLimit) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const r = await rateLimit(
      deps,
      `${route}:${clientId(deps, req.ip)}`,
      limit.requests,
      limit.windowSec,
    ).catch(() => null);
    if (r && !r.ok) {
      metrics.inc('steady_webhook_rejected_total', { route, reason: 'rate_limited' });
      return reply
        .code(429)
        .header('Retry-After', String(r.retryAfter))
        .type('text/plain; charset=utf-8')
        .send('Too many requests');
    }
  };
}
