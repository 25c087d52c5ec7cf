// Accessibility fixes from the compliance review (issue 18 item 9), each checked in a real browser:
// nothing under the quick exit at 320 px, no sideways page scrolling in the console at 320 px,
// a keyboard-scrollable local-phone thread that names the sender once, focus on the error summary
// after a failed sign-up, a focus ring of at least 3:1, and Escape that closes the time-zone
// suggestions without leaving the page (and still leaves when no list is open).
import { existsSync } from 'node:fs';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUICK_EXIT_URL } from '../../src/http/html.ts';
import { freshPhone } from '../support/db.ts';
import { contrast } from './contrast.ts';
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

let stack: Stack;
let chrome: Chrome;
let page: Page;

beforeAll(async () => {
  if (!gate.run) return;
  [stack, chrome] = await Promise.all([startStack(), launchChrome()]);
  page = await chrome.context.newPage();
  // The quick exit leaves for a real site: answer it locally, so the test needs no network.
  await chrome.context.route(`${QUICK_EXIT_URL}**`, (route) =>
    route.fulfill({ contentType: 'text/html', body: '<title>Weather</title><p>Forecast</p>' }),
  );
}, 60_000);

afterAll(async () => {
  await chrome?.close();
  await stack?.running.stop();
});

const NARROW = { width: 320, height: 640 };
const WIDE = { width: 1200, height: 900 };

async function say(from: string, text: string): Promise<void> {
  const res = await page.request.post(`${stack.url}/dev/phone/send`, {
    data: { from, text },
    headers: { Accept: 'application/json' },
  });
  expect(res.status()).toBe(200);
}

async function signIn(): Promise<void> {
  await page.goto(`${stack.url}/admin/login`);
  await page.getByLabel('Admin token').fill(stack.deps.config.adminToken);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((u) => !u.pathname.startsWith('/admin/login'));
}

// Scripts run in the page are strings: this project's TypeScript has no DOM library.
const sideways = (p: Page) =>
  p.evaluate(
    '({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth })',
  ) as Promise<{ scroll: number; client: number }>;

/** Captions of tables that are wider than their box with no focusable, named scroller around. */
const UNREACHABLE_TABLES = `[...document.querySelectorAll('table')]
  .filter((t) => {
    let box = t.parentElement;
    while (box && getComputedStyle(box).overflowX !== 'auto') box = box.parentElement;
    if (!box || box === document.body || box === document.documentElement) return true;
    if (box.scrollWidth <= box.clientWidth) return false;
    const named = box.getAttribute('aria-label') || box.getAttribute('aria-labelledby');
    return box.getAttribute('tabindex') !== '0' || !named;
  })
  .map((t) => t.querySelector('caption')?.textContent ?? t.outerHTML.slice(0, 80))`;

/** What sticks out past the right edge of the screen (for a failure message). */
const WIDE_ELEMENTS = `[...document.querySelectorAll('body *')]
  .filter((el) => el.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
  .filter((el) => !el.parentElement || el.parentElement.getBoundingClientRect().right <= document.documentElement.clientWidth + 0.5)
  .slice(0, 8)
  .map((el) => el.tagName.toLowerCase() + (el.className ? '.' + String(el.className).split(' ').join('.') : '') + ' ' + Math.round(el.getBoundingClientRect().right))`;

/** scrollTop once it has stopped moving (keyboard scrolling is animated). */
async function settledScroll(el: Locator): Promise<number> {
  let last = -1;
  return waitFor('the scrolling to settle', async () => {
    const now = await el.evaluate((e) => e.scrollTop as number);
    const same = now === last;
    last = now;
    await new Promise((r) => setTimeout(r, 120));
    return same ? { now } : null;
  }).then((r) => r.now);
}

const isFocused = (el: { ownerDocument: { activeElement: unknown } }) =>
  el === el.ownerDocument.activeElement;

suite('1. nothing under the quick exit at 320 px', () => {
  it('keeps the /resources heading clear of the fixed Quick exit button', async () => {
    await page.setViewportSize(NARROW);
    await page.goto(`${stack.url}/resources`);
    const exit = await page.getByRole('link', { name: 'Quick exit' }).boundingBox();
    const heading = await page.getByRole('heading', { level: 1 }).boundingBox();
    await shot(page, 'a11y-resources-320');
    expect(exit).not.toBeNull();
    expect(heading).not.toBeNull();
    const overlap =
      exit!.x < heading!.x + heading!.width &&
      heading!.x < exit!.x + exit!.width &&
      exit!.y < heading!.y + heading!.height &&
      heading!.y < exit!.y + exit!.height;
    expect(overlap, JSON.stringify({ exit, heading })).toBe(false);
    await page.setViewportSize(WIDE);
  });
});

suite('2. no sideways scrolling in the console at 320 px', () => {
  let subscriberId: string;

  beforeAll(async () => {
    if (!gate.run) return;
    const phone = await freshPhone(stack.deps.db);
    await say(phone, 'JOIN');
    await waitFor('the opt-in question', () =>
      stack.deps.db.message.findFirst({ where: { subscriber: { phone }, direction: 'out' } }),
    );
    await say(phone, 'YES');
    const sub = await waitFor('the subscriber to be active', () =>
      stack.deps.db.subscriber.findFirst({ where: { phone, status: 'active' } }),
    );
    subscriberId = sub.id;
    await waitFor('the welcome to be written', async () =>
      (await stack.deps.db.message.count({ where: { subscriberId, direction: 'out' } })) >= 2
        ? true
        : null,
    );
    await signIn();
  });

  it.each([
    ['the subscriber page', () => `/admin/subscribers/${subscriberId}`, 'a11y-subscriber-320'],
    ['the dashboard', () => '/admin/dashboard', 'a11y-dashboard-320'],
  ])(
    '%s fits the screen; wide tables scroll in their own labelled region',
    async (_n, path, name) => {
      await page.setViewportSize(NARROW);
      await page.goto(`${stack.url}${path()}`);
      await shot(page, name);
      const { scroll, client } = await sideways(page);
      expect(scroll, JSON.stringify(await page.evaluate(WIDE_ELEMENTS))).toBeLessThanOrEqual(
        client,
      );
      // Any table wider than its box scrolls inside a focusable, named container.
      expect(await page.evaluate(UNREACHABLE_TABLES)).toEqual([]);
      await page.setViewportSize(WIDE);
    },
  );
});

suite('3. the local phone thread', () => {
  let phone: string;

  beforeAll(async () => {
    if (!gate.run) return;
    phone = await freshPhone(stack.deps.db);
  });

  it('announces each new message naming the sender once', async () => {
    await page.goto(`${stack.url}/dev/phone?number=${encodeURIComponent(phone)}`);
    const live = page.locator('[aria-live]:has(.msg), [role="log"]:has(.msg)').first();
    await page.getByRole('button', { name: 'JOIN', exact: true }).click();
    await expect.poll(() => page.locator('.msg.them').count(), { timeout: 10_000 }).toBe(1);
    await page.getByRole('button', { name: 'HELP', exact: true }).click();
    await expect.poll(() => page.locator('.msg.them').count(), { timeout: 10_000 }).toBe(2);
    // The live region holds the messages; what it reads for each added one is that item's text.
    expect(await live.count()).toBe(1);
    const items = await live
      .locator('.msg')
      .evaluateAll((els) =>
        els.map((el) => ({ me: el.classList.contains('me'), text: el.textContent ?? '' })),
      );
    expect(items).toHaveLength(4);
    const times = (s: string, word: string) => s.split(word).length - 1;
    for (const m of items) {
      if (m.me) {
        expect(times(m.text, 'You'), m.text).toBe(1);
        expect(times(m.text, 'Steady'), m.text).toBe(0);
      } else {
        // optin_confirm and help both start with the program's name, as every SMS must.
        expect(m.text, m.text).toMatch(/^\s*Steady\b/);
        expect(times(m.text, 'Steady'), m.text).toBe(1);
      }
    }
  });

  it('can be focused and scrolled with the keyboard', async () => {
    await page.setViewportSize({ width: 390, height: 600 });
    await page.goto(`${stack.url}/dev/phone?number=${encodeURIComponent(phone)}`);
    // Enough messages to scroll (this test does not lean on the one before it).
    for (const w of ['HELP', 'PAUSE', 'START', 'HELP', 'HELP']) await say(phone, w);
    const thread = page.locator('#thread');
    await expect
      .poll(() => thread.evaluate((el) => el.scrollHeight - el.clientHeight), { timeout: 10_000 })
      .toBeGreaterThan(100);
    expect(await thread.getAttribute('tabindex')).toBe('0');
    const name = await thread.evaluate(
      (el) =>
        el.getAttribute('aria-label') ??
        el.ownerDocument.getElementById(el.getAttribute('aria-labelledby') ?? '')?.textContent,
    );
    expect(name).toBeTruthy();
    // Reached with Tab from the number form's button, as a keyboard user would.
    await page.getByRole('button', { name: 'Use', exact: true }).focus();
    await page.keyboard.press('Tab');
    expect(await thread.evaluate(isFocused)).toBe(true);
    await expect.poll(() => thread.evaluate((el) => el.scrollTop)).toBeGreaterThan(0);
    // Every answer is in: the thread holds as many of Steady's messages as the outbox has.
    await waitFor('the answers to arrive', async () => {
      const sent = await stack.deps.db.outboxItem.count({ where: { to: phone, channel: 'sms' } });
      return (await page.locator('.msg.them').count()) === sent && sent > 0;
    });
    const bottom = await settledScroll(thread);
    await page.keyboard.press('PageUp');
    await expect.poll(() => thread.evaluate((el) => el.scrollTop)).toBeLessThan(bottom);
    const afterPageUp = await settledScroll(thread);
    if (afterPageUp > 0) {
      await page.keyboard.press('ArrowUp');
      await expect.poll(() => thread.evaluate((el) => el.scrollTop)).toBeLessThan(afterPageUp);
    }
    await page.keyboard.press('Home');
    await expect.poll(() => thread.evaluate((el) => el.scrollTop)).toBe(0);
    await page.keyboard.press('ArrowDown');
    await expect.poll(() => thread.evaluate((el) => el.scrollTop)).toBeGreaterThan(0);
    // A new message does not pull someone reading back there away to the end.
    const reading = await settledScroll(thread);
    const before = await page.locator('.msg.them').count();
    // PAUSE, not HELP: HELP is answered at most 3 times an hour per number (HELP_LIMITS), and
    // this number has had its share; an active person's PAUSE is always confirmed.
    await say(phone, 'PAUSE');
    await expect
      .poll(() => page.locator('.msg.them').count(), { timeout: 10_000 })
      .toBeGreaterThan(before);
    expect(await thread.evaluate((el) => el.scrollTop)).toBe(reading);
    expect(await thread.evaluate(isFocused)).toBe(true);
    await shot(page, 'a11y-dev-phone-scrolled');
    await page.setViewportSize(WIDE);
  });
});

suite('4. a failed sign-up', () => {
  it('moves focus to the error summary', async () => {
    await chrome.context.clearCookies();
    await page.goto(`${stack.url}/`);
    // Past the browser's own check, so the server answers with its error summary.
    await page.locator('#email').evaluate((el) => el.setAttribute('type', 'text'));
    await page.getByLabel('Email address').fill('not-an-address');
    await page.getByRole('button', { name: 'Sign up' }).click();
    await page.waitForLoadState();
    const summary = page.locator('#error-summary');
    await expect.poll(() => summary.count()).toBe(1);
    expect(await summary.textContent()).toMatch(/email/i);
    await expect.poll(() => summary.evaluate(isFocused)).toBe(true);
    expect(await summary.getAttribute('tabindex')).toBe('-1');
    await shot(page, 'a11y-signup-error');
  });

  it('leaves focus alone when there is no error', async () => {
    await page.goto(`${stack.url}/`);
    expect(await page.locator('#error-summary').count()).toBe(0);
    expect(await page.evaluate('document.activeElement === document.body')).toBe(true);
  });
});

suite('5. the focus ring', () => {
  it('draws :focus-visible outlines at 3:1 or more against white and the page', async () => {
    await page.goto(`${stack.url}/resources`);
    await page.keyboard.press('Tab');
    const style = (await page.evaluate(`(() => {
      const el = document.activeElement;
      const cs = getComputedStyle(el);
      return {
        id: el.id,
        outline: cs.outlineColor,
        width: parseFloat(cs.outlineWidth),
        style: cs.outlineStyle,
        page: getComputedStyle(document.body).backgroundColor,
      };
    })()`)) as { id: string; outline: string; width: number; style: string; page: string };
    expect(style.id).toBe('quick-exit');
    expect(style.style).toBe('solid');
    expect(style.width).toBeGreaterThanOrEqual(2);
    expect(contrast(style.outline, 'rgb(255, 255, 255)')).toBeGreaterThanOrEqual(3);
    expect(contrast(style.outline, style.page)).toBeGreaterThanOrEqual(3);
  });
});

suite('6. Escape and the time-zone suggestions', () => {
  const openList = async () => {
    await page.goto(`${stack.url}/`);
    const tz = page.getByRole('combobox', { name: 'Time zone' });
    await tz.fill('');
    await tz.pressSequentially('Euro');
    const list = page.getByRole('listbox');
    await expect.poll(() => list.isVisible()).toBe(true);
    expect(await list.getByRole('option').count()).toBeGreaterThan(1);
    expect(await tz.getAttribute('aria-expanded')).toBe('true');
    return { tz, list };
  };

  it('closes an open list and stays on the page', async () => {
    const { tz, list } = await openList();
    await shot(page, 'a11y-signup-tz-open');
    const url = page.url();
    await page.keyboard.press('Escape');
    await expect.poll(() => list.isVisible()).toBe(false);
    expect(await tz.getAttribute('aria-expanded')).toBe('false');
    await page.waitForTimeout(500); // long enough for a navigation to have started
    expect(page.url()).toBe(url);
    expect(await tz.evaluate(isFocused)).toBe(true);
    expect(await tz.inputValue()).toBe('Euro');
  });

  it('still leaves the page on Escape once the list is closed', async () => {
    const { list } = await openList();
    await page.keyboard.press('Escape');
    await expect.poll(() => list.isVisible()).toBe(false);
    await page.keyboard.press('Escape');
    await page.waitForURL(`${QUICK_EXIT_URL}**`);
  });

  it('leaves the page on Escape from anywhere else', async () => {
    await page.goto(`${stack.url}/`);
    await page.keyboard.press('Escape');
    await page.waitForURL(`${QUICK_EXIT_URL}**`);
    await page.goto(`${stack.url}/resources`);
    await page.keyboard.press('Escape');
    await page.waitForURL(`${QUICK_EXIT_URL}**`);
  });

  it('picks a suggestion with the keyboard', async () => {
    const { tz, list } = await openList();
    await page.keyboard.press('ArrowDown');
    const first = await list.getByRole('option').first().textContent();
    expect(await tz.getAttribute('aria-activedescendant')).toBeTruthy();
    await page.keyboard.press('Enter');
    await expect.poll(() => list.isVisible()).toBe(false);
    expect(await tz.inputValue()).toBe(first);
    expect(page.url()).toBe(`${stack.url}/`);
  });
});
