// Every route registered on a Fastify app, read from printRoutes() (the tree it prints joins each
// line's segment to its parent's), so tests can walk the routes that exist rather than a list that
// goes stale.
import type { FastifyInstance } from 'fastify';

export interface RouteEntry {
  url: string;
  methods: string[];
}

export function listRoutes(app: FastifyInstance): RouteEntry[] {
  const out: RouteEntry[] = [];
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^([\s│]*)[├└]── (.*?)(?: \(([^)]*)\))?$/.exec(line);
    if (!m) continue;
    const depth = (m[1] ?? '').length / 4;
    const url = (depth > 0 ? (stack[depth - 1] ?? '') : '') + (m[2] ?? '');
    stack[depth] = url;
    stack.length = depth + 1;
    const methods = (m[3] ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (methods.length) out.push({ url, methods });
  }
  return out;
}

/** A concrete path for a route pattern: each :param and * replaced by `fill`. */
export function concrete(url: string, fill = '3f2a1c9e-0000-4000-8000-000000000000'): string {
  return url.replace(/:[A-Za-z]+/g, fill).replace(/\*$/, 'x');
}
