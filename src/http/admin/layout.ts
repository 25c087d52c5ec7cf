// The console's page frame: navigation, the sign-out form, a status line for the last action, and
// the small helpers every console page uses (hidden CSRF field, times, masked contacts, scrolling
// tables). Nothing may make a page scroll sideways on a 320 px screen: a wide table scrolls in
// its own box (position:relative, so its visually hidden text is clipped with it), and that box
// can be focused and is named, so it scrolls from the keyboard too.
import type { FastifyReply } from 'fastify';
import { maskEmail, maskPhone } from '../../channels/mask.ts';
import { esc, page } from '../html.ts';
import type { ConsoleSession } from './session.ts';

const CONSOLE_CSS = `<style>
main{max-width:72rem}
.skip{position:absolute;left:-999px}.skip:focus{left:.5rem;top:.5rem;background:#fff;padding:.5rem;z-index:20}
nav.top{display:flex;flex-wrap:wrap;gap:.25rem 1rem;align-items:center;border-bottom:1px solid #d0d5dd;padding:.5rem 0 .75rem;margin-bottom:.5rem}
nav.top a{font-weight:600;text-decoration:none;padding:.25rem .1rem}nav.top a[aria-current=page]{border-bottom:3px solid #0b57d0}
nav.top form{margin-left:auto}
.status{background:#ecfdf3;border:1px solid #067647;color:#054f31;padding:.6rem .8rem;border-radius:6px}
.status.error{background:#fef3f2;border-color:#b42318;color:#7a271a}
.badge{display:inline-block;font-size:.85rem;font-weight:600;padding:.1rem .5rem;border-radius:999px;background:#eef2f6;color:#1d2330}
.badge.abuse{background:#fde8e6;color:#7a1a12}.badge.self_harm{background:#f1e8fb;color:#4a1f73}
.badge.open{background:#fff4e5;color:#7a3e00}
.badge.band-act{background:#b42318;color:#fff}.badge.band-ask{background:#fff4e5;color:#7a3e00;border:1px solid #b54708}
.why{margin:.25rem 0 .5rem}.why ul{margin:.25rem 0;padding-left:1.25rem}
.actions{display:flex;flex-wrap:wrap;gap:.75rem;align-items:flex-end;margin-top:.75rem}
.actions form{display:flex;flex-wrap:wrap;gap:.5rem;align-items:flex-end}
.actions label{margin:0 0 .25rem;font-weight:600}.actions input{width:16rem;max-width:100%}
button.danger{background:#fff;color:#b42318;border-color:#b42318}
button:disabled{background:#e5e7eb;color:#4b5563;border-color:#9ca3af;cursor:not-allowed}
blockquote.reply{margin:.5rem 0;padding:.6rem .8rem;border-left:4px solid #0b57d0;background:#f8fafc;white-space:pre-wrap}
.meta{display:flex;flex-wrap:wrap;gap:.25rem 1rem;color:#4b5563;font-size:.95rem}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.table-wrap,.scroll{overflow-x:auto;position:relative}.scroll>.table-wrap{overflow:visible}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(20rem,100%),1fr));gap:1rem;align-items:start}.grid>*{min-width:0}
@media (max-width:40rem){nav.top form{margin-left:0}.actions input{width:100%}}
</style>`;

export type ConsoleTab =
  'review' | 'optouts' | 'subscribers' | 'dashboard' | 'experiments' | 'queues' | 'webhooks';

export interface ConsolePage {
  title: string;
  tab?: ConsoleTab;
  body: string;
  /** A line saying what the last action did (from ?done=), shown with role=status. */
  notice?: string;
  error?: string;
}

export const csrfField = (s: ConsoleSession) =>
  `<input type="hidden" name="_csrf" value="${esc(s.csrf)}">`;

/** A table that may be wider than the screen, in a box that scrolls instead of the page; `tall`
 * also caps its height. The box takes focus (arrow keys scroll it) and is named by `label`. */
export function scrollingTable(label: string, table: string, tall = false): string {
  return `<div class="scroll" tabindex="0" role="region" aria-label="${esc(label)}"${tall ? ' style="max-height:18rem;overflow:auto"' : ''}>${table}</div>`;
}

export function maskedContact(s: { phone: string | null; email: string | null }): string {
  if (s.phone) return maskPhone(s.phone);
  if (s.email) return maskEmail(s.email);
  return '(erased)';
}

/** Times are shown in UTC and say so: operators may sit in any zone. Seconds where order matters
 * (a timeline where a reply and its answer share a minute). */
export function when(d: Date | null | undefined, seconds = false): string {
  if (!d) return '';
  const iso = d.toISOString();
  return `<time datetime="${iso}">${iso.slice(0, seconds ? 19 : 16).replace('T', ' ')} UTC</time>`;
}

export function consolePage(session: ConsoleSession, p: ConsolePage): string {
  const tabs: [ConsoleTab, string, string][] = [
    ['review', '/admin', 'Safety review'],
    ['optouts', '/admin/optouts', 'Opt-out questions'],
    ['subscribers', '/admin/subscribers', 'Subscribers'],
    ['dashboard', '/admin/dashboard', 'Dashboard'],
    ['experiments', '/admin/experiments', 'Experiments'],
    ['queues', '/admin/queues', 'Queues'],
    ['webhooks', '/admin/webhooks', 'Webhooks'],
  ];
  const nav = tabs
    .map(
      ([key, href, label]) =>
        `<a href="${href}"${p.tab === key ? ' aria-current="page"' : ''}>${label}</a>`,
    )
    .join('');
  const notice = p.error
    ? `<p class="status error" role="alert">${esc(p.error)}</p>`
    : p.notice
      ? `<p class="status" role="status">${esc(p.notice)}</p>`
      : '';
  return page(
    `<a class="skip" href="#content">Skip to content</a>
<nav class="top" aria-label="Console">${nav}<form method="post" action="/admin/logout">${csrfField(session)}<button class="secondary">Sign out</button></form></nav>
<div id="content">${notice}${p.body}</div>`,
    { title: `${p.title} · Console`, quickExit: false, head: CONSOLE_CSS },
  );
}

export function sendPage(reply: FastifyReply, html: string, status = 200) {
  return reply.code(status).type('text/html; charset=utf-8').send(html);
}

/** Where to go after a form post: back to the page, with a short note of what happened. */
export function backTo(reply: FastifyReply, path: string, done: string) {
  const sep = path.includes('?') ? '&' : '?';
  return reply
    .code(303)
    .header('Location', `${path}${sep}done=${encodeURIComponent(done)}`)
    .send();
}

// Only these notes are shown, so a crafted link cannot put words on a console page.
export const NOTICES: Record<string, string> = {
  acknowledged: 'Flag acknowledged.',
  'marked-safe':
    "Marked safe. A safety hold, if any, stays until cleared on the person's page (Clear hold and resume).",
  'marked-danger': 'Marked danger. Steady had already acted on this reply.',
  escalated:
    'Marked danger: the safety message is on its way, program messages are held and operators alerted.',
  'hold-cleared': 'Safety hold cleared: the program resumes from tomorrow.',
  stopped: 'Subscriber stopped: nothing more will be sent.',
  paused: 'Subscriber paused.',
  resumed: 'Subscriber resumed.',
  erased: 'Subscriber erased. A suppression entry keeps them from being messaged again.',
  'signed-in': 'Signed in.',
  'optout-stopped': 'Opted out: the confirmation is on its way and nothing else will be sent.',
  'optout-kept': 'Kept: the person stays in the program.',
  'webhook-deleted': 'Webhook endpoint deleted, with its secrets and delivery log.',
  'webhook-enabled': 'Webhook endpoint enabled: its waiting events go out now.',
  'webhook-disabled': 'Webhook endpoint disabled: its events wait until it is enabled again.',
  'webhook-replayed': 'Delivery queued again (same webhook-id).',
  'message-sent': 'Message queued: it goes out now and shows in the timeline below.',
  'message-held':
    'Message queued: it is the person’s quiet hours, so it waits until they end (see the timeline).',
  'message-duplicate':
    'That message was already sent (the form was submitted twice); nothing new went out.',
};

// Why an action could not be done, by OperatorActionError code (same reason as above: a fixed list).
export const FAILURES: Record<string, string> = {
  not_found: 'That subscriber no longer exists (erased?).',
  not_active: 'Only an active enrollment can be paused.',
  not_paused: 'The enrollment is neither paused nor on a safety hold.',
  not_on_hold: 'The enrollment is not on a safety hold.',
  already_decided: 'That flag already has a decision (another operator may have made it).',
  already_resolved:
    'That question is already settled (by another operator, a later STOP or the deadline).',
  webhook_not_found: 'That webhook endpoint or delivery no longer exists.',
  erase_partial:
    'Subscriber erased, but a queued job of theirs was running and could not be removed: it finds nothing to send. Run `erase` on the command line for its name.',
};

export function backWithError(reply: FastifyReply, path: string, code: string) {
  const sep = path.includes('?') ? '&' : '?';
  return reply
    .code(303)
    .header('Location', `${path}${sep}failed=${encodeURIComponent(code)}`)
    .send();
}

export function statusFrom(q: unknown): { notice?: string; error?: string } {
  const { done, failed } = (q ?? {}) as { done?: string; failed?: string };
  return {
    notice: NOTICES[String(done ?? '')],
    error: failed === undefined ? undefined : (FAILURES[failed] ?? 'That did not work.'),
  };
}

/** An operator's note: trimmed, bounded, or undefined when empty. */
export function noteFrom(body: unknown): string | undefined {
  const note = (body as { note?: unknown } | undefined)?.note;
  const s = typeof note === 'string' ? note.trim().slice(0, 500) : '';
  return s || undefined;
}
