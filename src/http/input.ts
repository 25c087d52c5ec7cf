// Control characters stop at the edge (src/core/control-chars.ts says why): every route's path,
// query and parsed body are checked before its handler runs, and a request that carries one is
// refused with a 400 (before, a NUL reached PostgreSQL and came back as a 500).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { findControlChars } from '../core/control-chars.ts';

/** The answer to a request that carries a control character: a permanent refusal. */
export class ControlCharsError extends Error {
  readonly statusCode = 400;
  readonly code = 'invalid_characters';
  constructor(where: string) {
    super(`${where} contains a control character (such as NUL), which is not accepted`);
    this.name = 'ControlCharsError';
  }
}

/** Which part of a request holds a control character, or null. Path and query values are lines;
 * body values free text (a note may have line breaks). */
export function controlCharsIn(req: FastifyRequest): string | null {
  const name = (path: string) => path.replace(/^\$\.?/, '');
  const params = findControlChars(req.params, 'line');
  if (params) return `the path (${name(params)})`;
  const query = findControlChars(req.query, 'line');
  if (query) return `the query (${name(query)})`;
  // A string body is one the route reads as raw text (a signed webhook, a multipart one-click
  // unsubscribe): that route checks what it takes from it.
  if (req.body && typeof req.body === 'object' && !Buffer.isBuffer(req.body)) {
    const body = findControlChars(req.body, 'text');
    if (body) return `the field ${name(body)}`;
  }
  return null;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route checks control characters itself (after its signature check). */
    ownInputCheck?: boolean;
  }
}

/** Registered before any route, so it covers every one: it runs once the body is parsed, before
 * the route's own validation and handler. */
export function rejectControlChars(app: FastifyInstance): void {
  app.addHook('preValidation', async (req) => {
    if (req.routeOptions.config?.ownInputCheck) return;
    const where = controlCharsIn(req);
    if (where) throw new ControlCharsError(where);
  });
}
