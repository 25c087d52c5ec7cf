// /resources: where to get help, for the default country, from messages/safety.yaml (resources are
// data, never hard-coded), in the language asked for (`?language=es`: the Spanish lines). A person
// may read this on a phone someone else checks: the tab title is neutral, the quick-exit button
// (and Esc) leaves for a weather site, and nothing is stored.
import type { FastifyInstance } from 'fastify';
import type { Deps } from '../deps.ts';
import { esc, page } from './html.ts';
import { resourcesFor } from '../safety/resources.ts';
import { pageWords } from './page-words.ts';

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
      /\bmanda ([A-Z]+) al (\d{3,6})\b/g,
      (m, word: string, num: string) => `<a href="sms:${num}?body=${word}">${m}</a>`,
    )
    .replace(
      /\b(call or text|call|llama al) (\d{3})\b/g,
      (_m, verb: string, num: string) => `${verb} <a href="tel:${num}">${num}</a>`,
    )
    .replace(
      /\b((?:[a-z0-9-]+\.)+(?:org|com|net|gov|ca|uk))\b(?![^<]*>)/gi,
      (d) => `<a href="https://${d}" rel="noreferrer">${d}</a>`,
    );
}

export async function resourcesPage(app: FastifyInstance, deps: Deps): Promise<void> {
  app.get('/resources', async (req, reply) => {
    const words = pageWords(deps.content, ((req.query ?? {}) as { language?: unknown }).language);
    const s = words.say;
    const r = resourcesFor(deps.content.resources, deps.config.defaultCountry, words.locale);
    const list = (lines: string[] | undefined) =>
      lines?.length
        ? `<ul>${lines.map((l) => `<li>${linkify(l)}</li>`).join('')}</ul>`
        : `<p class="muted">${s('resources_none_listed')}</p>`;
    const body = r
      ? `<h1>${s('resources_heading')}</h1>
<section class="card" aria-labelledby="now"><h2 id="now">${s('resources_danger_heading')}</h2><p>${s('resources_call', { number: /^\d{3}$/.test(r.emergency) ? `<a href="tel:${r.emergency}">${r.emergency}</a>` : esc(r.emergency) })}</p></section>
<section class="card" aria-labelledby="control"><h2 id="control">${s('resources_abuse_heading')}</h2>${list(r.abuse)}
<p>${s('resources_abuse_note')}</p></section>
<section class="card" aria-labelledby="self"><h2 id="self">${s('resources_self_heading')}</h2>${list(r.self_harm)}</section>`
      : `<h1>${s('resources_heading')}</h1><p>${s('resources_not_configured')}</p>`;
    return reply.type('text/html; charset=utf-8').send(
      page(
        `${body}
<section class="card" aria-labelledby="private"><h2 id="private">${s('resources_private_heading')}</h2><ul>
<li>${s('resources_private_exit', { exit: `<strong>${s('quick_exit')}</strong>` })}</li>
<li>${s('resources_private_window')}</li>
<li>${s('resources_private_stop')}</li></ul></section>`,
        {
          head: '<style>.card h2{font-size:1.15rem;margin:0 0 .5rem}</style>',
          lang: words.locale,
          quickExitLabel: s('quick_exit'),
        },
      ),
    );
  });
}
