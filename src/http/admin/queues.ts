// The queue dashboard (bull-board) at /admin/queues, behind the console sign-in. Jobs carry only row
// ids, so the board shows no contact or text. bull-board's page sets <base href> and its scripts
// call its API with fetch(), so this plugin relaxes base-uri for its own pages and checks the
// Origin of its writes (its requests cannot carry our CSRF token).
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { FastifyInstance } from 'fastify';
import type { Deps } from '../../deps.ts';
import { QUEUE_NAMES } from '../../queues.ts';
import { BOARD_CSP } from '../security.ts';
import { guardConsole } from './auth.ts';

export const QUEUES_PATH = '/admin/queues';

export async function queueBoard(app: FastifyInstance, deps: Deps): Promise<void> {
  guardConsole(app, deps, { check: 'origin' });
  // Runs after the app-wide security headers (child hooks run after the parent's).
  app.addHook('onSend', async (_req, reply, payload) => {
    if (String(reply.getHeader('content-type') ?? '').startsWith('text/html'))
      reply.header('Content-Security-Policy', BOARD_CSP);
    return payload;
  });
  const adapter = new FastifyAdapter();
  adapter.setBasePath(QUEUES_PATH);
  createBullBoard({
    queues: QUEUE_NAMES.map((name) => new BullMQAdapter(deps.queues[name])),
    serverAdapter: adapter,
    options: {
      uiConfig: {
        boardTitle: 'Queues',
        hideDocsLink: true,
        miscLinks: [{ text: 'Back to console', url: '/admin' }],
      },
    },
  });
  await app.register(adapter.registerPlugin());
}
