// Opt-out questions: replies that may have asked to stop, but not clearly ("I'm done", "how do I
// cancel?"). Each person was asked once ("Reply STOP to stop all messages"); here an operator reads
// the reply (a reveal, audited) and settles it. The page shows each question's age in business
// days and the day Steady settles it by itself (flows/optout-queries.ts), well inside the 10
// business days the FCC allows. Lists show contacts masked, and each list shown is audited.
import type { FastifyInstance } from 'fastify';
import type { Deps } from '../../deps.ts';
import {
  DEADLINE_BUSINESS_DAYS,
  LEGAL_LIMIT_BUSINESS_DAYS,
  listOptOutQueries,
  OptOutQueryError,
  resolveOptOutQuery,
  type OptOutQueryView,
} from '../../flows/optout-queries.ts';
import { esc } from '../html.ts';
import {
  backTo,
  backWithError,
  consolePage,
  csrfField,
  maskedContact,
  scrollingTable,
  sendPage,
  statusFrom,
  when,
} from './layout.ts';
import { auditContactList } from './read-audit.ts';
import { REVEAL_SCRIPT, revealControl } from './reveal.ts';
import { sessionOf, type ConsoleSession } from './session.ts';

const RESOLUTION_LABEL: Record<string, string> = { opted_out: 'Opted out', kept: 'Not an opt-out' };

function ageCell(q: OptOutQueryView): string {
  const late = q.ageBusinessDays >= DEADLINE_BUSINESS_DAYS - 2;
  const days = `${q.ageBusinessDays} business day${q.ageBusinessDays === 1 ? '' : 's'}`;
  return late ? `<strong class="late">${days}</strong>` : days;
}

function openCard(q: OptOutQueryView, s: ConsoleSession): string {
  return `<article class="card" aria-labelledby="q-${esc(q.id)}">
<h2 id="q-${esc(q.id)}" style="font-size:1.1rem;margin:0 0 .25rem">From ${esc(maskedContact(q.subscriber))} by ${esc(q.channel)}</h2>
<div class="meta"><span>received ${when(q.createdAt)}</span><span>age ${ageCell(q)}</span>
<span>settled by itself ${when(q.settleBy)}</span><span>legal limit ${when(q.dueBy)}</span>
<span>read as: ${esc(q.rule)}</span><span>subscriber ${esc(q.subscriber.status)}</span>
<a href="/admin/subscribers/${esc(q.subscriberId)}">Timeline</a></div>
${revealControl(`/admin/messages/${q.messageId}/reveal`, s.csrf, `from ${maskedContact(q.subscriber)}`)}
<div class="actions">
<form method="post" action="/admin/optouts/${esc(q.id)}/opted_out">${csrfField(s)}<button>Opt out (sends the confirmation)</button></form>
<form method="post" action="/admin/optouts/${esc(q.id)}/kept">${csrfField(s)}<button class="secondary">Not an opt-out</button></form>
</div></article>`;
}

function settledTable(rows: OptOutQueryView[]): string {
  if (!rows.length) return '';
  const body = rows
    .map(
      (q) =>
        `<tr><td><a href="/admin/subscribers/${esc(q.subscriberId)}">${esc(maskedContact(q.subscriber))}</a></td><td>${esc(q.channel)}</td><td>${when(q.createdAt)}</td><td>${esc(RESOLUTION_LABEL[q.resolution ?? ''] ?? q.resolution ?? '')}</td><td>${esc(q.resolvedBy ?? '')}</td><td>${when(q.resolvedAt)}</td></tr>`,
    )
    .join('');
  return `<h2>Recently settled</h2>${scrollingTable(
    'Recently settled opt-out questions',
    `<table><thead><tr><th>Contact</th><th>Channel</th><th>Received</th><th>Settled as</th><th>By</th><th>When</th></tr></thead><tbody>${body}</tbody></table>`,
  )}`;
}

export async function optOutRoutes(app: FastifyInstance, deps: Deps): Promise<void> {
  app.get('/optouts', async (req, reply) => {
    const s = sessionOf(req);
    const [open, settled] = await Promise.all([
      listOptOutQueries(deps, { open: true }),
      listOptOutQueries(deps, { open: false, take: 20 }),
    ]);
    await auditContactList(deps, req, {
      actor: s.actor,
      subscriberIds: [...open, ...settled].map((q) => q.subscriberId),
    });
    const body = `<h1>Opt-out questions</h1>
<p class="muted">Replies that may have asked to stop, but not clearly. Each person was already asked once to reply STOP if they meant it; a later STOP settles the question by itself. Anything left undecided after ${DEADLINE_BUSINESS_DAYS} business days is settled automatically (as an opt-out, unless the person has answered a check-in since), inside the ${LEGAL_LIMIT_BUSINESS_DAYS} business days the law allows.</p>
${open.length ? open.map((q) => openCard(q, s)).join('') : '<p role="status">No open questions.</p>'}
${settledTable(settled)}${REVEAL_SCRIPT}`;
    return sendPage(
      reply,
      consolePage(s, {
        title: 'Opt-out questions',
        tab: 'optouts',
        body,
        ...statusFrom(req.query),
      }),
    );
  });

  app.post('/optouts/:id/:resolution', async (req, reply) => {
    const { id, resolution } = req.params as { id: string; resolution: string };
    if (resolution !== 'opted_out' && resolution !== 'kept')
      return reply.code(404).send({ error: 'not_found' });
    try {
      await resolveOptOutQuery(deps, id, resolution, sessionOf(req).actor);
    } catch (err) {
      if (!(err instanceof OptOutQueryError)) throw err;
      return backWithError(reply, '/admin/optouts', err.code);
    }
    return backTo(
      reply,
      '/admin/optouts',
      resolution === 'kept' ? 'optout-kept' : 'optout-stopped',
    );
  });
}
