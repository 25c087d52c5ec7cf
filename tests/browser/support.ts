// A whole Steady (web, workers, scheduler, outbox transports) on an ephemeral port, and Debian's
// Chromium driven by playwright-core. The stack uses a database of its own (steady_browser): its
// scheduler claims every due row it can see, and must not claim rows other test files are using.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { Deps } from '../../src/deps.ts';
import { ensureDatabase, migrate } from '../../src/db/migrate.ts';
import { createLog } from '../../src/log.ts';
import { buildDeps } from '../../src/main.ts';
import { startRoles, type Running } from '../../src/roles.ts';
import { TEST_DATABASE_URL, testConfig } from '../support/env.ts';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export type BrowserGate =
  { run: true } | { run: false; skip: string } | { run: false; fail: string };

/**
 * Whether the browser tests can run here. Without Chromium they are skipped with one line saying
 * how to install it, except in CI (CI=true), where they are required and the file fails loudly.
 */
export function browserGate(
  env: Record<string, string | undefined>,
  exists: (path: string) => boolean,
): BrowserGate {
  const path = env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (exists(path)) return { run: true };
  const how = `no Chromium at ${path}: install it (apt-get install -y chromium) or set CHROMIUM_PATH`;
  return env.CI === 'true'
    ? { run: false, fail: `browser tests are required in CI, but ${how}` }
    : { run: false, skip: `skipping the browser tests: ${how}` };
}
export const SHOTS = join(process.cwd(), 'test-output', 'screenshots');
const BROWSER_DB = TEST_DATABASE_URL.replace(/\/[^/?]+(\?|$)/, '/steady_browser$1');

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export interface Stack {
  url: string;
  deps: Deps;
  running: Running;
}

export async function startStack(): Promise<Stack> {
  await ensureDatabase(BROWSER_DB);
  await migrate(BROWSER_DB, join(process.cwd(), 'prisma', 'migrations'));
  // The port is chosen first so PUBLIC_URL (links in mail, webhook signatures) is the real one.
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const config = testConfig({
    DATABASE_URL: BROWSER_DB,
    PORT: String(port),
    HOST: '127.0.0.1',
    PUBLIC_URL: url,
    INBOUND_SMTP_PORT: '0',
    SHUTDOWN_GRACE_MS: '2000',
  });
  const deps = await buildDeps(config, { log: createLog('silent'), dbPoolSize: 6 });
  const running = await startRoles(deps, ['web', 'worker', 'scheduler']);
  return { url, deps, running };
}

export interface Chrome {
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchChrome(): Promise<Chrome> {
  const profile = await mkdtemp(join(tmpdir(), 'steady-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
    viewport: { width: 1200, height: 900 },
  });
  context.setDefaultTimeout(10_000);
  await mkdir(SHOTS, { recursive: true });
  return {
    context,
    async close() {
      await context.close().catch(() => {});
      await rm(profile, { recursive: true, force: true });
    },
  };
}

export async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/** Polls `check` until it returns a value (not null/undefined/false), or fails after `ms`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | null | undefined | false>,
  ms = 10_000,
): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}
