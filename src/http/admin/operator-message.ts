// The subscriber page's "Send a message" card and its routes: an operator writes one SMS or email
// to this person (flows/operator-message.ts sends it, with every refusal), starting from a short
// neutral text (messages/<program>/<locale>/operator.yaml) or from nothing. The SMS segment count
// is computed on the server only (core/segments.ts): the page's script asks
// POST /admin/subscribers/:id/messages/preview as the operator types, and without the script the
// Preview button re-renders the page with the count. A refused send shows the page again with the
// reason and the operator's text kept.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Channel } from '../../db/client.ts';
import type { Deps } from '../../deps.ts';
import { operatorTexts, type OperatorTexts } from '../../content/operator-texts.ts';
import {
  OPERATOR_EMAIL_MAX_CHARS,
  OPERATOR_SMS_MAX_SEGMENTS,
  operatorSendTiming,
  type TextCheck,
} from '../../core/operator-message.ts';
import { isValidTimezone } from '../../core/schedule.ts';
import {
  OperatorMessageError,
  operatorChannels,
  operatorRefusal,
  previewOperatorText,
  sendOperatorMessage,
} from '../../flows/operator-message.ts';
import { MESSAGES_DIR } from '../../paths.ts';
import { scriptAsset } from '../assets.ts';
import { esc } from '../html.ts';
import { backTo, csrfField } from './layout.ts';
import { sessionOf, type ConsoleSession } from './session.ts';

const UUID = /^[0-9a-f-]{36}$/;

/** What the form shows again after a preview or a refused send. */
export interface OperatorFormState {
  channel?: string;
  text?: string;
  template?: string;
  key?: string;
  check?: TextCheck;
  error?: string;
}

/** The person as the subscriber page loads them (the fields this card needs). */
export interface OperatorFormPerson {
  id: string;
  status: string;
  phone: string | null;
  email: string | null;
  timezone: string;
  locale: string;
  undeliverableAt: Date | null;
  enrollments: { channel: Channel; state: string; program: string }[];
  messages: { direction: string; createdAt: Date }[];
}

type PageDeps = Pick<Deps, 'config' | 'programs' | 'clock'>;

/** The starting texts for this person: their program's, in their language. */
function textsFor(
  deps: PageDeps,
  sub: { locale: string; enrollments: { program: string }[] },
): OperatorTexts {
  const program = deps.programs.of(sub.enrollments[0]?.program);
  return operatorTexts(
    MESSAGES_DIR,
    {
      dirs: [program.key, deps.config.program],
      name: program.name,
      defaultLocale: program.defaultLocale,
    },
    sub.locale,
  );
}

const channelName = (c: string) => (c === 'sms' ? 'SMS' : 'Email');

/** One sentence on the text's size (and what is wrong with it): the live count's words. */
export function sizeSummary(channel: string, check: TextCheck): string {
  if (check.problem && check.problem.code !== 'empty_text') return check.problem.message;
  if (channel === 'sms' && check.size) {
    const s = check.size;
    const base = `${s.segments} of ${OPERATOR_SMS_MAX_SEGMENTS} SMS segments · ${[...check.text].length} characters · ${s.encoding}`;
    return s.encoding === 'UCS-2' && check.costly.length
      ? `${base}: ${check.costly.map((c) => `“${c}”`).join(' ')} make each segment hold 67 characters instead of 153`
      : base;
  }
  return `${check.text.length} of ${OPERATOR_EMAIL_MAX_CHARS} characters`;
}

/** When a message written now would go: the page says so before the operator sends. */
function timingNote(deps: PageDeps, sub: OperatorFormPerson): string {
  const zone = isValidTimezone(sub.timezone) ? sub.timezone : deps.config.defaultTimezone;
  const lastIn = sub.messages.find((m) => m.direction === 'in')?.createdAt ?? null;
  const now = deps.clock.now();
  const timing = operatorSendTiming(
    now,
    zone,
    deps.config.quietHours,
    lastIn,
    deps.config.defaultTimezone,
  );
  const local = new Intl.DateTimeFormat('en-GB', {
    timeZone: zone,
    hour: '2-digit',
    minute: '2-digit',
  });
  const { start, end } = deps.config.quietHours;
  const rule = `Quiet hours (${esc(start)}–${esc(end)} in the person’s zone, ${esc(zone)}) hold a message until they end, unless it answers the person’s own message of the last hour.`;
  if (timing.kind === 'now')
    return `<p class="muted" id="op-timing">It is ${local.format(now)} for this person: it goes out at once. ${rule}</p>`;
  if (timing.kind === 'answering')
    return `<p class="muted" id="op-timing">It is ${local.format(now)} for this person, in their quiet hours, but they wrote to us within the last hour: it goes out at once.</p>`;
  return `<p id="op-timing"><strong>It is ${local.format(now)} for this person, in their quiet hours: a message sent now waits until ${local.format(timing.until)} their time.</strong> ${rule}</p>`;
}

/** The "Send a message" card of a subscriber page. */
export function operatorMessageCard(
  deps: PageDeps,
  sub: OperatorFormPerson,
  s: ConsoleSession,
  state: OperatorFormState = {},
): string {
  const refusal = operatorRefusal(sub);
  const head = '<h2 id="op-title">Send a message</h2>';
  if (refusal)
    return `<section class="card" aria-labelledby="op-title">${head}<p>You cannot write to this person: ${esc(refusal.message)}</p></section>`;
  const channels = operatorChannels(sub);
  const channel = channels.includes(state.channel as Channel) ? state.channel! : channels[0]!;
  const texts = textsFor(deps, sub);
  const option = (value: string, label: string, selected: boolean, extra = '') =>
    `<option value="${esc(value)}"${selected ? ' selected' : ''}${extra}>${esc(label)}</option>`;
  const channelField =
    channels.length === 1
      ? `<input type="hidden" name="channel" value="${esc(channel)}"><p>By <strong>${channelName(channel)}</strong> (their only channel).</p>`
      : `<label for="op-channel">Channel</label><select id="op-channel" name="channel">${channels
          .map((c) => option(c, channelName(c), c === channel))
          .join('')}</select>`;
  const templateField = texts.templates.length
    ? `<label for="op-template">Start from</label><select id="op-template" name="template">${option('', 'My own words', !state.template)}${texts.templates
        .map((t) => option(t.key, t.label, t.key === state.template, ` data-text="${esc(t.text)}"`))
        .join('')}</select>`
    : '';
  const check = state.check ?? previewOperatorText(channel as Channel, state.text ?? '');
  const summary = sizeSummary(channel, check);
  const isError = Boolean(check.problem && check.problem.code !== 'empty_text');
  const paused = sub.enrollments.some((e) => e.state === 'paused' || e.state === 'safety_hold')
    ? '<p class="muted">Their program is paused or on a safety hold: this message still goes (it is not a program message).</p>'
    : '';
  return `<section class="card" aria-labelledby="op-title">${head}
${state.error ? `<p class="status error" role="alert">${esc(state.error)}</p>` : ''}
<form method="post" action="/admin/subscribers/${esc(sub.id)}/messages" data-operator-message data-preview="/admin/subscribers/${esc(sub.id)}/messages/preview">${csrfField(s)}
<input type="hidden" name="key" value="${esc(state.key ?? randomBytes(12).toString('base64url'))}">
${channelField}${templateField}
<label for="op-text">Message</label>
<textarea id="op-text" name="text" rows="5" maxlength="${OPERATOR_EMAIL_MAX_CHARS + 200}" aria-describedby="op-count op-hint">${esc(state.text ?? '')}</textarea>
<p id="op-count" class="${isError ? 'status error' : 'muted'}" aria-live="polite">${esc(summary)}</p>
<p id="op-hint" class="muted">The first line shows on a lock screen or in an inbox list: keep it neutral. SMS: at most ${OPERATOR_SMS_MAX_SEGMENTS} segments. Email: sent with the subject “${esc(texts.subject)}”. Your words go as written; the person may answer, and their answer shows here.</p>
${timingNote(deps, sub)}${paused}
<div class="actions"><button name="intent" value="preview" class="secondary">Preview</button><button name="intent" value="send" data-confirm="Send this message to the person?">Send</button></div>
</form></section>${OPERATOR_MESSAGE_SCRIPT}`;
}

/** Renders the subscriber page again, with this card's state (a preview, a refusal). */
export type RenderPage = (
  req: FastifyRequest,
  reply: FastifyReply,
  id: string,
  form: OperatorFormState,
  status?: number,
) => Promise<unknown>;

const field = (body: unknown, name: string): string => {
  const v = (body as Record<string, unknown> | undefined)?.[name];
  return typeof v === 'string' ? v : '';
};

export async function operatorMessageRoutes(
  app: FastifyInstance,
  deps: Deps,
  render: RenderPage,
): Promise<void> {
  // The live count: the text's size and what is wrong with it, as the page would show after a
  // Preview. Nothing is written.
  app.post('/subscribers/:id/messages/preview', async (req, reply) => {
    const channel = field(req.body, 'channel') === 'email' ? 'email' : 'sms';
    const check = previewOperatorText(channel, field(req.body, 'text').slice(0, 20_000));
    return reply.header('Cache-Control', 'no-store').send({
      summary: sizeSummary(channel, check),
      segments: check.size?.segments ?? null,
      encoding: check.size?.encoding ?? null,
      limit: channel === 'sms' ? OPERATOR_SMS_MAX_SEGMENTS : OPERATOR_EMAIL_MAX_CHARS,
      problem: check.problem && check.problem.code !== 'empty_text' ? check.problem.code : null,
    });
  });

  app.post('/subscribers/:id/messages', async (req, reply) => {
    const { id } = req.params as { id: string };
    const { actor } = sessionOf(req);
    const body = req.body;
    const channel = field(body, 'channel');
    const state: OperatorFormState = {
      channel,
      text: field(body, 'text').slice(0, 20_000),
      template: field(body, 'template'),
      key: field(body, 'key') || undefined,
    };
    if (channel !== 'sms' && channel !== 'email')
      return render(req, reply, id, { ...state, error: 'Choose SMS or email.' }, 400);
    if (field(body, 'intent') === 'preview') {
      // Without the script, picking a starting text and pressing Preview puts it in the box.
      if (!state.text?.trim() && state.template) {
        const sub = UUID.test(id)
          ? await deps.db.subscriber.findUnique({
              where: { id },
              select: { locale: true, enrollments: { select: { program: true } } },
            })
          : null;
        const picked = (sub ? textsFor(deps, sub).templates : []).find(
          (t) => t.key === state.template,
        );
        if (picked) state.text = picked.text;
      }
      return render(req, reply, id, {
        ...state,
        check: previewOperatorText(channel, state.text ?? ''),
      });
    }
    try {
      const r = await sendOperatorMessage(deps, id, {
        channel,
        text: state.text ?? '',
        actor,
        startedFrom: state.template || undefined,
        idempotencyKey: state.key,
      });
      const done = !r.created
        ? 'message-duplicate'
        : r.timing.kind === 'held'
          ? 'message-held'
          : 'message-sent';
      return backTo(reply, `/admin/subscribers/${id}`, done);
    } catch (err) {
      if (!(err instanceof OperatorMessageError)) throw err;
      return render(req, reply, id, { ...state, error: err.message }, err.status);
    }
  });
}

export const OPERATOR_MESSAGE_SCRIPT = scriptAsset(
  'operator-message',
  `
(function () {
  var form = document.querySelector('form[data-operator-message]');
  if (!form) return;
  var text = form.querySelector('textarea[name=text]');
  var pick = form.querySelector('select[name=template]');
  var count = document.getElementById('op-count');
  var last = '';
  var timer = null;
  var seq = 0;
  function channel() {
    var c = form.querySelector('[name=channel]');
    return c ? c.value : 'sms';
  }
  function update() {
    clearTimeout(timer);
    timer = setTimeout(function () {
      var mine = ++seq;
      fetch(form.getAttribute('data-preview'), {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Accept': 'application/json', 'Content-Type': 'application/json', 'X-CSRF-Token': form._csrf.value },
        body: JSON.stringify({ channel: channel(), text: text.value })
      })
        .then(function (r) { return r.json(); })
        .then(function (j) {
          if (mine !== seq) return;
          count.textContent = j.summary || j.message || '';
          count.className = j.problem || j.error ? 'status error' : 'muted';
        })
        .catch(function () {});
    }, 250);
  }
  if (pick) pick.addEventListener('change', function () {
    var opt = pick.options[pick.selectedIndex];
    var t = opt && opt.getAttribute('data-text');
    if (!t) return;
    if (text.value.trim() && text.value !== last && !window.confirm('Replace what you wrote with this starting text?')) return;
    text.value = t;
    last = t;
    update();
    text.focus();
  });
  text.addEventListener('input', update);
  var c = form.querySelector('select[name=channel]');
  if (c) c.addEventListener('change', update);
})();
`,
);
