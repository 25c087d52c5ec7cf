// The console's Webhooks page: event webhook endpoints (add, enable or disable, rotate the secret,
// delete) and recent deliveries with their status and a replay button. A new secret is shown on
// the answer to the form that made it, once, and never again (it is not put in a URL either). An
// endpoint that receives full contacts (includeContacts) is marked with a red warning. Every
// change is audited (src/webhooks/endpoints.ts); forms carry the console's CSRF token.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Deps } from '../../deps.ts';
import { EVENT_TYPES } from '../../webhooks/events.ts';
import {
  createEndpoint,
  deleteEndpoint,
  listDeliveries,
  listEndpoints,
  replayDelivery,
  rotateSecret,
  updateEndpoint,
  WebhookError,
  type DeliveryView,
  type EndpointView,
} from '../../webhooks/endpoints.ts';
import { esc } from '../html.ts';
import {
  backTo,
  backWithError,
  consolePage,
  csrfField,
  scrollingTable,
  sendPage,
  statusFrom,
  when,
} from './layout.ts';
import { sessionOf, type ConsoleSession } from './session.ts';

const PAGE = '/admin/webhooks';

const STYLE = `<style>
tr.contacts td{background:#fef3f2}.warn{color:#b42318;font-weight:600}
.events{display:grid;grid-template-columns:repeat(auto-fit,minmax(14rem,1fr));gap:.25rem .75rem}
.events label,.check label{display:flex;gap:.4rem;align-items:center;font-weight:400;margin:.2rem 0}
.events input,.check input{width:auto}
code.secret{display:block;padding:.6rem;background:#f8fafc;border:1px solid #d0d5dd;border-radius:6px;word-break:break-all}
</style>`;

function endpointRow(e: EndpointView, s: ConsoleSession, now: Date): string {
  const state = e.enabled
    ? e.failingSince
      ? `enabled, <span class="warn">failing since ${when(e.failingSince)}</span>`
      : 'enabled'
    : `<span class="warn">disabled</span> ${when(e.disabledAt)} ${esc(e.disabledReason ?? '')}`;
  const contacts = e.includeContacts
    ? `<p class="warn" role="note">Warning: this endpoint receives full phone numbers and email addresses.</p>`
    : '';
  const active = e.secrets.filter((x) => !x.expiresAt || x.expiresAt > now).length;
  const toggle = e.enabled
    ? `<form method="post" action="${PAGE}/${esc(e.id)}/disable">${csrfField(s)}<button class="secondary">Disable</button></form>`
    : `<form method="post" action="${PAGE}/${esc(e.id)}/enable">${csrfField(s)}<button>Enable</button></form>`;
  return `<tr${e.includeContacts ? ' class="contacts"' : ''}><td>${esc(e.url)}${contacts}</td>
<td>${e.events.length === EVENT_TYPES.length ? 'all' : e.events.map(esc).join(', ')}</td>
<td>${state}</td><td>${active} active</td>
<td><div class="actions">${toggle}
<form method="post" action="${PAGE}/${esc(e.id)}/rotate">${csrfField(s)}<button class="secondary">Rotate secret</button></form>
<form method="post" action="${PAGE}/${esc(e.id)}/delete">${csrfField(s)}<button class="danger">Delete</button></form>
</div></td></tr>`;
}

function deliveryRow(d: DeliveryView, hosts: Map<string, string>, s: ConsoleSession): string {
  return `<tr><td>${when(d.createdAt, true)}</td><td>${esc(d.type)}</td><td>${esc(hosts.get(d.endpointId) ?? '')}</td>
<td>${esc(d.status)}</td><td class="num">${d.attempts}</td><td class="num">${d.responseCode ?? ''}</td>
<td>${esc(d.lastError ?? '')}</td><td><form method="post" action="${PAGE}/deliveries/${esc(d.id)}/replay">${csrfField(s)}<button class="secondary" aria-label="Replay ${esc(d.type)} of ${esc(d.createdAt.toISOString())}">Replay</button></form></td></tr>`;
}

function addForm(s: ConsoleSession): string {
  const boxes = EVENT_TYPES.map(
    (t) =>
      `<label><input type="checkbox" name="events" value="${esc(t)}" checked> ${esc(t)}</label>`,
  ).join('');
  return `<section class="card" aria-labelledby="add-h"><h2 id="add-h" style="margin-top:0">Add an endpoint</h2>
<form method="post" action="${PAGE}">${csrfField(s)}
<label for="wh-url">URL</label><input id="wh-url" name="url" type="url" required placeholder="https://example.com/steady-events">
<fieldset><legend>Events</legend><div class="events">${boxes}</div></fieldset>
<div class="check"><label><input type="checkbox" name="includeContacts" value="1"> Include full phone numbers and email addresses <span class="warn">(only for a system allowed to hold them)</span></label></div>
<button>Add endpoint</button></form></section>`;
}

async function listPage(deps: Deps, req: FastifyRequest, reply: FastifyReply, error?: string) {
  const s = sessionOf(req);
  const [endpoints, deliveries] = await Promise.all([
    listEndpoints(deps),
    listDeliveries(deps, { take: 50 }),
  ]);
  const hosts = new Map(endpoints.map((e) => [e.id, new URL(e.url).host]));
  const table = endpoints.length
    ? scrollingTable(
        'Webhook endpoints',
        `<table><thead><tr><th>URL</th><th>Events</th><th>State</th><th>Secrets</th><th>Actions</th></tr></thead><tbody>${endpoints.map((e) => endpointRow(e, s, deps.clock.now())).join('')}</tbody></table>`,
      )
    : '<p role="status">No endpoints yet.</p>';
  const log = deliveries.length
    ? scrollingTable(
        'Recent webhook deliveries',
        `<table><thead><tr><th>Created</th><th>Event</th><th>Endpoint</th><th>Status</th><th class="num">Attempts</th><th class="num">Code</th><th>Last error</th><th>Replay</th></tr></thead><tbody>${deliveries.map((d) => deliveryRow(d, hosts, s)).join('')}</tbody></table>`,
        true,
      )
    : '<p>No deliveries in the last 30 days.</p>';
  const body = `${STYLE}<h1>Webhooks</h1>
<p class="muted">Steady POSTs events (Standard Webhooks, signed with each endpoint's secret) to these endpoints. Payloads hold ids and masked contacts, never a reply's words. A subscriber's events arrive in order; a failing delivery is retried for about a day, then the endpoint is disabled and operators are alerted.</p>
${table}${addForm(s)}<h2>Recent deliveries</h2>${log}`;
  return sendPage(
    reply,
    consolePage(s, {
      title: 'Webhooks',
      tab: 'webhooks',
      body,
      ...statusFrom(req.query),
      ...(error ? { error, notice: undefined } : {}),
    }),
    error ? 400 : 200,
  );
}

/** The answer to a form that made a secret: shown once, here. */
function secretPage(
  req: FastifyRequest,
  reply: FastifyReply,
  title: string,
  secret: string,
  note: string,
) {
  const s = sessionOf(req);
  const body = `${STYLE}<h1>${esc(title)}</h1>
<p role="status">${esc(note)}</p>
<p><strong>Copy the signing secret now: it is not shown again.</strong></p>
<code class="secret">${esc(secret)}</code>
<p><a href="${PAGE}">Back to webhooks</a></p>`;
  return sendPage(
    reply.header('Cache-Control', 'no-store'),
    consolePage(s, { title, tab: 'webhooks', body }),
  );
}

const list = (v: unknown): string[] =>
  Array.isArray(v) ? v.map(String) : typeof v === 'string' ? [v] : [];

export async function webhookRoutes(app: FastifyInstance, deps: Deps): Promise<void> {
  app.get('/webhooks', (req, reply) => listPage(deps, req, reply));

  app.post('/webhooks', async (req, reply) => {
    const b = (req.body ?? {}) as Record<string, unknown>;
    try {
      const r = await createEndpoint(
        deps,
        {
          url: typeof b.url === 'string' ? b.url.trim() : '',
          events: list(b.events),
          includeContacts: b.includeContacts === '1',
        },
        sessionOf(req).actor,
      );
      return secretPage(req, reply, 'Endpoint added', r.secret, `Endpoint ${r.id} added.`);
    } catch (err) {
      if (err instanceof WebhookError) return listPage(deps, req, reply, err.message);
      throw err;
    }
  });

  const action = (
    path: string,
    run: (id: string, actor: string) => Promise<unknown>,
    done: string,
  ) =>
    app.post(path, async (req, reply) => {
      const { id } = req.params as { id: string };
      try {
        await run(id, sessionOf(req).actor);
      } catch (err) {
        if (err instanceof WebhookError) return backWithError(reply, PAGE, 'webhook_not_found');
        throw err;
      }
      return backTo(reply, PAGE, done);
    });
  action('/webhooks/:id/delete', (id, actor) => deleteEndpoint(deps, id, actor), 'webhook-deleted');
  action(
    '/webhooks/:id/enable',
    (id, actor) => updateEndpoint(deps, id, { enabled: true }, actor),
    'webhook-enabled',
  );
  action(
    '/webhooks/:id/disable',
    (id, actor) => updateEndpoint(deps, id, { enabled: false }, actor),
    'webhook-disabled',
  );
  action(
    '/webhooks/deliveries/:id/replay',
    (id, actor) => replayDelivery(deps, id, actor),
    'webhook-replayed',
  );

  app.post('/webhooks/:id/rotate', async (req, reply) => {
    const { id } = req.params as { id: string };
    try {
      const r = await rotateSecret(deps, id, sessionOf(req).actor);
      return secretPage(
        req,
        reply,
        'Secret rotated',
        r.secret,
        `The older secrets keep signing until ${r.previousExpireAt.toISOString()}; every delivery until then carries a signature from each.`,
      );
    } catch (err) {
      if (err instanceof WebhookError) return backWithError(reply, PAGE, 'webhook_not_found');
      throw err;
    }
  });
}
