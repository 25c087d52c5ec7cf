// The double opt-in link. GET /confirm/:token shows a page with a button and changes nothing: mail
// scanners and link previews open links on their own, and must not sign anyone up. The button
// POSTs to the same address (the signed token is all it needs), and only that confirms.
// Idempotent: confirming again says "all set" and sends nothing; an expired or broken link, on
// either method, offers a new one. The pages speak the language of the person the link is for.
import type { FastifyInstance } from 'fastify';
import type { Deps } from '../deps.ts';
import { confirmState, confirmSubscription } from '../email/confirm.ts';
import { confirmAskPage, confirmPage } from './email-pages.ts';
import { tokenLocale } from '../email/token-locale.ts';
import { evidenceOf, sendPage } from './email-request.ts';
import { pageWords } from './page-words.ts';

export async function emailConfirmRoutes(app: FastifyInstance, deps: Deps): Promise<void> {
  app.get('/confirm/:token', async (req, reply) => {
    const { token } = req.params as { token: string };
    const state = await confirmState(deps, token);
    const words = pageWords(deps.content, await tokenLocale(deps, 'confirm', token));
    if (state === 'ready')
      return sendPage(reply, 200, confirmAskPage(words, `/confirm/${encodeURIComponent(token)}`));
    const { status, html } = confirmPage(words, state);
    return sendPage(reply, status, html);
  });

  app.post('/confirm/:token', async (req, reply) => {
    const { token } = req.params as { token: string };
    const outcome = await confirmSubscription(
      deps,
      token,
      evidenceOf(req, 'confirm_link', deps.clock.now()),
    );
    const words = pageWords(deps.content, await tokenLocale(deps, 'confirm', token));
    const { status, html } = confirmPage(words, outcome);
    return sendPage(reply, status, html);
  });
}
