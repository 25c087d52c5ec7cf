// The sign-up form and the answers to it. The title stays neutral (page() default): a shared or
// watched browser shows tabs and history. The time zone is guessed in the browser and stays
// editable; without JavaScript the server's default is shown instead.
import type { Program } from '../content/types.ts';
import { programFrequency } from '../core/program.ts';
import { MAX_NAME, type SignupField } from '../email/signup.ts';
import { emailPage, legalHrefs } from './email-pages.ts';
import { languageQuery, type PageWords } from './page-words.ts';
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
  /** The page's words, in the language asked for (`?language=es`). */
  words: PageWords;
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

/** The refusal in the page's language; `message` (English, for JSON) is not shown. */
function errorText(words: PageWords, p: SignupPageInput): string {
  const v = p.values ?? {};
  return words.say(`signup_error_${p.error?.field ?? 'email'}`, {
    max: MAX_NAME,
    value: esc((v.timezone ?? '').slice(0, 64)),
    languages: esc(Object.keys(p.program.locales).join(', ')),
  });
}

function field(
  name: SignupField,
  label: string,
  input: string,
  hint: string,
  error: string | undefined,
): string {
  const err = error ? `<p class="error" id="${name}-error">${error}</p>` : '';
  return `<label for="${name}">${label}</label><p class="muted hint" id="${name}-hint">${hint}</p>${err}${input}`;
}

/** "English · Español": the same form in the other language, for the same program. */
function languageSwitch(p: SignupPageInput): string {
  const links = LANGUAGE_NAMES.filter(([locale]) => p.program.locales[locale]).map(
    ([locale, name]) => {
      const query = new URLSearchParams();
      if (p.values?.program) query.set('program', p.values.program);
      if (locale !== 'en') query.set('language', locale);
      const qs = query.toString();
      return locale === p.words.locale
        ? `<strong aria-current="page" lang="${locale}">${name}</strong>`
        : `<a href="/${qs ? `?${esc(qs)}` : ''}" lang="${locale}" hreflang="${locale}">${name}</a>`;
    },
  );
  if (links.length < 2) return ''; // a program written in one language has nothing to switch to
  return `<nav class="muted languages" aria-label="${p.words.say('language_switch_label').replace(/:$/, '')}">${p.words.say('language_switch_label')} ${links.join(' &middot; ')}</nav>`;
}

const LANGUAGE_NAMES: readonly (readonly [string, string])[] = [
  ['en', 'English'],
  ['es', 'Español'],
];

export function signupPage(p: SignupPageInput): string {
  const { perWeek, weeks } = programFrequency(p.program);
  const s = p.words.say;
  const v = p.values ?? {};
  const e = p.error;
  const message = e ? errorText(p.words, p) : undefined;
  const at = (name: SignupField) => (e?.field === name ? message : undefined);
  const aria = (name: SignupField) =>
    `aria-describedby="${name}-hint${e?.field === name ? ` ${name}-error` : ''}"${e?.field === name ? ' aria-invalid="true"' : ''}`;
  const zone = v.timezone ?? p.defaultZone;
  const description =
    p.program.description?.[p.words.locale] ?? p.program.description?.[p.program.defaultLocale];
  const legal = legalHrefs(p.words);
  const body = `
${languageSwitch(p)}
<h1>${s('signup_heading')}</h1>
<p>${s('signup_program', { program: `<strong>${esc(p.program.name)}</strong>` })}${description ? ` ${esc(description)}` : ''}
${s('signup_frequency', { perWeek, weeks })}</p>
${e ? `<div class="card error-summary" id="error-summary" role="alert" tabindex="-1" aria-labelledby="error-summary-title error-summary-text"><strong id="error-summary-title">${s('signup_error_summary')}</strong> <a href="#${e.field}" id="error-summary-text">${message}</a></div>${ERROR_SUMMARY_SCRIPT}` : ''}
<form method="post" action="/subscribe" accept-charset="utf-8" class="card">
${v.program ? `<input type="hidden" name="program" value="${esc(v.program)}">` : ''}${v.language ? `<input type="hidden" name="language" value="${esc(v.language)}">` : ''}
${field('email', s('signup_email_label'), `<input id="email" name="email" type="email" inputmode="email" autocomplete="email" required maxlength="254" value="${esc(v.email)}" ${aria('email')}>`, s('signup_email_hint'), at('email'))}
${field('firstName', `${s('signup_name_label')} <span class="muted">${s('signup_name_optional')}</span>`, `<input id="firstName" name="firstName" type="text" autocomplete="given-name" maxlength="60" value="${esc(v.firstName)}" ${aria('firstName')}>`, s('signup_name_hint'), at('firstName'))}
${field(
  'timezone',
  s('signup_zone_label'),
  `<input id="timezone" name="timezone" type="text" list="zones" autocomplete="off" spellcheck="false" required maxlength="64" value="${esc(zone)}"${v.timezone ? ' data-chosen="1"' : ''} ${aria('timezone')}>
<datalist id="zones">${COMMON_ZONES.map((z) => `<option value="${z}">`).join('')}</datalist>`,
  s('signup_zone_hint'),
  at('timezone'),
)}
<p class="muted" id="consent">${s('signup_consent_1', { terms: `<a href="${legal.terms}">${s('signup_terms_words')}</a>` })}
${s('signup_consent_2')}
${s('signup_consent_3', { privacy: `<a href="${legal.privacy}">${s('signup_privacy_words')}</a>` })}</p>
<p><button type="submit" aria-describedby="consent">${s('signup_button')}</button></p>
</form>
${TZ_FILL_SCRIPT}
${TZ_SUGGEST_SCRIPT}`;
  return emailPage(
    p.words,
    body,
    '.hint{margin:0 0 .25rem;font-size:.9rem}.error{color:#b42318;font-weight:600;margin:.25rem 0}[aria-invalid=true]{border-color:#b42318}' +
      SIGNUP_CSS,
  );
}

export function checkInboxPage(words: PageWords): string {
  return emailPage(
    words,
    `<h1>${words.say('inbox_heading')}</h1>
<p>${words.say('inbox_text')}</p>
<p class="muted">${words.say('inbox_hint')}</p>`,
  );
}

export function tooManyPage(words: PageWords, retryAfterSec: number): string {
  const minutes = Math.max(1, Math.ceil(retryAfterSec / 60));
  return emailPage(
    words,
    `<h1>${words.say('wait_heading')}</h1>
<p>${minutes === 1 ? words.say('wait_text_one') : words.say('wait_text_many', { minutes })}</p>
<p><a href="/${languageQuery(words)}">${words.say('back_to_form')}</a></p>`,
  );
}
