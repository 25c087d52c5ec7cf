// The safety review: the console's landing page. Open flags come first, highest risk first, with
// only what triage needs (band, risk, category, rules, time, channel, masked contact); the
// person's words, and the features that drove the score (which may quote them), stay hidden until
// an operator chooses to read them. Every action on a flag is audited.
import type { FastifyInstance } from 'fastify';
import type { Deps } from '../../deps.ts';
import { operatorAction, OperatorActionError } from '../../flows/operator.ts';
import { decideFlag } from '../../flows/review-decision.ts';
import { scriptAsset } from '../assets.ts';
import { esc } from '../html.ts';
import {
  backTo,
  backWithError,
  consolePage,
  csrfField,
  maskedContact,
  noteFrom,
  sendPage,
  statusFrom,
  when,
} from './layout.ts';
import { auditContactList } from './read-audit.ts';
import { REVEAL_SCRIPT, revealControl } from './reveal.ts';
import { sessionOf, type ConsoleSession } from './session.ts';

const UUID = /^[0-9a-f-]{36}$/;
const CATEGORY_LABEL: Record<string, string> = {
  abuse: 'Abuse or control',
  self_harm: 'Self-harm',
};
const BAND_LABEL: Record<string, string> = { act: 'Acted', ask: 'Asked' };
const DECISION_LABEL: Record<string, string> = { safe: 'Safe', danger: 'Danger' };
const ACTIONS = ['acknowledge', 'clear-hold', 'stop', 'safe', 'danger'];

type FlagRow = Awaited<ReturnType<typeof loadFlags>>[number];

async function loadFlags(
  deps: Pick<Deps, 'db'>,
  where: { status: 'open' } | { status: { in: ('acknowledged' | 'cleared')[] } },
  take: number,
) {
  const flags = await deps.db.safetyFlag.findMany({
    where,
    // Open items: the likeliest danger first, whichever band it fell in.
    orderBy:
      where.status === 'open' ? [{ risk: 'desc' }, { createdAt: 'desc' }] : { createdAt: 'desc' },
    take,
    include: {
      subscriber: { select: { id: true, phone: true, email: true, status: true } },
      enrollment: { select: { state: true, channel: true } },
    },
  });
  const ids = flags.map((f) => f.messageId).filter((id): id is string => Boolean(id));
  const messages = ids.length
    ? await deps.db.message.findMany({
        where: { id: { in: ids } },
        select: { id: true, channel: true },
      })
    : [];
  const channelOf = new Map(messages.map((m) => [m.id, m.channel]));
  return flags.map((f) => ({
    ...f,
    channel: (f.messageId && channelOf.get(f.messageId)) || f.enrollment?.channel || 'unknown',
  }));
}

function flagCard(f: FlagRow, s: ConsoleSession): string {
  const onHold = f.enrollment?.state === 'safety_hold';
  // One note for whichever action is chosen; it goes into the flag and the audit event.
  const noteField = (id: string) =>
    `<label for="${id}">Note (optional)</label><input id="${id}" name="note" maxlength="500" autocomplete="off">`;
  return `<article class="card" aria-labelledby="flag-${f.id}">
<h2 id="flag-${f.id}" style="font-size:1.1rem;margin:0 0 .25rem"><span class="badge band-${esc(f.band)}">${esc(BAND_LABEL[f.band] ?? f.band)}</span>
<span class="badge ${esc(f.category)}">${esc(CATEGORY_LABEL[f.category] ?? f.category)}</span>
 from ${esc(maskedContact(f.subscriber))}</h2>
<div class="meta"><span>risk <strong>${percent(f.risk)}</strong></span><span>${when(f.createdAt)}</span><span>by ${esc(f.channel)}</span><span>subscriber ${esc(f.subscriber.status)}</span>
<span>enrollment ${esc(f.enrollment?.state ?? 'none')}</span><a href="/admin/subscribers/${esc(f.subscriberId)}">Timeline</a></div>
${f.matched.length ? `<p class="muted" style="margin:.4rem 0">Matched: ${f.matched.map(esc).join(', ')}</p>` : ''}
${f.whyEnc ? '<p class="muted" style="margin:.4rem 0">Why it was flagged is shown with the reply.</p>' : ''}
${f.messageId ? revealControl(`/admin/flags/${f.id}/reveal`, s.csrf) : '<p class="muted">No reply text is attached.</p>'}
<form method="post" action="/admin/flags/${f.id}/acknowledge" class="actions">${csrfField(s)}
<div>${noteField(`note-${f.id}`)}</div><button>Acknowledge</button>
<button class="secondary" formaction="/admin/flags/${f.id}/safe">Mark safe</button>
<button class="danger" formaction="/admin/flags/${f.id}/danger"${f.band === 'ask' ? ' data-confirm="Send the safety message now and hold the program?"' : ''}>Mark danger</button>
${onHold ? `<button class="secondary" formaction="/admin/flags/${f.id}/clear-hold">Clear hold and resume</button>` : ''}
${f.subscriber.status !== 'stopped' ? `<button class="danger" formaction="/admin/flags/${f.id}/stop" data-confirm="Stop all messages to this person?">Stop subscriber</button>` : ''}
</form></article>`;
}

function handledRow(f: FlagRow): string {
  return `<tr><td>${when(f.createdAt)}</td><td><span class="badge band-${esc(f.band)}">${esc(BAND_LABEL[f.band] ?? f.band)}</span> <span class="badge ${esc(f.category)}">${esc(CATEGORY_LABEL[f.category] ?? f.category)}</span></td>
<td>${esc(f.channel)}</td><td><a href="/admin/subscribers/${esc(f.subscriberId)}">${esc(maskedContact(f.subscriber))}</a></td><td>${esc(f.status)}</td><td>${esc(f.decision ? DECISION_LABEL[f.decision] : '')}</td><td>${esc(f.note ?? '')}</td></tr>`;
}

/** The calibrated probability as a whole percentage; a sliver above zero is "<1%", not "0%". */
function percent(risk: number): string {
  const p = Math.round(risk * 100);
  return p === 0 && risk > 0 ? '&lt;1%' : `${p}%`;
}

export const CONFIRM_SCRIPT = scriptAsset(
  'confirm-submit',
  `
document.addEventListener('submit', function (e) {
  var el = e.submitter && e.submitter.hasAttribute('data-confirm') ? e.submitter : e.target;
  var msg = el.getAttribute && el.getAttribute('data-confirm');
  if (msg && !window.confirm(msg)) e.preventDefault();
}, true);
`,
);

export async function reviewRoutes(app: FastifyInstance, deps: Deps): Promise<void> {
  app.get('/', async (req, reply) => {
    const s = sessionOf(req);
    const [open, handled] = await Promise.all([
      loadFlags(deps, { status: 'open' }, 200),
      loadFlags(deps, { status: { in: ['acknowledged', 'cleared'] } }, 20),
    ]);
    // The cards and rows show masked contacts: one audit event names whose.
    await auditContactList(deps, req, {
      actor: s.actor,
      subscriberIds: [...open, ...handled].map((f) => f.subscriberId),
    });
    const body = `<h1>Safety review</h1>
<p class="muted">Replies that may disclose danger, the most likely first. <strong>Acted</strong>: Steady has already answered with its safety message and held program nudges; a hold lasts until an operator clears it. <strong>Asked</strong>: the signs were unclear, so Steady sent a discreet check-in and the program goes on; <em>Mark danger</em> sends the safety message and holds the program now.</p>
<p class="muted">Mark safe or Mark danger records your reading of the reply (it helps the safety screen learn) and closes the item.</p>
<h2>${open.length ? `${open.length} open flag${open.length === 1 ? '' : 's'}` : 'No open flags'}</h2>
${open.map((f) => flagCard(f, s)).join('') || '<p>Nothing waits for review.</p>'}
<h2>Recently handled</h2>
${handled.length ? `<div class="table-wrap"><table><thead><tr><th>Flagged</th><th>Category</th><th>Channel</th><th>Contact</th><th>Status</th><th>Decision</th><th>Note</th></tr></thead><tbody>${handled.map(handledRow).join('')}</tbody></table></div>` : '<p class="muted">None yet.</p>'}
${REVEAL_SCRIPT}${CONFIRM_SCRIPT}`;
    return sendPage(
      reply,
      consolePage(s, { title: 'Safety review', tab: 'review', body, ...statusFrom(req.query) }),
    );
  });

  app.post('/flags/:id/:action', async (req, reply) => {
    const { id, action } = req.params as { id: string; action: string };
    if (!ACTIONS.includes(action))
      return reply.code(404).send({ error: 'not_found', message: 'Unknown action' });
    const flag = UUID.test(id) ? await deps.db.safetyFlag.findUnique({ where: { id } }) : null;
    if (!flag) return reply.code(404).send({ error: 'not_found', message: 'No such flag' });
    const { actor } = sessionOf(req);
    const note = noteFrom(req.body);
    const now = deps.clock.now();
    try {
      if (action === 'safe' || action === 'danger') {
        const r = await decideFlag(deps, flag.id, action, { actor, note });
        return backTo(reply, '/admin', r.escalated ? 'escalated' : `marked-${action}`);
      }
      if (action === 'clear-hold') {
        // Clears every open flag of this person too (see operatorAction).
        await operatorAction(deps, flag.subscriberId, 'clear-hold', { actor, note });
        return backTo(reply, '/admin', 'hold-cleared');
      }
      if (action === 'stop') await operatorAction(deps, flag.subscriberId, 'stop', { actor, note });
    } catch (err) {
      if (err instanceof OperatorActionError) return backWithError(reply, '/admin', err.code);
      throw err;
    }
    // Acknowledge (also after a stop: the flag has been dealt with).
    const noteText = action === 'stop' ? ['Stopped.', note].filter(Boolean).join(' ') : note;
    await deps.db.$transaction([
      deps.db.safetyFlag.updateMany({
        where: { id: flag.id, status: 'open' },
        data: { status: 'acknowledged', acknowledgedAt: now, note: noteText ?? null },
      }),
      deps.db.auditEvent.create({
        data: {
          actor,
          action: 'flag.acknowledge',
          target: flag.id,
          detail: noteText ? { note: noteText } : {},
        },
      }),
    ]);
    deps.log.info({ actor, flagId: flag.id, action }, 'safety flag handled');
    return backTo(reply, '/admin', action === 'stop' ? 'stopped' : 'acknowledged');
  });
}
