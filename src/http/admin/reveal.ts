// Reading a person's own words. Reply text is stored encrypted and no console page contains it:
// an operator asks for one message at a time (a POST with the CSRF token), and each time leaves an
// audit event and a log line that say who looked at which message, never what it said. A flag's
// "why" (the features that drove its score) may quote the reply, so it is shown only here, with it.
// A person's whole phone number or address (pages show it masked) is revealed the same way, and
// audited as `contact.reveal` (read-audit.ts).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Deps } from '../../deps.ts';
import { decryptText } from '../../security/crypto.ts';
import { scriptAsset } from '../assets.ts';
import { esc } from '../html.ts';
import { consolePage, sendPage } from './layout.ts';
import { auditContactRead } from './read-audit.ts';
import { sessionOf } from './session.ts';

const UUID = /^[0-9a-f-]{36}$/;

export type RevealResult =
  { ok: true; text: string; why?: string[] } | { ok: false; status: number; message: string };

/** A flag's encrypted "why" list; null when it cannot be read with the configured keys. */
function decryptWhy(
  deps: Pick<Deps, 'config' | 'log'>,
  flagId: string,
  whyEnc: string | null,
): string[] | null {
  if (!whyEnc) return [];
  try {
    const why: unknown = JSON.parse(decryptText(deps.config.encryptionKeys, whyEnc));
    if (Array.isArray(why) && why.every((w) => typeof w === 'string')) return why;
    throw new Error('not a list of strings');
  } catch (err) {
    deps.log.error({ flagId, err: (err as Error).message }, 'flag reasons could not be read');
    return null;
  }
}

export async function revealMessage(
  deps: Pick<Deps, 'db' | 'config' | 'log'>,
  messageId: string,
  audit: { actor: string; action: 'flag.reveal' | 'message.reveal'; target: string },
): Promise<RevealResult> {
  const m = UUID.test(messageId)
    ? await deps.db.message.findUnique({
        where: { id: messageId },
        select: { id: true, subscriberId: true, direction: true, bodyEnc: true },
      })
    : null;
  if (!m || m.direction !== 'in') return { ok: false, status: 404, message: 'No such reply.' };
  if (!m.bodyEnc)
    return { ok: false, status: 410, message: 'The text of this reply is no longer kept.' };
  let text: string;
  try {
    text = decryptText(deps.config.encryptionKeys, m.bodyEnc);
  } catch (err) {
    deps.log.error(
      { messageId: m.id, err: (err as Error).message },
      'reply could not be decrypted',
    );
    return {
      ok: false,
      status: 500,
      message: 'This reply cannot be decrypted with the configured keys.',
    };
  }
  await deps.db.auditEvent.create({
    data: {
      actor: audit.actor,
      action: audit.action,
      target: audit.target,
      detail: { messageId: m.id, subscriberId: m.subscriberId },
    },
  });
  deps.log.info(
    { actor: audit.actor, action: audit.action, target: audit.target, messageId: m.id },
    'reply revealed to an operator',
  );
  return { ok: true, text };
}

/** JSON for the page's script; a small page for a browser without it (the form still works). */
function answer(req: FastifyRequest, reply: FastifyReply, r: RevealResult, what = 'Reply') {
  reply.header('Cache-Control', 'no-store');
  if (/application\/json/.test(req.headers.accept ?? '')) {
    return r.ok
      ? reply.send(r.why ? { text: r.text, why: r.why } : { text: r.text })
      : reply.code(r.status).send({ error: 'not_available', message: r.message });
  }
  // No Referer arrives (Referrer-Policy: no-referrer), so "back" is the review page.
  const back = '/admin';
  const body = r.ok
    ? `<h1>${esc(what)}</h1><blockquote class="reply">${esc(r.text)}</blockquote>${whyList(r.why)}<p><a href="${esc(back)}">Back</a></p>`
    : `<h1>${esc(what)}</h1><p>${esc(r.message)}</p><p><a href="${esc(back)}">Back</a></p>`;
  return sendPage(reply, consolePage(sessionOf(req), { title: what, body }), r.ok ? 200 : r.status);
}

export async function revealRoutes(app: FastifyInstance, deps: Deps): Promise<void> {
  app.post('/flags/:id/reveal', async (req, reply) => {
    const { id } = req.params as { id: string };
    const flag = UUID.test(id)
      ? await deps.db.safetyFlag.findUnique({
          where: { id },
          select: { id: true, messageId: true, whyEnc: true },
        })
      : null;
    if (!flag?.messageId)
      return answer(req, reply, {
        ok: false,
        status: 404,
        message: 'No reply is attached to this flag.',
      });
    // Read before the reveal is recorded, so a failure shows nothing and records nothing.
    const why = decryptWhy(deps, flag.id, flag.whyEnc);
    if (!why)
      return answer(req, reply, {
        ok: false,
        status: 500,
        message: 'The reasons for this flag cannot be decrypted with the configured keys.',
      });
    const r = await revealMessage(deps, flag.messageId, {
      actor: sessionOf(req).actor,
      action: 'flag.reveal',
      target: flag.id,
    });
    return answer(req, reply, r.ok ? { ...r, why } : r);
  });

  app.post('/subscribers/:id/contact', async (req, reply) => {
    const { id } = req.params as { id: string };
    const sub = UUID.test(id)
      ? await deps.db.subscriber.findUnique({
          where: { id },
          select: { id: true, phone: true, email: true },
        })
      : null;
    const contact = [sub?.phone, sub?.email].filter(Boolean).join(' · ');
    if (!sub || !contact)
      return answer(
        req,
        reply,
        { ok: false, status: 404, message: 'No contact is kept for this subscriber.' },
        'Contact',
      );
    const { actor } = sessionOf(req);
    await auditContactRead(deps, req, { actor, subscriberId: sub.id, action: 'contact.reveal' });
    deps.log.info(
      { actor, action: 'contact.reveal', subscriberId: sub.id },
      'contact revealed to an operator',
    );
    return answer(req, reply, { ok: true, text: contact }, 'Contact');
  });

  app.post('/messages/:id/reveal', async (req, reply) => {
    const { id } = req.params as { id: string };
    return answer(
      req,
      reply,
      await revealMessage(deps, id, {
        actor: sessionOf(req).actor,
        action: 'message.reveal',
        target: id,
      }),
    );
  });
}

function whyList(why: string[] | undefined): string {
  if (!why?.length) return '';
  return `<div class="why"><strong>Why it was flagged</strong><ul>${why.map((w) => `<li>${esc(w)}</li>`).join('')}</ul></div>`;
}

/** The button and the script that swaps it for the text; the form works without the script. */
export function revealControl(action: string, csrf: string, context = ''): string {
  // `context` tells a screen reader which of several "Show reply" buttons this is.
  const more = context ? `<span class="sr-only"> ${esc(context)}</span>` : '';
  return `<form method="post" action="${esc(action)}" class="reveal" data-reveal><input type="hidden" name="_csrf" value="${esc(csrf)}"><button class="secondary" type="submit">Show reply${more}</button><span class="muted"> Opening it is recorded.</span></form>`;
}

/** "Show contact": the whole phone number or address, revealed like a reply (and audited). */
export function contactRevealControl(action: string, csrf: string): string {
  return `<form method="post" action="${esc(action)}" class="reveal" data-reveal><input type="hidden" name="_csrf" value="${esc(csrf)}"><button class="secondary" type="submit">Show contact</button><span class="muted"> Opening it is recorded.</span></form>`;
}

export const REVEAL_SCRIPT = scriptAsset(
  'reveal',
  `
document.addEventListener('submit', function (e) {
  var form = e.target;
  if (!form.hasAttribute || !form.hasAttribute('data-reveal')) return;
  e.preventDefault();
  var button = form.querySelector('button');
  button.disabled = true;
  fetch(form.action, { method: 'POST', credentials: 'same-origin', headers: { 'Accept': 'application/json', 'Content-Type': 'application/json', 'X-CSRF-Token': form._csrf.value }, body: '{}' })
    .then(function (r) { return r.json().then(function (j) { return { ok: r.ok, j: j }; }); })
    .then(function (res) {
      var q = document.createElement('blockquote');
      q.className = 'reply';
      q.tabIndex = -1;
      q.textContent = res.ok ? res.j.text : (res.j.message || 'Could not open this reply.');
      var out = document.createElement('div');
      out.appendChild(q);
      if (res.ok && res.j.why && res.j.why.length) {
        var why = document.createElement('div');
        why.className = 'why';
        var title = document.createElement('strong');
        title.textContent = 'Why it was flagged';
        var list = document.createElement('ul');
        res.j.why.forEach(function (w) {
          var li = document.createElement('li');
          li.textContent = w;
          list.appendChild(li);
        });
        why.appendChild(title);
        why.appendChild(list);
        out.appendChild(why);
      }
      form.replaceWith(out);
      q.focus();
    })
    .catch(function () { button.disabled = false; });
});
`,
);
