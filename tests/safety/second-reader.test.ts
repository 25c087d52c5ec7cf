// The optional second reader, against a real local HTTP server: it can raise a band, never lower
// one, and a slow or broken reader leaves the built-in verdict standing (and is counted).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { reading } from '../support/readings.ts';
import { withSecondReader } from '../../src/flows/second-reader.ts';
import { metrics } from '../../src/metrics.ts';
import type { SafetyScreener } from '../../src/safety/screen.ts';

type Answer = { status: number; body: unknown; delayMs?: number };
let next: Answer = { status: 200, body: {} };
const received: unknown[] = [];
let server: Server;
let url = '';

beforeAll(async () => {
  server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      received.push(JSON.parse(raw));
      const { status, body, delayMs = 0 } = next;
      setTimeout(() => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      }, delayMs);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/read`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const safety = {
  model: {
    thresholds: { act: { abuse: 0.6, self_harm: 0.5 }, ask: { abuse: 0.3, self_harm: 0.2 } },
  },
} as unknown as SafetyScreener;
const log = { warn: () => {}, info: () => {}, error: () => {} } as never;
const deps = (timeoutMs = 800) => ({
  config: { ...loadConfig({}), safetyReaderUrl: url, safetyReaderTimeoutMs: timeoutMs },
  safety,
  log,
});
const asked = reading({
  band: 'ask',
  concern: ['abuse'],
  concernRisk: { abuse: 0.4, self_harm: 0 },
});

describe('second safety reader', () => {
  it('raises an ask to act and says so in matched', async () => {
    next = { status: 200, body: { abuse: 0.95, self_harm: 0.01 } };
    const out = await withSecondReader(deps(), asked, 'he watches me', 'sms', 'en');
    expect(out.band).toBe('act');
    expect(out.safety).toEqual(['abuse']);
    expect(out.matched).toContain('reader:raised');
    expect(received.at(-1)).toEqual({ text: 'he watches me', lang: 'en', channel: 'sms' });
  });

  it('never lowers a band', async () => {
    next = { status: 200, body: { abuse: 0, self_harm: 0 } };
    expect(await withSecondReader(deps(), asked, 'x', 'sms')).toEqual(asked);
  });

  it('is not asked about clear danger or clearly ordinary replies', async () => {
    const before = received.length;
    await withSecondReader(deps(), reading({ band: 'act', safety: ['abuse'] }), 'x', 'sms');
    await withSecondReader(deps(), reading({}), 'x', 'sms');
    expect(received.length).toBe(before);
  });

  it('is asked about a reply close to the ask threshold', async () => {
    next = { status: 200, body: { self_harm: 0.7 } };
    const near = reading({ concernRisk: { abuse: 0, self_harm: 0.15 } });
    expect((await withSecondReader(deps(), near, 'x', 'email')).safety).toEqual(['self_harm']);
  });

  it.each([
    ['http_500', { status: 500, body: {} }],
    ['bad_answer', { status: 200, body: { abuse: 'high' } }],
    // Last: the server still answers the timed-out request later.
    ['timeout', { status: 200, body: { abuse: 1 }, delayMs: 300 }],
  ] as const)('keeps the built-in verdict on %s and counts it', async (outcome, answer) => {
    next = answer;
    const before = metrics.get('steady_safety_reader_total', { outcome });
    expect(await withSecondReader(deps(100), asked, 'x', 'sms')).toEqual(asked);
    expect(metrics.get('steady_safety_reader_total', { outcome })).toBe(before + 1);
  });
});
