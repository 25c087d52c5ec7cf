// Who looked at whom. Every console page and admin API answer that shows a person's contact
// details (masked in lists, whole in the API and the console's "Show contact") leaves an audit
// event, like the actions do: the operator (the console session's actor, or API_ACTOR for the
// bearer token), the subscriber, the route (its pattern, never the URL: a lookup's query string
// holds the contact) and the time. Never the contact itself.
//
// One event per request: a list names the subscribers it showed, at most LIST_AUDIT_CAP of them
// (with how many there were), not one event per row.
import type { FastifyRequest } from 'fastify';
import type { Deps } from '../../deps.ts';

/** The actor of everything done with the admin API's bearer token (one shared token). */
export const API_ACTOR = 'api-token';
export const LIST_AUDIT_CAP = 250;

export type ReadAction = 'contact.view' | 'contact.reveal' | 'contact.list';

/** `GET /admin/subscribers/:id`: the method and route pattern, without ids or query. */
export function routeOf(req: FastifyRequest): string {
  return `${req.method} ${req.routeOptions.url ?? req.url.split('?')[0]}`;
}

/** One subscriber's details were shown (a page, an API answer) or revealed. */
export async function auditContactRead(
  deps: Pick<Deps, 'db'>,
  req: FastifyRequest,
  read: { actor: string; subscriberId: string; action?: 'contact.view' | 'contact.reveal' },
): Promise<void> {
  const route = routeOf(req);
  await deps.db.auditEvent.create({
    data: {
      actor: read.actor,
      action: read.action ?? 'contact.view',
      target: read.subscriberId,
      detail: { subscriberId: read.subscriberId, route },
    },
  });
}

/** A list showed these subscribers' (masked) contacts. Nothing is written for an empty list. */
export async function auditContactList(
  deps: Pick<Deps, 'db'>,
  req: FastifyRequest,
  read: { actor: string; subscriberIds: readonly string[] },
): Promise<void> {
  const ids = [...new Set(read.subscriberIds)];
  if (ids.length === 0) return;
  const route = routeOf(req);
  await deps.db.auditEvent.create({
    data: {
      actor: read.actor,
      action: 'contact.list',
      target: route,
      detail: {
        route,
        subscriberIds: ids.slice(0, LIST_AUDIT_CAP),
        shown: ids.length,
        truncated: ids.length > LIST_AUDIT_CAP,
      },
    },
  });
}
