// The operator console under /admin (the JSON API under /admin/api keeps its bearer token and is
// registered by buildApp). Sign-in is the only part open without a session; everything else sits
// in encapsulated plugins whose auth hook applies to their routes alone.
import type { FastifyInstance } from 'fastify';
import type { Deps } from '../../deps.ts';
import { guardConsole } from './auth.ts';
import { dashboardRoutes } from './dashboard.ts';
import { experimentRoutes } from './experiments.ts';
import { loginRoutes, logoutRoute } from './login.ts';
import { optOutRoutes } from './optouts.ts';
import { queueBoard, QUEUES_PATH } from './queues.ts';
import { revealRoutes } from './reveal.ts';
import { reviewRoutes } from './review.ts';
import { subscriberPageRoutes } from './subscriber-page.ts';
import { subscriberListRoutes } from './subscribers.ts';
import { webhookRoutes } from './webhooks.ts';

export async function adminConsole(app: FastifyInstance, deps: Deps): Promise<void> {
  await app.register(async (open) => loginRoutes(open, deps), { prefix: '/admin' });
  await app.register(
    async (guarded) => {
      guardConsole(guarded, deps, { check: 'csrf' });
      await logoutRoute(guarded, deps);
      await reviewRoutes(guarded, deps);
      await optOutRoutes(guarded, deps);
      await revealRoutes(guarded, deps);
      await subscriberListRoutes(guarded, deps);
      await subscriberPageRoutes(guarded, deps);
      await dashboardRoutes(guarded, deps);
      await experimentRoutes(guarded, deps);
      await webhookRoutes(guarded, deps);
    },
    { prefix: '/admin' },
  );
  await app.register(async (board) => queueBoard(board, deps), { prefix: QUEUES_PATH });
}
