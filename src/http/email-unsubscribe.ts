// GET /unsubscribe/:token shows a page with a button; it never unsubscribes, because mail
// scanners and link previews open links on their own. POST unsubscribes at once: the RFC 8058
// one-click POST from a mail client (body "List-Unsubscribe=One-Click", form-encoded or
// multipart) answers a plain 200, the page's button a page. Both are idempotent. The pages speak
// the language of the person the link is for.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Deps } from '../deps.ts';
import { unsubscribeState, unsubscribeWithToken } from '../email/unsubscribe.ts';
import { badUnsubscribeLinkPage, unsubscribeAskPage, unsubscribedPage } from './email-pages.ts';
import { tokenLocale } from '../email/token-locale.ts';
import { evidenceOf, sendPage } from './email-request.ts';
import { pageWords } from './page-words.ts';

/** Whether a POST is a mail client's one-click (RFC 8058) rather than our page's button. */
function isOneClick(req: FastifyRequest): boolean {
  const body = req.body;
  if (typeof body === 'string') return /List-Unsubscribe[\s\S]{0,80}One-Click/i.test(body); // multipart
  if (body && typeof body === 'object')
    return (body as Record<string, unknown>)['List-Unsubscribe'] === 'One-Click';
  return false;
}

export async function emailUnsubscribeRoutes(app: FastifyInstance, deps: Deps): Promise<void> {
  await app.register(async (scope) => {
    // RFC 8058 allows multipart/form-data; any POST to the link unsubscribes, so the body is only
    // looked at to choose the answer, and read as plain text.
    scope.addContentTypeParser(
      ['multipart/form-data', 'text/plain'],
      { parseAs: 'string', bodyLimit: 16 * 1024 },
      (_req, body, done) => done(null, body),
    );

    scope.get('/unsubscribe/:token', async (req, reply) => {
      const { token } = req.params as { token: string };
      const state = await unsubscribeState(deps, token);
      const words = pageWords(deps.content, await tokenLocale(deps, 'unsubscribe', token));
      if (state === 'invalid') return sendPage(reply, 400, badUnsubscribeLinkPage(words));
      if (state === 'already') return sendPage(reply, 200, unsubscribedPage(words));
      return sendPage(
        reply,
        200,
        unsubscribeAskPage(words, `/unsubscribe/${encodeURIComponent(token)}`),
      );
    });

    scope.post('/unsubscribe/:token', async (req, reply) => {
      const { token } = req.params as { token: string };
      const oneClick = isOneClick(req);
      const now = deps.clock.now();
      const outcome = await unsubscribeWithToken(
        deps,
        token,
        evidenceOf(req, oneClick ? 'one_click' : 'unsubscribe_page', now),
      );
      if (oneClick) {
        const ok = outcome !== 'invalid';
        return reply
          .code(ok ? 200 : 400)
          .type('text/plain; charset=utf-8')
          .send(ok ? 'Unsubscribed' : 'Invalid unsubscribe link');
      }
      const words = pageWords(deps.content, await tokenLocale(deps, 'unsubscribe', token));
      return outcome === 'invalid'
        ? sendPage(reply, 400, badUnsubscribeLinkPage(words))
        : sendPage(reply, 200, unsubscribedPage(words));
    });
  });
}
