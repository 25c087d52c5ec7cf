// GET /confirm/:token: the double opt-in link. Idempotent: a second visit says "all set" and
// sends nothing; an expired or broken link offers a new one.
import type { FastifyInstance } from 'fastify';
import type { Deps } from '../deps.ts';
import { confirmSubscription } from '../email/confirm.ts';
import { confirmPage } from './email-pages.ts';
import { evidenceOf, sendPage } from './email-request.ts';

export async function emailConfirmRoutes(app: FastifyInstance, deps: Deps): Promise<void> {
  app.get('/confirm/:token', async (req, reply) => {
    const { token } = req.params as { token: string };
    const outcome = await confirmSubscription(
      deps,
      token,
      evidenceOf(req, 'confirm_link', deps.clock.now()),
    );
    const { status, html } = confirmPage(outcome);
    return sendPage(reply, status, html);
  });
}
