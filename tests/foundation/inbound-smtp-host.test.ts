// INBOUND_SMTP_HOST: the inbound SMTP listener binds 127.0.0.1 unless told otherwise, and with
// 0.0.0.0 (as in the image) it answers on every address, so a published port reaches it. Probed
// on another loopback address (127.0.0.2), which a 127.0.0.1 listener does not answer: no traffic
// leaves the loopback range.
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { Deps } from '../../src/deps.ts';
import { startInboundSmtp } from '../../src/email/inbound-smtp.ts';
import { createLog } from '../../src/log.ts';
import { testConfig } from '../support/env.ts';

const OTHER = '127.0.0.2';

/** The first line the server sends on connect, or the connection error's code. */
function greeting(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = connect({ host, port, timeout: 3000 });
    s.once('data', (d) => (s.destroy(), resolve(d.toString().split('\r\n')[0]!)));
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    s.once('timeout', () => (s.destroy(), resolve('timeout')));
  });
}

async function listener(env: Record<string, string>) {
  const config = testConfig(env);
  const deps = { config, log: createLog('silent') } as unknown as Deps;
  return startInboundSmtp(deps, { port: 0 });
}

describe('INBOUND_SMTP_HOST', () => {
  it('defaults to 127.0.0.1', () => {
    expect(testConfig().email.inboundSmtpHost).toBe('127.0.0.1');
    expect(testConfig({ INBOUND_SMTP_HOST: '0.0.0.0' }).email.inboundSmtpHost).toBe('0.0.0.0');
  });

  it('by default the listener answers on 127.0.0.1 only', async () => {
    const smtp = await listener({});
    try {
      expect(await greeting('127.0.0.1', smtp.port)).toMatch(/^220 /);
      expect(await greeting(OTHER, smtp.port)).toBe('ECONNREFUSED');
    } finally {
      await smtp.stop();
    }
  });

  it('with 0.0.0.0 it answers on every address', async () => {
    const smtp = await listener({ INBOUND_SMTP_HOST: '0.0.0.0' });
    try {
      expect(await greeting(OTHER, smtp.port)).toMatch(/^220 /);
      expect(await greeting('127.0.0.1', smtp.port)).toMatch(/^220 /);
    } finally {
      await smtp.stop();
    }
  });
});
