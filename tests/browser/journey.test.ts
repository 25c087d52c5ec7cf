// End to end in a real browser against a real server: an operator signs in; a person joins on the
// local phone (JOIN, YES) and discloses danger; the safety message arrives on the phone and the
// flag on the review page, where the operator reads the reply and acknowledges it. Then someone
// signs up by email on / and confirms from the outbox (the link opens a page; its button
// confirms). Screenshots of each page are saved under test-output/screenshots/.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { maskPhone } from '../../src/channels/mask.ts';
import { freshEmail, freshPhone } from '../support/db.ts';
import { existsSync } from 'node:fs';
import {
  browserGate,
  launchChrome,
  shot,
  startStack,
  waitFor,
  type Chrome,
  type Stack,
} from './support.ts';

const gate = browserGate(process.env, existsSync);
if ('fail' in gate) throw new Error(gate.fail);
if ('skip' in gate) console.warn(gate.skip);
const suite = gate.run ? describe : describe.skip;

const DISCLOSURE = "2. he took my phone again and said he'd hurt me if I text you";

let stack: Stack;
let chrome: Chrome;
let page: Page;
let phone: string;

beforeAll(async () => {
  if (!gate.run) return;
  [stack, chrome] = await Promise.all([startStack(), launchChrome()]);
  page = await chrome.context.newPage();
  phone = await freshPhone(stack.deps.db);
}, 60_000);

afterAll(async () => {
  await chrome?.close();
  await stack?.running.stop();
});

suite('operator and local phone', () => {
  it('signs in to the console', async () => {
    await page.goto(`${stack.url}/admin/dashboard`);
    await expect.poll(() => page.url()).toContain('/admin/login?next=%2Fadmin%2Fdashboard');
    await shot(page, 'admin-login');
    await page.getByLabel('Admin token').fill(stack.deps.config.adminToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${stack.url}/admin/dashboard`);
    expect(await page.title()).toBe('Dashboard · Console');
  });

  it('joins on the local phone and gets the safety message after a disclosure', async () => {
    await page.goto(`${stack.url}/dev/phone?number=${encodeURIComponent(phone)}`);
    const theirs = page.locator('.msg.them');
    await page.getByRole('button', { name: 'JOIN', exact: true }).click();
    await expect
      .poll(() => theirs.allTextContents(), { timeout: 10_000 })
      .toEqual(expect.arrayContaining([expect.stringContaining('Reply YES')]));
    await page.getByRole('button', { name: 'YES', exact: true }).click();
    await waitFor('the subscriber to be active', () =>
      stack.deps.db.subscriber.findFirst({ where: { phone, status: 'active' } }),
    );
    await page.getByLabel('Message').fill(DISCLOSURE);
    await page.getByLabel('Message').press('Enter');
    await expect
      .poll(() => page.locator('.msg.me').allTextContents())
      .toEqual(expect.arrayContaining([expect.stringContaining('took my phone')]));
    await expect
      .poll(() => theirs.allTextContents(), { timeout: 10_000 })
      .toEqual(expect.arrayContaining([expect.stringContaining('You matter')]));
    await shot(page, 'dev-phone');
  });

  it('shows the flag for review, reveals the reply on request and acknowledges it', async () => {
    const flag = await waitFor('the safety flag', () =>
      stack.deps.db.safetyFlag.findFirst({ where: { subscriber: { phone }, status: 'open' } }),
    );
    await page.goto(`${stack.url}/admin`);
    const card = page.locator('article', { has: page.locator(`#flag-${flag.id}`) });
    await expect.poll(() => card.textContent()).toContain(maskPhone(phone));
    expect(await page.content()).not.toContain('took my phone');
    await shot(page, 'admin-review');
    await card.getByRole('button', { name: 'Show reply' }).click();
    await expect.poll(() => card.locator('blockquote.reply').textContent()).toBe(DISCLOSURE);
    await shot(page, 'admin-review-revealed');
    expect(
      await stack.deps.db.auditEvent.count({ where: { action: 'flag.reveal', target: flag.id } }),
    ).toBe(1);

    await card.getByRole('link', { name: 'Timeline' }).click();
    await page.waitForURL(/\/admin\/subscribers\//);
    await shot(page, 'admin-subscriber');

    await page.goto(`${stack.url}/admin`);
    await card.getByLabel('Note (optional)').first().fill('Reviewed in the browser test');
    await card.getByRole('button', { name: 'Acknowledge' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toBe('Flag acknowledged.');
    expect(
      (await stack.deps.db.safetyFlag.findUniqueOrThrow({ where: { id: flag.id } })).status,
    ).toBe('acknowledged');
  });

  it('shows the dashboard, the queues and the outbox', async () => {
    await page.goto(`${stack.url}/admin/dashboard`);
    // Six charts for the whole service, and two for each live program (steady and calm).
    expect(await page.locator('svg[role="img"]').count()).toBe(6 + 2 * 2);
    await shot(page, 'admin-dashboard');
    await page.goto(`${stack.url}/admin/subscribers`);
    await shot(page, 'admin-subscribers');
    await page.goto(`${stack.url}/admin/queues`);
    await page.getByText('priority').first().waitFor();
    // bull-board fetches its data after the page loads: wait for it to replace "Loading".
    await page.getByText('Loading...').first().waitFor({ state: 'hidden' });
    await shot(page, 'admin-queues');
    await page.goto(`${stack.url}/dev/outbox`);
    await shot(page, 'dev-outbox');
  });

  it('works on a phone-sized screen', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    for (const [path, name] of [
      ['/admin', 'mobile-admin-review'],
      [`/dev/phone?number=${encodeURIComponent(phone)}`, 'mobile-dev-phone'],
      ['/resources', 'mobile-resources'],
    ] as const) {
      await page.goto(`${stack.url}${path}`);
      // Nothing wider than the screen: no sideways scrolling.
      expect(
        Number(await page.evaluate('document.documentElement.scrollWidth')),
      ).toBeLessThanOrEqual(390);
      await shot(page, name);
    }
    await page.setViewportSize({ width: 1200, height: 900 });
  });
});

suite('public pages', () => {
  it('shows the resources page with a neutral title and a quick exit', async () => {
    await page.goto(`${stack.url}/resources`);
    expect(await page.title()).toBe('Weekly notes');
    await expect.poll(() => page.getByRole('link', { name: 'Quick exit' }).isVisible()).toBe(true);
    await shot(page, 'resources');
  });

  it('signs up by email on / and confirms from the outbox', async () => {
    await chrome.context.clearCookies();
    const email = freshEmail('browser');
    await page.goto(`${stack.url}/`);
    expect(await page.title()).toBe('Weekly notes');
    await shot(page, 'signup');
    await page.getByLabel('Email address').fill(email);
    await page
      .locator(
        'form[action="/subscribe"] button[type="submit"], form[action="/subscribe"] button:not([type])',
      )
      .first()
      .click();
    await page.waitForLoadState();
    await shot(page, 'signup-sent');
    await waitFor('the confirmation email', () =>
      stack.deps.db.outboxItem.findFirst({ where: { to: email, channel: 'email' } }),
    );
    await page.goto(`${stack.url}/dev/outbox?to=${encodeURIComponent(email)}`);
    await page.locator('.item a').first().click();
    await page.waitForURL(/\/dev\/outbox\/.+\/view$/);
    await shot(page, 'dev-outbox-email');
    await page.locator('a[href*="/confirm/"]').first().click();
    // Opening the link shows a button and confirms nothing (mail scanners open links too).
    const confirmButton = page.getByRole('button', { name: 'Yes, start my emails' });
    await confirmButton.waitFor();
    await shot(page, 'signup-confirm-page');
    expect((await stack.deps.db.subscriber.findFirstOrThrow({ where: { email } })).status).toBe(
      'pending',
    );
    await confirmButton.click();
    await waitFor('the confirmed subscriber', () =>
      stack.deps.db.subscriber.findFirst({ where: { email, status: 'active' } }),
    );
    await shot(page, 'signup-confirmed');
    expect(await page.title()).toBe('Weekly notes');
  });
});
