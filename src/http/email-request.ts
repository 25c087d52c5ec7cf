// Small helpers the email-course routes share: consent evidence from a request, JSON or page
// answers, and the client key rate limits count by.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Evidence } from '../flows/consent.ts';

/** What a consent event records about the request that made it. */
export function evidenceOf(req: FastifyRequest, source: string, now: Date): Evidence {
  const ua = req.headers['user-agent'];
  return {
    source,
    ip: req.ip,
    userAgent: typeof ua === 'string' ? ua.slice(0, 300) : null,
    at: now.toISOString(),
  };
}

export function wantsJson(req: FastifyRequest): boolean {
  return String(req.headers['content-type'] ?? '').startsWith('application/json');
}

export function sendPage(reply: FastifyReply, status: number, html: string): FastifyReply {
  return reply.code(status).type('text/html; charset=utf-8').send(html);
}

export { clientKey } from '../core/client-key.ts';
