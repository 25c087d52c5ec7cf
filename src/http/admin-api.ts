// The operator's JSON API under /admin/api, bearer ADMIN_TOKEN. Lookups are exact matches on a
// phone number or an address; answers never include reply text (the console reveals it one
// message at a time, and logs that it did). Every request with credentials counts as a guess at
// ADMIN_TOKEN until it proves right (guess-limit.ts, shared with the sign-in form). Every answer
// with a person's contact details leaves an audit event (read-audit.ts), as every action does.
// Requests and answers follow the zod schemas in api-schemas.ts (the OpenAPI document is made from
// them, served at /admin/api/openapi.json): an answer holds the declared fields and no others.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { z } from 'zod';
import { checkPhone } from '../core/phone.ts';
import type { Deps } from '../deps.ts';
import type { SubscriberStatus } from '../generated/prisma/enums.ts';
import { normalizeEmail } from '../flows/enroll.ts';
import { operatorAction, OperatorActionError, type OperatorActionName } from '../flows/operator.ts';
import { OperatorMessageError, sendOperatorMessage } from '../flows/operator-message.ts';
import {
  listOptOutQueries,
  OptOutQueryError,
  resolveOptOutQuery,
} from '../flows/optout-queries.ts';
import { safeEqual } from '../security/crypto.ts';
import { API, openApiDocument, routeOptions, within, type SubscriberView } from './api-schemas.ts';
import { countGuess } from './admin/guess-limit.ts';
import { programFigures } from './admin/stats.ts';
import { exportFiltersOf, sendCheckinExport } from './admin/checkin-export.ts';
import { API_ACTOR, auditContactRead } from './admin/read-audit.ts';
import { clientId } from './rate-limit.ts';
import { webhookApiRoutes } from './admin-webhooks-api.ts';
import { experimentApiRoutes } from './admin-experiments-api.ts';

export function bearerOk(deps: Pick<Deps, 'config'>, header: string | undefined): boolean {
  const m = /^Bearer (.+)$/.exec(header ?? '');
  return Boolean(m?.[1] && safeEqual(m[1], deps.config.adminToken));
}

const PREFIX = '/admin/api';

export async function subscriberView(
  deps: Pick<Deps, 'db'>,
  id: string,
): Promise<z.input<typeof SubscriberView> | null> {
  const s = await deps.db.subscriber.findUnique({
    where: { id },
    include: {
      enrollments: true,
      flags: { orderBy: { createdAt: 'desc' } },
      consents: { orderBy: { at: 'asc' } },
      messages: { orderBy: { createdAt: 'asc' }, take: 500 },
    },
  });
  if (!s) return null;
  return {
    id: s.id,
    phone: s.phone,
    email: s.email,
    timezone: s.timezone,
    status: s.status,
    createdAt: s.createdAt,
    enrollments: s.enrollments.map((e) => ({
      id: e.id,
      program: e.program,
      channel: e.channel,
      state: e.state,
      nextStep: e.nextStep,
      nextRunAt: e.nextRunAt,
      pausedUntil: e.pausedUntil,
    })),
    flags: s.flags.map((f) => ({
      id: f.id,
      category: f.category,
      matched: f.matched,
      status: f.status,
      createdAt: f.createdAt,
    })),
    consents: s.consents.map((c) => ({
      kind: c.kind,
      channel: c.channel,
      source: c.source,
      at: c.at,
    })),
    messages: s.messages.map((m) => ({
      id: m.id,
      direction: m.direction,
      channel: m.channel,
      kind: m.kind,
      step: m.step,
      template: m.template,
      status: m.status,
      createdAt: m.createdAt,
      sentAt: m.sentAt,
      // Outbound program text is ours; inbound text is the person's and is never in this answer.
      body: m.direction === 'out' ? m.body : undefined,
    })),
  };
}

export async function adminApi(app: FastifyInstance, deps: Deps): Promise<void> {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const route = <C extends (typeof API)[keyof typeof API]>(c: C) =>
    [within(PREFIX, c), routeOptions(c)] as const;

  app.addHook('onRequest', async (req, reply) => {
    const unauthorized = () =>
      reply
        .code(401)
        .header('WWW-Authenticate', 'Bearer')
        .send({ error: 'unauthorized', message: 'Send Authorization: Bearer <ADMIN_TOKEN>' });
    // A request without credentials guesses nothing: a plain 401, not counted.
    if (!req.headers.authorization) return unauthorized();
    const attempt = await countGuess(deps, req.ip, 'api');
    if (attempt.refused) {
      deps.log.warn({ client: clientId(deps, req.ip) }, 'admin API rate limit reached');
      return reply
        .code(429)
        .header('Retry-After', String(attempt.refused.retryAfter))
        .send({ error: 'rate_limited', message: 'Too many attempts; try again later.' });
    }
    if (!bearerOk(deps, req.headers.authorization)) return unauthorized();
    await attempt.succeeded();
  });

  api.get(...route(API.listSubscribers), async (req, reply) => {
    const q = req.query;
    let where: { phone: string } | { email: string } | null = null;
    if (typeof q.phone === 'string') {
      const p = checkPhone(
        q.phone,
        ['US', 'CA', ...deps.config.allowedCountries],
        deps.config.defaultCountry,
      );
      if (!p.ok) return reply.code(400).send({ error: 'invalid_phone', message: p.message });
      where = { phone: p.e164 };
    } else if (typeof q.email === 'string') {
      const e = normalizeEmail(q.email);
      if (!e)
        return reply.code(400).send({ error: 'invalid_email', message: 'not an email address' });
      where = { email: e };
    }
    if (!where)
      return reply.code(400).send({
        error: 'missing_query',
        message: 'Give ?phone=+12025550123 or ?email=name@example.com',
      });
    const s = await deps.db.subscriber.findFirst({ where, select: { id: true } });
    if (!s)
      return reply
        .code(404)
        .send({ error: 'not_found', message: 'No subscriber with that contact' });
    const view = await subscriberView(deps, s.id);
    if (!view)
      return reply
        .code(404)
        .send({ error: 'not_found', message: 'No subscriber with that contact' });
    await auditContactRead(deps, req, { actor: API_ACTOR, subscriberId: view.id });
    return view;
  });

  api.get(...route(API.getSubscriber), async (req, reply) => {
    const { id } = req.params;
    const view = /^[0-9a-f-]{36}$/.test(id) ? await subscriberView(deps, id) : null;
    if (!view)
      return reply.code(404).send({ error: 'not_found', message: 'No subscriber with that id' });
    await auditContactRead(deps, req, { actor: API_ACTOR, subscriberId: view.id });
    return view;
  });

  // An action not in the list is refused by the schema: 404 unknown_action.
  api.post(...route(API.subscriberAction), async (req, reply) => {
    const { id, action } = req.params;
    try {
      const r = await operatorAction(deps, id, action satisfies OperatorActionName, {
        actor: API_ACTOR,
      });
      return { ok: true as const, ...r };
    } catch (err) {
      if (err instanceof OperatorActionError)
        return reply.code(err.status).send({ error: err.code, message: err.message });
      throw err;
    }
  });

  // An operator's one-off message (flows/operator-message.ts); refusals are its own codes.
  api.post(...route(API.sendMessage), async (req, reply) => {
    const { channel, text, template, idempotencyKey } = req.body;
    try {
      const r = await sendOperatorMessage(deps, req.params.id, {
        channel,
        text,
        actor: API_ACTOR,
        startedFrom: template,
        idempotencyKey,
      });
      return reply.code(202).send({
        ok: true as const,
        messageId: r.messageId,
        created: r.created,
        timing: r.timing.kind,
        heldUntil: r.timing.kind === 'held' ? r.timing.until : null,
        segments: r.segments,
      });
    } catch (err) {
      if (err instanceof OperatorMessageError)
        return reply.code(err.status).send({ error: err.code, message: err.message });
      throw err;
    }
  });

  // Figures per live program (admin/stats.ts), each named by its program: counts only.
  api.get(...route(API.programStats), async () => ({
    programs: await programFigures(deps, new Date(), deps.clock.now()),
  }));

  // Replies that may have asked to stop (flows/optout-queries.ts): ids, ages and deadlines only.
  api.get(...route(API.listOptOutQueries), async (req) => {
    const open = req.query.status !== 'settled';
    const rows = await listOptOutQueries(deps, { open });
    return {
      queries: rows.map(({ subscriber, ...q }) => ({
        ...q,
        subscriberStatus: subscriber.status as SubscriberStatus,
      })),
    };
  });

  // A body without resolution opted_out or kept is refused by the schema: 400 bad_resolution.
  api.post(...route(API.resolveOptOutQuery), async (req, reply) => {
    const { id } = req.params;
    const { resolution } = req.body;
    try {
      const r = await resolveOptOutQuery(deps, id, resolution, API_ACTOR);
      return { ok: true as const, ...r };
    } catch (err) {
      if (err instanceof OptOutQueryError)
        return reply.code(err.status).send({ error: err.code, message: err.message });
      throw err;
    }
  });

  // Check-in results (flows/checkin-export.ts): pseudonymous rows, streamed, audited.
  api.get(...route(API.exportCheckins), async (req, reply) => {
    const asked = await exportFiltersOf(deps, req.query);
    if (!asked.ok)
      return reply.code(400).send({ error: asked.error.code, message: asked.error.message });
    return sendCheckinExport(deps, req, reply, API_ACTOR, asked.filters);
  });

  // Event webhooks: endpoints, secrets, deliveries (admin-webhooks-api.ts).
  await webhookApiRoutes(app, deps);

  // Experiments: outcomes per variant, and ending one (admin-experiments-api.ts).
  await experimentApiRoutes(app, deps);

  api.get(...route(API.openApi), async () => openApiDocument());
}
