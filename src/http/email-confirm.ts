// The double opt-in link. GET /confirm/:token shows a page with a button and changes nothing: mail
// scanners and link previews open links on their own, and must not sign anyone up. The button
// POSTs to the same address (the signed token is all it needs), and only that confirms.
// Idempotent: confirming again says "all set" and sends nothing; an expired or broken link, on
// either method, offers a new one.
import type { FastifyInstance } from 'fastify';
import type { Deps } from '../deps.ts';
import { confirmState, confirmSubscription } from '../email/confirm.ts';
import { confirmAskPage, confirmPage } from './email-pages.ts';
import { evidenceOf, sendPage } from './email-request.ts';

export async function emailConfirmRoutes(app: FastifyInstance, deps: Deps): Promise<void> {
  app.get('/confirm/:token', async (req, reply) => {
    const { token } = req.params as { token: string };
    const state = await confirmState(deps, token);
    if (state === 'ready')
      return sendPage(reply, 200, confirmAskPage(`/confirm/${encodeURIComponent(token)}`));
    const { status, html } = confirmPage(state);
    return sendPage(reply, status, html);
  });

  app.post('/confirm/:token', async (req, reply) => {
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
