// The admin API's event webhook routes (/admin/api/webhooks), inside adminApi's plugin (its
// bearer ADMIN_TOKEN hook applies). Contracts in api-schemas.ts; the work in src/webhooks/.
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Deps } from '../deps.ts';
import {
  createEndpoint,
  deleteEndpoint,
  listDeliveries,
  listEndpoints,
  replayDelivery,
  rotateSecret,
  updateEndpoint,
  WebhookError,
} from '../webhooks/endpoints.ts';
import { API, routeOptions, within, WebhookRotateBody } from './api-schemas.ts';
import { API_ACTOR } from './admin/read-audit.ts';

const PREFIX = '/admin/api';

function refuse(reply: FastifyReply, err: unknown) {
  if (err instanceof WebhookError)
    return reply.code(err.status).send({ error: err.code, message: err.message });
  throw err;
}

export async function webhookApiRoutes(app: FastifyInstance, deps: Deps): Promise<void> {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const route = <C extends (typeof API)[keyof typeof API]>(c: C) =>
    [within(PREFIX, c), routeOptions(c)] as const;

  api.post(...route(API.createWebhook), async (req, reply) => {
    try {
      return reply.code(201).send(await createEndpoint(deps, req.body, API_ACTOR));
    } catch (err) {
      return refuse(reply, err);
    }
  });

  api.get(...route(API.listWebhooks), async () => ({ endpoints: await listEndpoints(deps) }));

  api.post(...route(API.updateWebhook), async (req, reply) => {
    try {
      await updateEndpoint(deps, req.params.id, req.body, API_ACTOR);
      return { ok: true as const };
    } catch (err) {
      return refuse(reply, err);
    }
  });

  api.delete(...route(API.deleteWebhook), async (req, reply) => {
    try {
      await deleteEndpoint(deps, req.params.id, API_ACTOR);
      return { ok: true as const };
    } catch (err) {
      return refuse(reply, err);
    }
  });

  api.post(...route(API.rotateWebhookSecret), async (req, reply) => {
    const body = WebhookRotateBody.safeParse(req.body ?? {});
    if (!body.success)
      return reply.code(400).send({
        error: 'invalid_request',
        message: 'Send {"overlapSeconds": 0-604800} or no body',
      });
    try {
      return reply.code(201).send(await rotateSecret(deps, req.params.id, API_ACTOR, body.data));
    } catch (err) {
      return refuse(reply, err);
    }
  });

  api.get(...route(API.listWebhookDeliveries), async (req) => ({
    deliveries: (await listDeliveries(deps, { endpointId: req.params.id, take: 100 })).map((d) => ({
      ...d,
      status: d.status as 'pending' | 'queued' | 'delivered' | 'dead',
    })),
  }));

  api.post(...route(API.replayWebhookDelivery), async (req, reply) => {
    try {
      return reply.code(201).send(await replayDelivery(deps, req.params.id, API_ACTOR));
    } catch (err) {
      return refuse(reply, err);
    }
  });
}
