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

/** IPv4 as is; IPv6 by its /64, since one household or host usually holds a whole /64. */
export function clientKey(ip: string): string {
  const v4 = /^(?:::ffff:)?(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (v4?.[1]) return v4[1];
  if (!ip.includes(':')) return ip;
  const [head = '', tail] = ip.toLowerCase().split('%')[0]!.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups =
    tail === undefined
      ? h
      : [...h, ...Array<string>(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t];
  return (
    groups
      .slice(0, 4)
      .map((g) => g.replace(/^0+(?=.)/, ''))
      .join(':') + '::/64'
  );
}
