// Finding a subscriber: an exact phone number or address, never a partial match (the console is
// not a way to browse people's contacts), and lists show contacts masked. Each list shown is
// audited: one event per page naming the subscribers on it (read-audit.ts).
import type { FastifyInstance } from 'fastify';
import { checkPhone } from '../../core/phone.ts';
import type { Deps } from '../../deps.ts';
import { normalizeEmail } from '../../flows/enroll.ts';
import { esc } from '../html.ts';
import { consolePage, csrfField, maskedContact, sendPage, statusFrom, when } from './layout.ts';
import { auditContactList } from './read-audit.ts';
import { sessionOf, type ConsoleSession } from './session.ts';

export type ContactQuery =
  { ok: true; where: { phone: string } | { email: string } } | { ok: false; message: string };

export function parseContact(deps: Pick<Deps, 'config'>, raw: string): ContactQuery {
  const q = raw.trim();
  if (q.includes('@')) {
    const email = normalizeEmail(q);
    return email
      ? { ok: true, where: { email } }
      : { ok: false, message: 'That is not an email address.' };
  }
  const p = checkPhone(
    q,
    ['US', 'CA', ...deps.config.allowedCountries],
    deps.config.defaultCountry,
  );
  return p.ok
    ? { ok: true, where: { phone: p.e164 } }
    : { ok: false, message: `That phone number is ${p.message}.` };
}

type Row = {
  id: string;
  phone: string | null;
  email: string | null;
  status: string;
  createdAt: Date;
  enrollments: { channel: string; state: string; nextStep: string | null }[];
  _count: { flags: number };
};

function row(s: Row): string {
  const e = s.enrollments[0];
  return `<tr><td><a href="/admin/subscribers/${esc(s.id)}">${esc(maskedContact(s))}</a></td><td>${esc(e?.channel ?? '')}</td>
<td>${esc(s.status)}</td><td>${esc(e?.state ?? 'none')}</td><td>${esc(e?.nextStep ?? '')}</td><td class="num">${s._count.flags}</td><td>${when(s.createdAt)}</td></tr>`;
}

const SELECT = {
  id: true,
  phone: true,
  email: true,
  status: true,
  createdAt: true,
  enrollments: { select: { channel: true, state: true, nextStep: true } },
  _count: { select: { flags: { where: { status: 'open' as const } } } },
};

function listPage(
  s: ConsoleSession,
  rows: Row[],
  opts: { searched: boolean; message?: string; echo?: string },
): string {
  const table = rows.length
    ? `<div class="table-wrap"><table><caption class="sr-only">Subscribers</caption><thead><tr><th>Contact</th><th>Channel</th><th>Status</th><th>Enrollment</th><th>Next step</th><th class="num">Open flags</th><th>Joined</th></tr></thead><tbody>${rows.map(row).join('')}</tbody></table></div>`
    : '';
  return `<h1>Subscribers</h1>
<form method="post" action="/admin/subscribers/search" class="card" role="search">${csrfField(s)}
<label for="contact">Phone number or email address (exact)</label>
<input id="contact" name="contact" value="${esc(opts.echo ?? '')}" inputmode="email" autocomplete="off" placeholder="+12025550123 or name@example.com">
<p><button>Find</button>${opts.searched ? ' <a href="/admin/subscribers">Show latest</a>' : ''}</p></form>
${opts.message ? `<p role="status">${esc(opts.message)}</p>` : ''}
${opts.searched ? '' : '<h2>Latest 50</h2>'}${table}`;
}

export async function subscriberListRoutes(app: FastifyInstance, deps: Deps): Promise<void> {
  app.get('/subscribers', async (req, reply) => {
    const s = sessionOf(req);
    const rows = await deps.db.subscriber.findMany({
      orderBy: { createdAt: 'desc' },
      take: 50,
      select: SELECT,
    });
    await auditContactList(deps, req, { actor: s.actor, subscriberIds: rows.map((r) => r.id) });
    const body = listPage(s, rows, { searched: false });
    return sendPage(
      reply,
      consolePage(s, { title: 'Subscribers', tab: 'subscribers', body, ...statusFrom(req.query) }),
    );
  });

  // A POST, so a contact never lands in a URL (browser history, proxy and server logs).
  app.post('/subscribers/search', async (req, reply) => {
    const s = sessionOf(req);
    const q = String((req.body as { contact?: unknown } | undefined)?.contact ?? '').slice(0, 320);
    const parsed = parseContact(deps, q);
    let body: string;
    if (!parsed.ok) body = listPage(s, [], { searched: true, message: parsed.message, echo: q });
    else {
      const rows = await deps.db.subscriber.findMany({ where: parsed.where, select: SELECT });
      await auditContactList(deps, req, { actor: s.actor, subscriberIds: rows.map((r) => r.id) });
      // The contact is shown again only when nothing matched, to help correct a typo.
      body = rows.length
        ? listPage(s, rows, { searched: true })
        : listPage(s, [], {
            searched: true,
            message: 'No subscriber has exactly that phone number or address.',
            echo: q,
          });
    }
    return sendPage(reply, consolePage(s, { title: 'Subscribers', tab: 'subscribers', body }));
  });
}
