// /dev: the local outbox, only with outbox transports. What Steady "sent" is readable here, and a
// person can answer as the subscriber (the local phone, /dev/phone) through the same pipeline as Twilio.
import type { FastifyInstance } from 'fastify';
import { listOutbox, type OutboxEntry } from '../channels/outbox.ts';
import type { Deps } from '../deps.ts';
import { esc, page } from './html.ts';

const OUTBOX_CSS = `<style>
main{max-width:56rem}.filters{display:flex;flex-wrap:wrap;gap:.75rem;align-items:flex-end}.filters>div{flex:1 1 12rem}
.filters label{margin-top:0}.item{display:grid;grid-template-columns:5.5rem 1fr;gap:.25rem 1rem}
.item .kind{font-size:.85rem;font-weight:600;border-radius:999px;padding:.1rem .5rem;background:#eef2f6;justify-self:start;align-self:start}
ul.links a{overflow-wrap:anywhere}
.item .kind.email{background:#e0eaff;color:#173c8f}.item .kind.sms{background:#e7f6ec;color:#05603a}
.item p{margin:.15rem 0;white-space:pre-wrap;overflow-wrap:anywhere}.item .meta{color:#4b5563;font-size:.9rem}
dl.head{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}dl.head dt{font-weight:600}dl.head dd{margin:0;overflow-wrap:anywhere}
iframe.mail{width:100%;height:70vh;border:1px solid #d0d5dd;border-radius:8px;background:#fff}
pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#fff;border:1px solid #d0d5dd;border-radius:8px;padding:1rem}
</style>`;

const time = (iso: string) =>
  `<time datetime="${esc(iso)}">${esc(iso.replace('T', ' ').slice(0, 19))} UTC</time>`;

function itemCard(r: OutboxEntry): string {
  const text =
    r.channel === 'email'
      ? `<p><a href="/dev/outbox/${esc(r.id)}/view"><strong>${esc(r.subject ?? '(no subject)')}</strong></a></p>`
      : `<p>${esc(r.body)}</p>`;
  return `<li class="card item"><span class="kind ${esc(r.channel)}">${r.channel === 'email' ? 'Email' : 'SMS'}</span>
<div>${text}<div class="meta">to ${esc(r.to)} · ${esc(r.kind)} · ${time(r.createdAt)}</div></div></li>`;
}

/** Links in an email's text version (confirm, unsubscribe): clickable here, outside the frame. */
export function linksIn(text: string): string[] {
  return [...new Set(text.match(/https?:\/\/[^\s<>()"']+/g) ?? [])];
}

export async function devRoutes(app: FastifyInstance, deps: Deps): Promise<void> {
  app.get('/dev/outbox.json', async (req, reply) => {
    const q = req.query as { to?: string; after?: string; limit?: string; channel?: string };
    const after = q.after ? new Date(q.after) : undefined;
    if (after && Number.isNaN(after.getTime()))
      return reply.code(400).send({ error: 'bad_after', message: 'after must be an ISO time' });
    const channel = q.channel === 'sms' || q.channel === 'email' ? q.channel : undefined;
    return listOutbox(deps.db, {
      to: q.to,
      after,
      channel,
      limit: q.limit ? Number(q.limit) || 200 : 200,
    });
  });

  app.get('/dev/outbox', async (req, reply) => {
    const q = req.query as { to?: string; channel?: string };
    const to = q.to?.trim() || undefined;
    const channel = q.channel === 'sms' || q.channel === 'email' ? q.channel : undefined;
    const rows = (await listOutbox(deps.db, { to, channel, limit: 200 })).reverse();
    const option = (v: string, label: string) =>
      `<option value="${v}"${(channel ?? '') === v ? ' selected' : ''}>${label}</option>`;
    return reply.type('text/html; charset=utf-8').send(
      page(
        `<h1>Local outbox</h1>
<p class="muted">What Steady would have sent, newest first. Reply as a subscriber on the <a href="/dev/phone">local phone</a> · <a href="/dev/outbox.json">JSON</a></p>
<form method="get" class="card filters" role="search"><div><label for="to">Recipient (exact)</label><input id="to" name="to" value="${esc(to ?? '')}" placeholder="+12025550123 or name@example.com"></div>
<div><label for="channel">Channel</label><select id="channel" name="channel">${option('', 'Both')}${option('sms', 'SMS')}${option('email', 'Email')}</select></div>
<div style="flex:0 0 auto"><button>Filter</button></div></form>
<ol style="list-style:none;padding:0">${rows.map(itemCard).join('') || '<li class="card">Nothing yet.</li>'}</ol>`,
        { title: 'Outbox', quickExit: false, head: OUTBOX_CSS },
      ),
    );
  });

  // The email as a mail client would show it: headers, the HTML in a sandboxed frame (no scripts,
  // no remote images under this page's policy) and the plain-text part.
  app.get('/dev/outbox/:id/view', async (req, reply) => {
    const { id } = req.params as { id: string };
    const r = /^[0-9a-f-]{36}$/.test(id)
      ? await deps.db.outboxItem.findUnique({ where: { id } })
      : null;
    if (!r) return reply.code(404).send({ error: 'not_found' });
    const headers = {
      From: r.from,
      To: r.to,
      Subject: r.subject ?? '',
      Kind: r.kind,
      ...((r.headers ?? {}) as Record<string, string>),
    };
    const links = linksIn(r.body);
    const html = r.html ? r.html.replace(/<a\s/gi, '<a target="_blank" rel="noopener" ') : '';
    return reply.type('text/html; charset=utf-8').send(
      page(
        `<p><a href="/dev/outbox">← Outbox</a></p><h1>${esc(r.subject ?? 'Message')}</h1>
<div class="card"><dl class="head">${Object.entries(headers)
          .map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`)
          .join('')}<dt>Sent</dt><dd>${time(r.createdAt.toISOString())}</dd></dl></div>
${links.length ? `<h2>Links in this message</h2><ul class="links">${links.map((l) => `<li><a href="${esc(l)}">${esc(l)}</a></li>`).join('')}</ul>` : ''}
${html ? `<h2>As HTML</h2><iframe class="mail" title="Email as HTML" sandbox="allow-popups allow-popups-to-escape-sandbox" srcdoc="${esc(html)}"></iframe>` : ''}
<h2>As plain text</h2><pre>${esc(r.body)}</pre>`,
        { title: 'Outbox', quickExit: false, head: OUTBOX_CSS },
      ),
    );
  });

  app.get('/dev/outbox/:id', async (req, reply) => {
    const { id } = req.params as { id: string };
    if (!/^[0-9a-f-]{36}$/.test(id)) return reply.code(404).send({ error: 'not_found' });
    const r = await deps.db.outboxItem.findUnique({ where: { id } });
    if (!r) return reply.code(404).send({ error: 'not_found' });
    if (r.channel === 'email' && r.html)
      return reply
        .type('text/html; charset=utf-8')
        .header(
          'Content-Security-Policy',
          "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
        )
        .send(r.html);
    return reply.type('text/plain; charset=utf-8').send(r.body);
  });
}
