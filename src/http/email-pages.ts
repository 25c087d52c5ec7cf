// Pages for the links in our emails: confirming, and unsubscribing. They say what happened and
// what to do next, and never show the address or anything else about the person (the screen may
// be seen by someone else). Opening a link never acts: a button (a POST) does, because mail
// scanners and link previews open links on their own. The words are the person's language
// (messages/pages/<locale>.yaml), chosen by the caller.
import type { ConfirmOutcome } from '../email/confirm.ts';
import { esc, page } from './html.ts';
import { TZ_FILL_SCRIPT } from './email-signup-client.ts';
import { languageQuery, type PageWords } from './page-words.ts';

// Room above the heading for the fixed quick-exit button, which would cover it on a phone.
const HEAD = '<style>main{padding-top:3.25rem}</style>';

/** page() for the email course: the neutral title, the quick exit in the page's language, and
 * room for it. */
export function emailPage(words: PageWords, body: string, css = ''): string {
  return page(body, {
    head: HEAD + (css ? `<style>${css}</style>` : ''),
    lang: words.locale,
    quickExitLabel: words.say('quick_exit'),
  });
}

/** The terms and privacy links, in the page's language (`?language=es` keeps it there). */
export function legalHrefs(words: PageWords): { terms: string; privacy: string } {
  const q = languageQuery(words);
  return { terms: `/terms${q}`, privacy: `/privacy${q}` };
}

/** Links to the terms and privacy pages (messages/legal/), for the foot of a page. */
export function legalLinks(words: PageWords): string {
  const h = legalHrefs(words);
  return `<p class="muted legal"><a href="${h.terms}">${words.say('terms_link')}</a> &middot; <a href="${h.privacy}">${words.say('privacy_link')}</a></p>`;
}

/** The page a GET of the confirmation link shows: a button, because opening a link must never
 * confirm anyone (a mail scanner could otherwise sign a person up). */
export function confirmAskPage(words: PageWords, action: string): string {
  const h = legalHrefs(words);
  const s = words.say;
  return emailPage(
    words,
    `<h1>${s('confirm_ask_heading')}</h1>
<p>${s('confirm_ask_text')}</p>
<form method="post" action="${esc(action)}"><p><button type="submit">${s('confirm_ask_button')}</button></p></form>
<p class="muted">${s('confirm_ask_not_me')}</p>
<p class="muted">${s('confirm_ask_legal', { terms: `<a href="${h.terms}">${s('signup_terms_words')}</a>`, privacy: `<a href="${h.privacy}">${s('signup_privacy_words')}</a>` })}</p>`,
  );
}

/** A small form that asks for a fresh confirmation link (it posts to the sign-up). */
function newLinkForm(words: PageWords): string {
  const lang =
    languageQuery(words) === ''
      ? ''
      : `\n<input type="hidden" name="language" value="${esc(words.locale)}">`;
  return `<form method="post" action="/subscribe" accept-charset="utf-8" class="card">
<label for="email">${words.say('signup_email_label')}</label>
<input id="email" name="email" type="email" inputmode="email" autocomplete="email" required maxlength="254">
<input type="hidden" id="timezone" name="timezone" value="">${lang}
<p><button type="submit">${words.say('new_link_button')}</button></p>
</form>
${TZ_FILL_SCRIPT}`;
}

export function confirmPage(
  words: PageWords,
  outcome: ConfirmOutcome,
): { status: number; html: string } {
  const s = words.say;
  switch (outcome) {
    case 'confirmed':
      return {
        status: 200,
        html: emailPage(
          words,
          `<h1>${s('confirmed_heading')}</h1><p>${s('confirmed_text')}</p>
<p class="muted">${s('confirmed_hint')}</p>
${legalLinks(words)}`,
        ),
      };
    case 'already':
      return {
        status: 200,
        html: emailPage(
          words,
          `<h1>${s('already_heading')}</h1><p>${s('already_text')}</p>${legalLinks(words)}`,
        ),
      };
    case 'expired':
    case 'superseded':
    case 'invalid':
      return {
        status: outcome === 'invalid' ? 400 : 410,
        html: emailPage(
          words,
          `<h1>${s(`${outcome}_heading`)}</h1><p>${s(`${outcome}_text`)}</p>${newLinkForm(words)}`,
        ),
      };
  }
}

/** The page a GET shows: a button, because opening a link must never unsubscribe anyone. */
export function unsubscribeAskPage(words: PageWords, action: string): string {
  const s = words.say;
  return emailPage(
    words,
    `<h1>${s('unsubscribe_ask_heading')}</h1>
<p>${s('unsubscribe_ask_text')}</p>
<form method="post" action="${esc(action)}"><p><button type="submit">${s('unsubscribe_ask_button')}</button></p></form>
<p class="muted">${s('unsubscribe_ask_hint')}</p>`,
  );
}

export function unsubscribedPage(words: PageWords): string {
  const s = words.say;
  const again = `<a href="/${languageQuery(words)}">${s('unsubscribed_again_words')}</a>`;
  return emailPage(
    words,
    `<h1>${s('unsubscribed_heading')}</h1><p>${s('unsubscribed_text')}</p>
<p class="muted">${s('unsubscribed_hint', { again })}</p>`,
  );
}

export function badUnsubscribeLinkPage(words: PageWords): string {
  const s = words.say;
  return emailPage(
    words,
    `<h1>${s('unsubscribe_bad_heading')}</h1>
<p>${s('unsubscribe_bad_text')}</p>`,
  );
}
