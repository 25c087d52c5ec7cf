// One subscriber: everything that happened, newest first (messages both ways with their status,
// consent events, check-in answers, safety flags), and the operator's actions. Their own words
// are behind the same audited reveal as on the review page, and so is their whole contact (the
// page shows it masked); each view of the page is audited too (read-audit.ts).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Deps } from '../../deps.ts';
import {
  operatorAction,
  OperatorActionError,
  type OperatorActionName,
} from '../../flows/operator.ts';
import { esc } from '../html.ts';
import { eraseFromConsole } from './erase.ts';
import {
  backTo,
  backWithError,
  consolePage,
  csrfField,
  maskedContact,
  noteFrom,
  scrollingTable,
  sendPage,
  statusFrom,
  when,
} from './layout.ts';
import {
  operatorMessageCard,
  operatorMessageRoutes,
  type OperatorFormState,
} from './operator-message.ts';
import { auditContactRead } from './read-audit.ts';
import { contactRevealControl, REVEAL_SCRIPT, revealControl } from './reveal.ts';
import { CONFIRM_SCRIPT } from './review.ts';
import { OPERATOR_TEMPLATE } from '../../core/operator-message.ts';
import { sessionOf, type ConsoleSession } from './session.ts';

const UUID = /^[0-9a-f-]{36}$/;

interface Entry {
  at: Date;
  what: string;
  channel: string;
  status: string;
  detail: string;
}

async function load(deps: Pick<Deps, 'db'>, id: string) {
  return deps.db.subscriber.findUnique({
    where: { id },
    include: {
      enrollments: { include: { checkins: { where: { answeredAt: { not: null } } } } },
      flags: true,
      consents: true,
      messages: { orderBy: { createdAt: 'desc' }, take: 500 },
    },
  });
}
type Loaded = NonNullable<Awaited<ReturnType<typeof load>>>;

/** An operator's one-off message shows their words (the row's body holds the sent email's
 * greeting and footer too), and when it waits for the person's quiet hours to end. */
function operatorDetail(m: Loaded['messages'][number], now: Date): string {
  const text = (m.vars as { operatorText?: unknown } | null)?.operatorText;
  const shown = typeof text === 'string' ? text : (m.body ?? '');
  const held =
    m.status === 'queued' && m.dueAt && m.dueAt > now
      ? `<br><span class="muted">waits for the person’s quiet hours to end: ${when(m.dueAt)}</span>`
      : '';
  return `<span style="white-space:pre-wrap">${esc(shown.slice(0, 1000))}</span>${held}`;
}

function timeline(sub: Loaded, s: ConsoleSession, now: Date): Entry[] {
  const entries: Entry[] = sub.messages.map((m) =>
    m.direction === 'in'
      ? {
          at: m.createdAt,
          what: '← Reply',
          channel: m.channel,
          status: m.status,
          detail: m.bodyEnc
            ? revealControl(
                `/admin/messages/${m.id}/reveal`,
                s.csrf,
                `received ${m.createdAt.toISOString().slice(0, 19).replace('T', ' ')} UTC`,
              )
            : '<span class="muted">text not kept</span>',
        }
      : m.template === OPERATOR_TEMPLATE
        ? {
            at: m.sentAt ?? m.createdAt,
            what: '→ Operator message',
            channel: m.channel,
            status: m.status + (m.error ? ` (${m.error})` : ''),
            detail: operatorDetail(m, now),
          }
        : {
            at: m.sentAt ?? m.createdAt,
            what: `→ ${esc(m.kind)}${m.step || m.template ? ` <span class="muted">${esc(m.step ?? m.template)}</span>` : ''}`,
            channel: m.channel,
            status: m.status + (m.error ? ` (${m.error})` : ''),
            detail: `${m.subject ? `<strong>${esc(m.subject)}</strong><br>` : ''}<span style="white-space:pre-wrap">${esc((m.body ?? '').slice(0, 400))}</span>`,
          },
  );
  for (const c of sub.consents)
    entries.push({
      at: c.at,
      what: `Consent: ${esc(c.kind.replace('_', ' '))}`,
      channel: c.channel,
      status: '',
      detail: `source ${esc(c.source)}`,
    });
  for (const f of sub.flags)
    entries.push({
      at: f.createdAt,
      what: `<span class="badge ${esc(f.category)}">Flag: ${esc(f.category.replace('_', ' '))}</span>`,
      channel: '',
      status: f.status,
      detail: [
        f.matched.length ? `matched ${f.matched.map(esc).join(', ')}` : '',
        f.note ? `note: ${esc(f.note)}` : '',
      ]
        .filter(Boolean)
        .join('<br>'),
    });
  for (const e of sub.enrollments)
    for (const c of e.checkins)
      entries.push({
        at: c.answeredAt!,
        what: `Check-in week ${c.week} answered`,
        channel: e.channel,
        status: '',
        detail: c.rating === null ? 'no rating' : `rating ${c.rating} of 5`,
      });
  return entries.sort((a, b) => b.at.getTime() - a.at.getTime());
}

function actions(sub: Loaded, s: ConsoleSession): string {
  const e = sub.enrollments[0];
  const form = (action: string, label: string, cls = '', confirm = '') =>
    `<form method="post" action="/admin/subscribers/${sub.id}/${action}"${confirm ? ` data-confirm="${esc(confirm)}"` : ''}>${csrfField(s)}<button class="${cls}">${label}</button></form>`;
  const parts: string[] = [];
  if (e?.state === 'active') parts.push(form('pause', 'Pause', 'secondary'));
  if (e && ['paused', 'safety_hold'].includes(e.state))
    parts.push(
      form('resume', e.state === 'safety_hold' ? 'Clear hold and resume' : 'Resume', 'secondary'),
    );
  if (sub.status !== 'stopped')
    parts.push(form('stop', 'Stop', 'danger', 'Stop all messages to this person?'));
  parts.push(
    form(
      'erase',
      'Erase all data',
      'danger',
      'Erase everything about this person? This cannot be undone.',
    ),
  );
  return `<div class="actions" aria-label="Actions">${parts.join('')}</div>`;
}

/** The page; `form` and `status` when it answers a post of its message card (a preview, or a
 * refused send shown with its reason and the operator's text). */
async function renderPage(
  deps: Deps,
  req: FastifyRequest,
  reply: FastifyReply,
  id: string,
  form: OperatorFormState = {},
  status = 200,
) {
  const s = sessionOf(req);
  const sub = UUID.test(id) ? await load(deps, id) : null;
  if (!sub)
    return sendPage(
      reply,
      consolePage(s, {
        title: 'Not found',
        tab: 'subscribers',
        body: '<h1>No such subscriber</h1><p>They may have been erased. <a href="/admin/subscribers">Find another</a>.</p>',
      }),
      404,
    );
  await auditContactRead(deps, req, { actor: s.actor, subscriberId: sub.id });
  const rows = timeline(sub, s, deps.clock.now())
    .map(
      (t) =>
        `<tr><td>${when(t.at, true)}</td><td>${t.what}</td><td>${esc(t.channel)}</td><td>${esc(t.status)}</td><td>${t.detail}</td></tr>`,
    )
    .join('');
  const e = sub.enrollments[0];
  const body = `<h1>Subscriber ${esc(maskedContact(sub))}</h1>
<div class="card"><div class="meta"><span>status <strong>${esc(sub.status)}</strong></span><span>enrollment <strong>${esc(e?.state ?? 'none')}</strong>${e ? ` by ${esc(e.channel)}` : ''}</span>
<span>next ${esc(e?.nextStep ?? '—')} ${e?.nextRunAt ? when(e.nextRunAt) : ''}</span><span>zone ${esc(sub.timezone)}</span><span>joined ${when(sub.createdAt)}</span></div>
${sub.phone || sub.email ? contactRevealControl(`/admin/subscribers/${sub.id}/contact`, s.csrf) : ''}
${actions(sub, s)}</div>
${operatorMessageCard(deps, sub, s, form)}
<h2>Timeline</h2>${scrollingTable(
    'Timeline',
    `<table><caption class="sr-only">Everything that happened, newest first</caption>
<thead><tr><th>When</th><th>What</th><th>Channel</th><th>Status</th><th>Detail</th></tr></thead><tbody>${rows || '<tr><td colspan="5">Nothing yet.</td></tr>'}</tbody></table>`,
  )}
${REVEAL_SCRIPT}${CONFIRM_SCRIPT}`;
  return sendPage(
    reply,
    consolePage(s, { title: 'Subscriber', tab: 'subscribers', body, ...statusFrom(req.query) }),
    status,
  );
}

export async function subscriberPageRoutes(app: FastifyInstance, deps: Deps): Promise<void> {
  app.get('/subscribers/:id', async (req, reply) =>
    renderPage(deps, req, reply, (req.params as { id: string }).id),
  );
  await operatorMessageRoutes(app, deps, (req, reply, id, form, status) =>
    renderPage(deps, req, reply, id, form, status),
  );

  app.post('/subscribers/:id/:action', async (req, reply) => {
    const { id, action } = req.params as { id: string; action: string };
    const { actor } = sessionOf(req);
    const page = `/admin/subscribers/${id}`;
    if (action === 'erase') {
      const sub = UUID.test(id)
        ? await deps.db.subscriber.findUnique({
            where: { id },
            select: { id: true, phone: true, email: true },
          })
        : null;
      if (!sub) return backWithError(reply, '/admin/subscribers', 'not_found');
      const { notRemoved } = await eraseFromConsole(deps, sub, actor);
      deps.log.info(
        { actor, action: 'erase', notRemoved: notRemoved.length },
        'subscriber erased from the console',
      );
      // The data is gone either way; say so when queued work could not be removed with it.
      if (notRemoved.length) return backWithError(reply, '/admin/subscribers', 'erase_partial');
      return backTo(reply, '/admin/subscribers', 'erased');
    }
    if (!['pause', 'resume', 'stop'].includes(action))
      return reply
        .code(404)
        .send({ error: 'not_found', message: 'Actions: pause, resume, stop, erase' });
    let name = action as OperatorActionName;
    if (name === 'resume' && UUID.test(id)) {
      // Resuming someone on a safety hold is clearing the hold (which also closes their open flags).
      const held = await deps.db.enrollment.count({
        where: { subscriberId: id, state: 'safety_hold' },
      });
      if (held) name = 'clear-hold';
    }
    try {
      await operatorAction(deps, id, name, { actor, note: noteFrom(req.body) });
    } catch (err) {
      if (err instanceof OperatorActionError)
        return backWithError(reply, err.status === 404 ? '/admin/subscribers' : page, err.code);
      throw err;
    }
    deps.log.info({ actor, subscriberId: id, action: name }, 'operator action');
    const done: Record<string, string> = {
      pause: 'paused',
      resume: 'resumed',
      'clear-hold': 'hold-cleared',
      stop: 'stopped',
    };
    return backTo(reply, page, done[name] ?? name);
  });
}
