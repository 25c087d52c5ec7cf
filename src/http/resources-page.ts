// /resources: where to get help, for the default country, from messages/safety.yaml (resources are
// data, never hard-coded). A person may read this on a phone someone else checks: the tab title is
// neutral, the quick-exit button (and Esc) leaves for a weather site, and nothing is stored.
import type { FastifyInstance } from 'fastify';
import type { Deps } from '../deps.ts';
import { esc, page } from './html.ts';
import { resourcesFor } from '../safety/resources.ts';

/** Phone numbers and web addresses in a resource line become links a phone can open directly. */
export function linkify(line: string): string {
  return esc(line)
    .replace(
      /\b(1-\d{3}-\d{3}-\d{4}|\d{3}-\d{3}-\d{4})\b/g,
      (n) => `<a href="tel:${n.replace(/-/g, '')}">${n}</a>`,
    )
    .replace(
      /\btext ([A-Z]+) to (\d{3,6})\b/g,
      (m, word: string, num: string) => `<a href="sms:${num}?body=${word}">${m}</a>`,
    )
    .replace(
      /\b(call or text|call) (\d{3})\b/g,
      (_m, verb: string, num: string) => `${verb} <a href="tel:${num}">${num}</a>`,
    )
    .replace(
      /\b((?:[a-z0-9-]+\.)+(?:org|com|net|gov|ca|uk))\b(?![^<]*>)/gi,
      (d) => `<a href="https://${d}" rel="noreferrer">${d}</a>`,
    );
}

export async function resourcesPage(app: FastifyInstance, deps: Deps): Promise<void> {
  app.get('/resources', async (_req, reply) => {
    const r = resourcesFor(deps.content.resources, deps.config.defaultCountry);
    const list = (lines: string[] | undefined) =>
      lines?.length
        ? `<ul>${lines.map((l) => `<li>${linkify(l)}</li>`).join('')}</ul>`
        : '<p class="muted">No lines listed yet.</p>';
    const body = r
      ? `<h1>Getting help</h1>
<section class="card" aria-labelledby="now"><h2 id="now">If you are in danger right now</h2><p>${/^\d{3}$/.test(r.emergency) ? `Call <a href="tel:${r.emergency}">${r.emergency}</a>.` : `Call ${esc(r.emergency)}.`}</p></section>
<section class="card" aria-labelledby="control"><h2 id="control">If someone is hurting, threatening or controlling you</h2>${list(r.abuse)}
<p>You do not have to be sure it is abuse to call. Advocates listen, and you decide what happens next.</p></section>
<section class="card" aria-labelledby="self"><h2 id="self">If you are thinking about hurting yourself</h2>${list(r.self_harm)}</section>`
      : '<h1>Getting help</h1><p>Help lines are not configured yet.</p>';
    return reply.type('text/html; charset=utf-8').send(
      page(
        `${body}
<section class="card" aria-labelledby="private"><h2 id="private">Staying private</h2><ul>
<li>The <strong>Quick exit</strong> button, or the Esc key, leaves this page for a weather site at once.</li>
<li>If someone checks your phone or computer, a private or incognito window keeps this page out of the history.</li>
<li>To stop messages from us, reply STOP to a text, or use the link at the bottom of any email.</li></ul></section>`,
        { head: '<style>.card h2{font-size:1.15rem;margin:0 0 .5rem}</style>' },
      ),
    );
  });
}
