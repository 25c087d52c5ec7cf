// The Content-Security-Policy in a real browser (issue 14 item 5): every page is opened in
// Chromium with a listener for `securitypolicyviolation` events and for the console's CSP and
// Permissions-Policy messages, and none may be reported; and the scripts that were inline before
// (now files under /assets) still do their work: the time zone is filled and suggested, the quick
// exit replaces the page, the error summary takes focus, the console's "Show reply" and "Show
// contact" open text in place, its confirm prompts ask, the local phone sends and receives, and
// bull-board renders under its own policy. First, the listener is shown to catch a real violation.
import { existsSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFIRM_TTL_MS } from '../../src/flows/enroll.ts';
import { unsubscribeUrl } from '../../src/flows/compose.ts';
import { QUICK_EXIT_URL } from '../../src/http/html.ts';
import { signToken } from '../../src/security/tokens.ts';
import { DISCLOSURE, flaggedSubscriber } from '../admin/helpers.ts';
import { freshEmail, freshPhone } from '../support/db.ts';
import type { Harness } from '../support/harness.ts';
import { browserGate, launchChrome, shot, startStack, type Chrome, type Stack } from './support.ts';

const gate = browserGate(process.env, existsSync);
if ('fail' in gate) throw new Error(gate.fail);
if ('skip' in gate) console.warn(gate.skip);
const suite = gate.run ? describe : describe.skip;

let stack: Stack;
let chrome: Chrome;
let page: Page;

/** What the browser reported: violation events (from any frame) and console lines. */
const reported: string[] = [];
const pageErrors: string[] = [];

beforeAll(async () => {
  if (!gate.run) return;
  [stack, chrome] = await Promise.all([startStack(), launchChrome()]);
  // The listener is put in by the browser's debugging protocol, which no page policy governs.
  await chrome.context.exposeBinding('__steadyCsp', (_source, line: string) => {
    reported.push(line);
  });
  await chrome.context
    .addInitScript(`document.addEventListener('securitypolicyviolation', function (e) {
    window.__steadyCsp(location.pathname + ': ' + e.effectiveDirective + ' blocked ' + (e.blockedURI || 'inline') + (e.sample ? ' (' + e.sample + ')' : ''));
  }, true);`);
  page = await chrome.context.newPage();
  page.on('console', (m) => {
    if (/content.security.policy|permissions.policy|refused to/i.test(m.text()))
      reported.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  // The quick exit leaves for a real site: answer it locally, so the test needs no network.
  await chrome.context.route(`${QUICK_EXIT_URL}**`, (route) =>
    route.fulfill({ contentType: 'text/html', body: '<title>Weather</title><p>Forecast</p>' }),
  );
}, 60_000);

afterAll(async () => {
  await chrome?.close();
  await stack?.running.stop();
});

/** Opens a page, lets late scripts and subresources settle, and returns what was reported. */
async function open(path: string): Promise<void> {
  const res = await page.goto(`${stack.url}${path}`);
  expect(res?.status(), path).toBeLessThan(500);
  expect(res?.headers()['content-security-policy'], path).toBeDefined();
  await page.waitForLoadState('networkidle').catch(() => {});
}

/** Fails with the reports since the last call (and forgets them); returns the allowed ones. */
function expectNothingReported(allowed: RegExp[] = []): string[] {
  const all = reported.splice(0);
  const errors = pageErrors.splice(0);
  expect(all.filter((r) => !allowed.some((a) => a.test(r)))).toEqual([]);
  expect(errors).toEqual([]);
  return all;
}

async function signIn(): Promise<void> {
  await open('/admin/login');
  await page.getByLabel('Admin token').fill(stack.deps.config.adminToken);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((u) => !u.pathname.startsWith('/admin/login'));
}

suite('the listener', () => {
  it('catches a blocked inline script (so "nothing reported" means something)', async () => {
    await open('/resources');
    expectNothingReported();
    await page.evaluate(`(() => {
      const s = document.createElement('script');
      s.textContent = 'window.__ranInline = true';
      document.body.appendChild(s);
      const a = document.createElement('a');
      a.setAttribute('onclick', 'window.__ranHandler = true');
      document.body.appendChild(a);
      a.click();
    })()`);
    await expect.poll(() => reported.length).toBeGreaterThanOrEqual(2);
    expect(await page.evaluate('window.__ranInline === undefined')).toBe(true);
    expect(await page.evaluate('window.__ranHandler === undefined')).toBe(true);
    const lines = reported.splice(0);
    expect(lines.join('\n')).toMatch(/script-src-elem blocked inline/);
    expect(lines.join('\n')).toMatch(/script-src-attr blocked inline/);
    // ... and the browser's own console line for it.
    expect(lines.join('\n')).toMatch(/^console error: .*Content Security Policy/m);
  });
});

suite('public pages', () => {
  it('every public page opens with nothing reported', async () => {
    const email = freshEmail('csp');
    const sub = await stack.deps.db.subscriber.create({
      data: { email, timezone: 'America/Chicago', status: 'pending', country: 'US' },
    });
    const confirm = signToken(
      stack.deps.config.appSecret,
      'confirm',
      sub.id,
      new Date(Date.now() + CONFIRM_TTL_MS),
    );
    const unsubscribe = unsubscribeUrl(stack.deps.config, sub.id).split('/').pop()!;
    for (const path of [
      '/',
      '/resources',
      '/terms',
      '/privacy',
      `/confirm/${confirm}`,
      '/confirm/not-a-token',
      `/unsubscribe/${unsubscribe}`,
    ]) {
      await open(path);
      expect(await page.title(), path).toBe('Weekly notes');
      expectNothingReported();
    }
    await page.getByRole('button', { name: 'Unsubscribe' }).waitFor();
  });

  it('fills and suggests the time zone on the sign-up form', async () => {
    await open('/');
    const own = await page.evaluate('Intl.DateTimeFormat().resolvedOptions().timeZone');
    const tz = page.getByRole('combobox', { name: 'Time zone' });
    expect(await tz.inputValue()).toBe(own);
    await tz.fill('');
    await tz.pressSequentially('Chica');
    const list = page.getByRole('listbox');
    await expect.poll(() => list.isVisible()).toBe(true);
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    expect(await tz.inputValue()).toBe('America/Chicago');
    expect(await list.isVisible()).toBe(false);
    await shot(page, 'csp-signup');
    expectNothingReported();
  });

  it('the broken-link page fills its hidden time zone for a new link', async () => {
    await open('/confirm/not-a-token');
    const own = await page.evaluate('Intl.DateTimeFormat().resolvedOptions().timeZone');
    expect(await page.locator('input[name="timezone"]').inputValue()).toBe(own);
    expectNothingReported();
  });

  it('moves focus to the error summary after a refused sign-up', async () => {
    await open('/');
    await page.locator('#email').evaluate((el) => el.setAttribute('type', 'text'));
    await page.getByLabel('Email address').fill('not-an-address');
    await page.getByRole('button', { name: 'Sign up' }).click();
    await page.waitForLoadState();
    await expect
      .poll(() => page.evaluate('document.activeElement && document.activeElement.id'))
      .toBe('error-summary');
    expectNothingReported();
  });

  it('the quick exit replaces the page (no new history entry), by button and by Esc', async () => {
    await open('/terms');
    const before = await page.evaluate('history.length');
    await page.getByRole('link', { name: 'Quick exit' }).click();
    await page.waitForURL(`${QUICK_EXIT_URL}**`);
    // A plain link would have added an entry; location.replace() does not.
    expect(await page.evaluate('history.length')).toBe(before);
    await open('/privacy');
    await page.locator('h1').first().click();
    await page.keyboard.press('Escape');
    await page.waitForURL(`${QUICK_EXIT_URL}**`);
    expectNothingReported();
  });
});

suite('console', () => {
  let flag: Awaited<ReturnType<typeof flaggedSubscriber>>;

  beforeAll(async () => {
    if (!gate.run) return;
    // flaggedSubscriber needs only deps and config.
    flag = await flaggedSubscriber({
      deps: stack.deps,
      config: stack.deps.config,
    } as unknown as Harness);
    await chrome.context.clearCookies();
    await signIn();
    expectNothingReported();
  });

  it('every console page opens with nothing reported', async () => {
    for (const path of [
      '/admin',
      '/admin/optouts',
      '/admin/subscribers',
      `/admin/subscribers/${flag.sub.id}`,
      '/admin/dashboard',
    ]) {
      await open(path);
      expect(page.url(), path).toContain(path);
      expectNothingReported();
    }
  });

  it('"Show reply" opens the reply in place, and a confirm prompt asks before a stop', async () => {
    await open('/admin');
    const card = page.locator('article', { has: page.locator(`#flag-${flag.flag.id}`) });
    await card.getByRole('button', { name: 'Show reply' }).click();
    await expect.poll(() => card.locator('blockquote.reply').textContent()).toBe(DISCLOSURE);
    // The page did not navigate: the script fetched the text.
    expect(new URL(page.url()).pathname).toBe('/admin');
    const asked: string[] = [];
    page.once('dialog', (d) => {
      asked.push(d.message());
      void d.dismiss();
    });
    await card.getByRole('button', { name: 'Stop subscriber' }).click();
    await expect.poll(() => asked).toEqual(['Stop all messages to this person?']);
    expect(new URL(page.url()).pathname).toBe('/admin');
    expect(
      (await stack.deps.db.subscriber.findUniqueOrThrow({ where: { id: flag.sub.id } })).status,
    ).toBe('active');
    await shot(page, 'csp-admin-review');
    expectNothingReported();
  });

  it('"Show contact" opens the number in place on the subscriber page', async () => {
    await open(`/admin/subscribers/${flag.sub.id}`);
    await page.getByRole('button', { name: 'Show contact' }).click();
    await expect
      .poll(() => page.locator('blockquote.reply').first().textContent())
      .toContain(flag.phone);
    expect(new URL(page.url()).pathname).toBe(`/admin/subscribers/${flag.sub.id}`);
    expectNothingReported();
  });

  it('bull-board renders under its own policy: no script is refused', async () => {
    await open('/admin/queues');
    await page.getByText('priority').first().waitFor();
    await page.getByText('Loading...').first().waitFor({ state: 'hidden' });
    await shot(page, 'csp-admin-queues');
    // Its page links a Google Fonts stylesheet: refused, as it should be (no third party learns
    // of a visit). Nothing else may be.
    const refused = expectNothingReported([/fonts\.googleapis\.com/]);
    expect(refused.join('\n')).toMatch(/style-src-elem blocked https:\/\/fonts\.googleapis\.com/);
  });
});

suite('local phone and outbox', () => {
  it('the phone sends JOIN and shows the answer', async () => {
    const phone = await freshPhone(stack.deps.db);
    await open(`/dev/phone?number=${encodeURIComponent(phone)}`);
    await page.getByRole('button', { name: 'JOIN', exact: true }).click();
    await expect
      .poll(() => page.locator('.msg.them').allTextContents(), { timeout: 10_000 })
      .toEqual(expect.arrayContaining([expect.stringContaining('Reply YES')]));
    expect(await page.locator('.msg.me').allTextContents()).toEqual([
      expect.stringContaining('JOIN'),
    ]);
    await shot(page, 'csp-dev-phone');
    expectNothingReported();
  });

  it('the outbox and an email in it open with nothing reported', async () => {
    const item = await stack.deps.db.outboxItem.create({
      data: {
        channel: 'email',
        to: freshEmail('csp-outbox'),
        from: 'Steady <hello@example.com>',
        kind: 'confirm_email',
        subject: 'Please confirm',
        body: 'Confirm: https://steady.example.com/confirm/abc.def',
        html: '<div style="font-family:sans-serif"><p>Confirm: <a href="https://steady.example.com/confirm/abc.def">here</a></p></div>',
      },
    });
    await open('/dev/outbox');
    expectNothingReported();
    await open(`/dev/outbox/${item.id}/view`);
    await page.frameLocator('iframe.mail').getByRole('link', { name: 'here' }).waitFor();
    expectNothingReported();
  });
});
