// The admin API's experiment routes (/admin/api/experiments), inside adminApi's plugin (its bearer
// ADMIN_TOKEN hook applies). Contracts in api-schemas.ts; the work in src/flows/experiments.ts.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Deps } from '../deps.ts';
import { endVariant, experimentsReport } from '../flows/experiments.ts';
import { API, routeOptions, within } from './api-schemas.ts';
import { API_ACTOR } from './admin/read-audit.ts';

const PREFIX = '/admin/api';

/** HTTP status of each reason ending a variant can be refused. */
export const END_REFUSALS = {
  unknown_program: 404,
  unknown_variant: 404,
  already_ended: 409,
  last_variant: 409,
} as const;

export async function experimentApiRoutes(app: FastifyInstance, deps: Deps): Promise<void> {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const route = <C extends (typeof API)[keyof typeof API]>(c: C) =>
    [within(PREFIX, c), routeOptions(c)] as const;

  api.get(...route(API.listExperiments), async (req, reply) => {
    const program = req.query.program;
    if (program !== undefined && !deps.programs.get(program))
      return reply.code(404).send({ error: 'not_found', message: `No program "${program}".` });
    return experimentsReport(deps, program === undefined ? {} : { program });
  });

  api.post(...route(API.endExperimentVariant), async (req, reply) => {
    const r = await endVariant(deps, { ...req.body, actor: API_ACTOR, via: 'api' });
    if (!r.ok) return reply.code(END_REFUSALS[r.code]).send({ error: r.code, message: r.message });
    return {
      ok: true as const,
      program: r.program,
      step: r.step,
      variant: r.variant,
      endedAt: r.endedAt.toISOString(),
    };
  });
}
