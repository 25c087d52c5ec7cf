// The sign-up form and the answers to it. The title stays neutral (page() default): a shared or
// watched browser shows tabs and history. The time zone is guessed in the browser and stays
// editable; without JavaScript the server's default is shown instead.
import type { Program } from '../content/types.ts';
import { programFrequency } from '../core/program.ts';
import type { SignupField } from '../email/signup.ts';
import { emailPage } from './email-pages.ts';
import { esc } from './html.ts';
import {
  ERROR_SUMMARY_SCRIPT,
  SIGNUP_CSS,
  TZ_FILL_SCRIPT,
  TZ_SUGGEST_SCRIPT,
} from './email-signup-client.ts';

const COMMON_ZONES = [
  'America/New_York',
  'America/Chicago',
  'America/Denver',
  'America/Phoenix',
  'America/Los_Angeles',
  'America/Anchorage',
  'Pacific/Honolulu',
  'America/Puerto_Rico',
  'America/Toronto',
  'America/Winnipeg',
  'America/Edmonton',
  'America/Vancouver',
  'America/Halifax',
  'America/St_Johns',
  'America/Mexico_City',
  'Europe/London',
  'Europe/Dublin',
  'Europe/Paris',
  'Europe/Berlin',
  'Africa/Johannesburg',
  'Asia/Kolkata',
  'Asia/Singapore',
  'Asia/Tokyo',
  'Australia/Sydney',
  'Pacific/Auckland',
  'UTC',
];

export interface SignupPageInput {
  program: Program;
  defaultZone: string;
  values?: {
    email?: string;
    firstName?: string;
    timezone?: string;
    /** Carried as hidden fields (from `/?program=...&language=...`). */
    program?: string;
    language?: string;
  };
  error?: { field: SignupField; message: string };
}

function field(
  name: SignupField,
  label: string,
  input: string,
  hint: string,
  error: SignupPageInput['error'],
): string {
  const err =
    error?.field === name ? `<p class="error" id="${name}-error">${esc(error.message)}</p>` : '';
  return `<label for="${name}">${label}</label><p class="muted hint" id="${name}-hint">${hint}</p>${err}${input}`;
}

export function signupPage(p: SignupPageInput): string {
  const { perWeek, weeks } = programFrequency(p.program);
  const v = p.values ?? {};
  const e = p.error;
  const aria = (name: SignupField) =>
    `aria-describedby="${name}-hint${e?.field === name ? ` ${name}-error` : ''}"${e?.field === name ? ' aria-invalid="true"' : ''}`;
  const zone = v.timezone ?? p.defaultZone;
  const body = `
<h1>Small steps, once a week</h1>
<p>Short, practical emails for when someone you love finds it hard to trust, and for looking after yourself along the way.
About ${perWeek} a week for ${weeks} weeks, each one small thing to notice or try.</p>
${e ? `<div class="card error-summary" id="error-summary" role="alert" tabindex="-1" aria-labelledby="error-summary-title error-summary-text"><strong id="error-summary-title">Please check the form:</strong> <a href="#${e.field}" id="error-summary-text">${esc(e.message)}</a></div>${ERROR_SUMMARY_SCRIPT}` : ''}
<form method="post" action="/subscribe" accept-charset="utf-8" class="card">
${v.program ? `<input type="hidden" name="program" value="${esc(v.program)}">` : ''}${v.language ? `<input type="hidden" name="language" value="${esc(v.language)}">` : ''}
${field('email', 'Email address', `<input id="email" name="email" type="email" inputmode="email" autocomplete="email" required maxlength="254" value="${esc(v.email)}" ${aria('email')}>`, 'We send the emails here. An address only you read is best.', e)}
${field('firstName', 'First name <span class="muted">(optional)</span>', `<input id="firstName" name="firstName" type="text" autocomplete="given-name" maxlength="60" value="${esc(v.firstName)}" ${aria('firstName')}>`, 'Only used to greet you in the emails.', e)}
${field(
  'timezone',
  'Time zone',
  `<input id="timezone" name="timezone" type="text" list="zones" autocomplete="off" spellcheck="false" required maxlength="64" value="${esc(zone)}"${v.timezone ? ' data-chosen="1"' : ''} ${aria('timezone')}>
<datalist id="zones">${COMMON_ZONES.map((z) => `<option value="${z}">`).join('')}</datalist>`,
  'So emails arrive in the daytime where you are. We filled in your device’s zone; change it if it is wrong.',
  e,
)}
<p class="muted" id="consent">By signing up you agree to get these emails and to our <a href="/terms">terms of use</a>. We first send one email to confirm the address; nothing else comes until you confirm with its link.
Every email has a one-click unsubscribe link, or reply STOP. Replies are read by our system and stored encrypted. Email is not always private: if someone else can read your inbox, you may want to delete our emails after reading.
Our <a href="/privacy">privacy notice</a> says what we keep and for how long.</p>
<p><button type="submit" aria-describedby="consent">Sign up</button></p>
</form>
${TZ_FILL_SCRIPT}
${TZ_SUGGEST_SCRIPT}`;
  return emailPage(
    body,
    '.hint{margin:0 0 .25rem;font-size:.9rem}.error{color:#b42318;font-weight:600;margin:.25rem 0}[aria-invalid=true]{border-color:#b42318}' +
      SIGNUP_CSS,
  );
}

export function checkInboxPage(): string {
  return emailPage(`<h1>Check your inbox</h1>
<p>If the address can get our emails, a message with a confirmation link is on its way. Click the link in it to start.</p>
<p class="muted">Nothing there after a few minutes? Look in spam or promotions. The link works for 7 days.</p>`);
}

export function tooManyPage(retryAfterSec: number): string {
  const minutes = Math.max(1, Math.ceil(retryAfterSec / 60));
  return emailPage(`<h1>Please wait a little</h1>
<p>There have been too many sign-up attempts from here. Please try again in ${minutes} minute${minutes === 1 ? '' : 's'}.</p>
<p><a href="/">Back to the form</a></p>`);
}
