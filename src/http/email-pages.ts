// Pages for the links in our emails: confirming, and unsubscribing. They say what happened and
// what to do next, and never show the address or anything else about the person (the screen may
// be seen by someone else). Opening a link never acts: a button (a POST) does, because mail
// scanners and link previews open links on their own.
import type { ConfirmOutcome } from '../email/confirm.ts';
import { esc, page } from './html.ts';
import { TZ_FILL_SCRIPT } from './email-signup-client.ts';

// Room above the heading for the fixed quick-exit button, which would cover it on a phone.
const HEAD = '<style>main{padding-top:3.25rem}</style>';

/** page() for the email course: the neutral title, the quick exit, and room for it. */
export function emailPage(body: string, css = ''): string {
  return page(body, { head: HEAD + (css ? `<style>${css}</style>` : '') });
}

/** Links to the terms and privacy pages (messages/legal/), for the foot of a page. */
export function legalLinks(): string {
  return '<p class="muted legal"><a href="/terms">Terms of use</a> &middot; <a href="/privacy">Privacy notice</a></p>';
}

/** The page a GET of the confirmation link shows: a button, because opening a link must never
 * confirm anyone (a mail scanner could otherwise sign a person up). */
export function confirmAskPage(action: string): string {
  return emailPage(`<h1>Confirm your subscription</h1>
<p>Press the button to start your emails. Nothing starts until you do.</p>
<form method="post" action="${esc(action)}"><p><button type="submit">Yes, start my emails</button></p></form>
<p class="muted">Didn't sign up? Just close this page, and nothing more will come.</p>
<p class="muted">By confirming you agree to our <a href="/terms">terms of use</a>. Our <a href="/privacy">privacy notice</a> says what we keep and for how long.</p>`);
}

/** A small form that asks for a fresh confirmation link (it posts to the sign-up). */
function newLinkForm(): string {
  return `<form method="post" action="/subscribe" accept-charset="utf-8" class="card">
<label for="email">Email address</label>
<input id="email" name="email" type="email" inputmode="email" autocomplete="email" required maxlength="254">
<input type="hidden" id="timezone" name="timezone" value="">
<p><button type="submit">Send me a new link</button></p>
</form>
${TZ_FILL_SCRIPT}`;
}

export function confirmPage(outcome: ConfirmOutcome): { status: number; html: string } {
  switch (outcome) {
    case 'confirmed':
      return {
        status: 200,
        html: emailPage(`<h1>You're in</h1><p>Thank you for confirming. Your first email is on its way.</p>
<p class="muted">Every email has an unsubscribe link at the bottom, and you can reply STOP at any time.</p>
${legalLinks()}`),
      };
    case 'already':
      return {
        status: 200,
        html: emailPage(
          `<h1>You're all set</h1><p>You already confirmed, so there is nothing more to do here.</p>${legalLinks()}`,
        ),
      };
    case 'expired':
      return {
        status: 410,
        html: emailPage(
          `<h1>This link has expired</h1><p>Confirmation links work for 7 days. Enter your address and we will send a new one.</p>${newLinkForm()}`,
        ),
      };
    case 'superseded':
      return {
        status: 410,
        html: emailPage(`<h1>This link no longer works</h1><p>You unsubscribed after this link was sent, so it has been switched off.
If you would like to start again, enter your address and we will send a new link.</p>${newLinkForm()}`),
      };
    case 'invalid':
      return {
        status: 400,
        html: emailPage(`<h1>This link does not work</h1><p>It may have been cut short when it was copied. Try clicking it in the email again,
or enter your address and we will send a new link.</p>${newLinkForm()}`),
      };
  }
}

/** The page a GET shows: a button, because opening a link must never unsubscribe anyone. */
export function unsubscribeAskPage(action: string): string {
  return emailPage(`<h1>Stop these emails?</h1>
<p>Press the button and no more emails will come from us.</p>
<form method="post" action="${esc(action)}"><p><button type="submit">Unsubscribe</button></p></form>
<p class="muted">Changed your mind? Just close this page.</p>`);
}

export function unsubscribedPage(): string {
  return emailPage(`<h1>You're unsubscribed</h1><p>No more emails will come from us.</p>
<p class="muted">If that was a mistake, you can <a href="/">sign up again</a> at any time.</p>`);
}

export function badUnsubscribeLinkPage(): string {
  return emailPage(`<h1>This link does not work</h1>
<p>It may have been cut short when it was copied. Try the unsubscribe link at the bottom of one of our emails again,
or reply to any of them with the word STOP.</p>`);
}
