// The terms and privacy pages (GET /terms, GET /privacy), made from messages/legal/*.md with the
// organisation's own values from configuration; the links to them (sign-up form, confirmation
// page, every email footer); SUPPORT_CONTACT and termsUrl as template values; the confirmation
// link that only a button press (a POST) acts on; and `content check` naming a missing legal file.
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkContent } from '../../src/content/check.ts';
import { renderMarkdownPage } from '../../src/core/render.ts';
import { composeEmail, composeSms } from '../../src/flows/compose.ts';
import { legalPage } from '../../src/http/legal-pages.ts';
import { browserGate, launchChrome, shot, type Chrome } from '../browser/support.ts';
import { copyMessages } from '../content/fixture.ts';
import { freshEmail } from '../support/db.ts';
import { listRoutes } from '../support/routes.ts';
import {
  emailTestbed,
  freshIp,
  linkToken,
  mailTo,
  signUpForToken,
  type EmailTestbed,
} from './helpers.ts';

// Values with characters HTML must escape, so the pages show them as written.
const ENV = {
  SUPPORT_CONTACT: 'help@calm-notes.org',
  POSTAL_ADDRESS: 'Calm Notes & Co, 12 Harbour Lane, Portland, ME 04101, USA',
  RETENTION_DAYS: '45',
};

let t: EmailTestbed;
beforeAll(async () => {
  t = await emailTestbed({ start: '2026-05-04T15:00:00Z', env: ENV });
});
afterAll(async () => t?.close());

const get = (url: string) =>
  t.app.inject({
    method: 'GET',
    url,
    headers: { accept: 'text/html', 'x-forwarded-for': freshIp() },
  });

describe('GET /terms and GET /privacy', () => {
  it('are registered as GET routes', () => {
    const routes = listRoutes(t.app);
    for (const url of ['/terms', '/privacy'])
      expect(routes.find((r) => r.url === url)?.methods).toContain('GET');
  });

  it.each([
    ['/terms', 'Terms of use'],
    ['/privacy', 'Privacy notice'],
  ])('%s is a page in the public shell, filled with this deployment’s values', async (url, h1) => {
    const res = await get(url);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    const html = res.body;
    // The shell: language, phone viewport, neutral title, the quick exit, one h1 then h2s.
    expect(html).toMatch(/^<!doctype html>\n<html lang="en">/);
    expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    expect(html).toContain('<title>Weekly notes</title>');
    expect(html).toContain('id="quick-exit"');
    expect(html.match(/<h1>/g)).toHaveLength(1);
    expect(html).toContain(`<h1>${h1}</h1>`);
    expect(html).toMatch(/<h2>[^<]+<\/h2>/);
    // The organisation's values, escaped; nothing left unfilled; editors' comments not shown.
    expect(html).toContain('Steady');
    expect(html).toContain('help@calm-notes.org');
    expect(html).toContain('Calm Notes &amp; Co, 12 Harbour Lane, Portland, ME 04101, USA');
    expect(html).not.toContain('Calm Notes & Co');
    expect(html).not.toMatch(/\{\{|\}\}/);
    expect(html).not.toContain('<!--');
    expect(html).not.toContain('help@example.com'); // the development defaults
    expect(html).not.toContain('Example Street');
    // The other legal page is one click away.
    expect(html).toContain('<a href="/terms">Terms of use</a>');
    expect(html).toContain('<a href="/privacy">Privacy notice</a>');
  });

  it('the terms say who runs it, frequency and rates, how to stop, HELP, and that messages are not private', async () => {
    const text = (await get('/terms')).body.replace(/\s+/g, ' ');
    expect(text).toContain('Msg frequency varies. Msg &amp; data rates may apply.');
    expect(text).toMatch(/reply <strong>STOP<\/strong>/);
    expect(text).toMatch(/<strong>unsubscribe<\/strong> link at the bottom of every email/);
    expect(text).toMatch(/Reply <strong>HELP<\/strong>/);
    expect(text).toContain('Texts and email are not private');
    expect(text).toMatch(/Anyone who can open your phone or your inbox can read/);
    expect(text).toMatch(/delete the thread/);
    expect(text).toContain(`href="${t.config.privacyUrl}"`);
    expect(text).toContain(`href="${t.config.publicUrl}/resources"`);
  });

  it('the privacy notice says what is kept, why, for how long (RETENTION_DAYS), how to stop, and that nothing is sold or shared', async () => {
    const text = (await get('/privacy')).body.replace(/\s+/g, ' ');
    for (const collected of [
      'mobile number or email address',
      'time zone',
      'Your replies',
      'Delivery records',
      'Consent records',
    ])
      expect(text).toContain(collected);
    expect(text).toContain('<h2>Why</h2>');
    expect(text).toContain('deleted after 45 days');
    expect(text).toMatch(/kept until you ask us to delete it/);
    expect(text).toContain('We do not sell your information or share it for marketing.');
    expect(text).toContain('Mobile opt-in data and consent are not shared with third parties.');
    expect(text).toMatch(/reply <strong>STOP<\/strong>/);
    expect(text).toContain('Msg frequency varies. Msg &amp; data rates may apply.');
    expect(text).toContain('Texts and email are not private');
    expect(text).toContain(`href="${t.config.termsUrl}"`);
  });
});

describe('links to the terms and privacy pages', () => {
  it('the sign-up form links both next to the consent text', async () => {
    const html = (await get('/')).body;
    const consent = /<p class="muted" id="consent">([\s\S]*?)<\/p>/.exec(html)?.[1] ?? '';
    expect(consent).toContain('<a href="/terms">');
    expect(consent).toContain('<a href="/privacy">');
  });

  it('every email footer links both, in the text and the HTML part', async () => {
    const email = freshEmail('legal-footer');
    const token = await signUpForToken(t, email);
    const [confirmation] = mailTo(t, email);
    expect(confirmation).toBeDefined();
    for (const mail of [confirmation!]) {
      expect(mail.text).toContain(`Terms: ${t.config.termsUrl}`);
      expect(mail.text).toContain(`Privacy: ${t.config.privacyUrl}`);
      expect(mail.html).toMatch(
        new RegExp(`<a href="${t.config.termsUrl}" style="[^"]*">Terms</a>`),
      );
      expect(mail.html).toMatch(
        new RegExp(`<a href="${t.config.privacyUrl}" style="[^"]*">Privacy</a>`),
      );
      expect(mail.html).toContain('Calm Notes &amp; Co, 12 Harbour Lane');
    }
    expect(t.config.termsUrl).toBe('https://steady.example.com/terms');
    expect(linkToken(confirmation!, 'confirm')).toBe(token);

    // The welcome, after the button, carries them too (composed through compose.ts).
    expect((await t.app.inject({ method: 'POST', url: `/confirm/${token}` })).statusCode).toBe(200);
    await t.settle();
    const welcome = mailTo(t, email).find((m) => m.subject.startsWith('Welcome'));
    expect(welcome?.text).toContain(`Terms: ${t.config.termsUrl}`);
    expect(welcome?.html).toContain(`href="${t.config.privacyUrl}"`);
  });

  it('the confirmation page links both, before and after the button', async () => {
    const token = await signUpForToken(t, freshEmail('legal-confirm'));
    const ask = await get(`/confirm/${token}`);
    const done = await t.app.inject({ method: 'POST', url: `/confirm/${token}` });
    for (const res of [ask, done]) {
      expect(res.statusCode).toBe(200);
      expect(res.body).toContain('href="/terms"');
      expect(res.body).toContain('href="/privacy"');
    }
  });
});

describe('the confirmation link needs the button', () => {
  it('GET shows the button and confirms nothing; POST confirms; POST again says all set', async () => {
    const email = freshEmail('legal-button');
    const token = await signUpForToken(t, email);
    const status = async () =>
      (await t.deps.db.subscriber.findUniqueOrThrow({ where: { email } })).status;

    // A mail scanner following the link, twice.
    for (let i = 0; i < 2; i++) {
      const res = await get(`/confirm/${token}`);
      expect(res.statusCode).toBe(200);
      expect(res.body).toContain(`<form method="post" action="/confirm/${token}">`);
    }
    expect(await status()).toBe('pending');

    const pressed = await t.app.inject({
      method: 'POST',
      url: `/confirm/${token}`,
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-forwarded-for': freshIp(),
      },
      payload: '',
    });
    expect(pressed.statusCode).toBe(200);
    expect(pressed.body).toContain("You're in");
    expect(await status()).toBe('active');

    const again = await t.app.inject({ method: 'POST', url: `/confirm/${token}` });
    expect(again.statusCode).toBe(200);
    expect(again.body).toContain("You're all set");
  });

  it('a broken link gives a clear 400 page on either method', async () => {
    for (const method of ['GET', 'POST'] as const) {
      const res = await t.app.inject({ method, url: '/confirm/not-a-token' });
      expect(res.statusCode).toBe(400);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.body).toContain('This link does not work');
    }
  });
});

describe('support contact and terms link as template values', () => {
  const subscriber = {
    id: '3f2a1c9e-0000-4000-8000-000000000000',
    phone: '+12025550123',
    email: 'someone@calm-notes.org',
    firstName: null,
    locale: 'en',
    country: 'US',
  };

  it('compose gives every SMS and email {{supportContact}}, {{termsUrl}} and {{privacyUrl}}', () => {
    const program = t.deps.programs.default;
    const en = program.locales[program.defaultLocale]!;
    const withLegal = {
      ...program,
      locales: {
        ...program.locales,
        [program.defaultLocale]: {
          sms: { ...en.sms, help: 'Help: {{supportContact}} Terms: {{termsUrl}}' },
          email: {
            ...en.email,
            welcome: {
              subject: 'Hello',
              preheader: '',
              markdown: 'Ask {{supportContact}}. [Terms]({{termsUrl}}) [Privacy]({{privacyUrl}})',
            },
          },
        },
      },
    };
    const message = { id: 'm1', template: 'help', vars: null, kind: 'system' };
    const sms = composeSms(t.config, t.deps.content, withLegal, { message, subscriber });
    expect(sms.body).toBe('Help: help@calm-notes.org Terms: https://steady.example.com/terms');
    const mail = composeEmail(t.config, t.deps.content, withLegal, {
      message: { ...message, template: 'welcome' },
      subscriber,
    });
    expect(mail.text).toContain('Ask help@calm-notes.org.');
    expect(mail.html).toContain('href="https://steady.example.com/privacy"');
  });
});

describe('the legal files as content', () => {
  it('content check names a missing legal file, and an unknown placeholder in one', async () => {
    const fx = copyMessages();
    try {
      expect((await checkContent(fx.dir)).errors).toEqual([]);
      fx.remove('legal/terms.md');
      fx.edit('legal/privacy.md', (s) => s.replace('{{retentionDays}}', '{{keepDays}}'));
      const { ok, errors } = await checkContent(fx.dir);
      expect(ok).toBe(false);
      expect(errors).toContain(
        'messages/legal/terms.md: file is missing (the /terms page is made from it; Markdown)',
      );
      expect(errors.join('\n')).toMatch(
        /^messages\/legal\/privacy\.md: uses unknown placeholder \{\{keepDays\}\}/m,
      );
    } finally {
      fx.cleanup();
    }
  });

  it('renders Markdown with values escaped, raw HTML shown as text and editors’ comments dropped', () => {
    const html = renderMarkdownPage(
      '<!-- a note -->\n\n# Title\n\nFrom {{who}} <b>bold?</b>\n\n[Link]({{url}})',
      { who: '<script>x</script> **not bold**', url: 'https://a.test/?a=1&b="2"' },
    );
    expect(html).not.toContain('a note');
    expect(html).toContain('<h1>Title</h1>');
    expect(html).toContain('&lt;script&gt;x&lt;/script&gt; **not bold**');
    expect(html).toContain('&lt;b&gt;bold?&lt;/b&gt;');
    expect(html).toContain('href="https://a.test/?a=1&amp;b=&quot;2&quot;"');
  });
});

// A real browser at 320 px: no sideways scrolling and nothing under the quick exit. The page is
// loaded from its HTML (no server needed); skipped, like the other browser tests, without Chromium.
const gate = browserGate(process.env, existsSync);
const inBrowser = gate.run ? describe : describe.skip;
inBrowser('the legal pages on a 320 px phone', () => {
  let chrome: Chrome;
  beforeAll(async () => {
    chrome = await launchChrome();
  });
  afterAll(async () => chrome?.close());

  it.each(['terms', 'privacy'] as const)('/%s', async (name) => {
    const page = await chrome.context.newPage();
    try {
      await page.setViewportSize({ width: 320, height: 640 });
      await page.setContent(legalPage(t.deps, name));
      await shot(page, `legal-${name}-320`);
      const size = (await page.evaluate(
        '({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth })',
      )) as { scroll: number; client: number };
      expect(size.scroll).toBeLessThanOrEqual(size.client);
      const exit = await page.getByRole('link', { name: 'Quick exit' }).boundingBox();
      const heading = await page.getByRole('heading', { level: 1 }).boundingBox();
      expect(exit && heading && heading.y >= exit.y + exit.height).toBe(true);
    } finally {
      await page.close();
    }
  });
});
