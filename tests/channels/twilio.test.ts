// The real Twilio SDK against the local fake: what goes over the wire, and what each error
// answer becomes.
import { createServer } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SendError, type SmsSender } from '../../src/channels/port.ts';
import { twilioSms } from '../../src/channels/twilio.ts';
import { startFakeTwilio, type FakeTwilio } from '../support/fake-twilio.ts';

const FROM = '+12025550100';
const TO = '+12025550123';
const msg = (body = 'Week 1: one small step today.') => ({
  messageId: 'm-1',
  to: TO,
  body,
  statusCallback: 'https://steady.example.com/webhooks/twilio/status',
});

async function sendError(sms: SmsSender): Promise<SendError> {
  const err: unknown = await sms.send(msg()).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SendError);
  return err as SendError;
}

describe('twilioSms', () => {
  let fake: FakeTwilio;
  let sms: SmsSender;

  beforeAll(async () => {
    fake = await startFakeTwilio();
    sms = twilioSms({
      accountSid: fake.accountSid,
      authToken: fake.authToken,
      from: FROM,
      apiBase: fake.url,
    });
  });
  afterEach(() => fake.setBehavior(null));
  afterAll(async () => {
    await sms.close?.();
    await fake.close();
  });

  it('sends To, From, Body and StatusCallback and returns the SM sid', async () => {
    const result = await sms.send(msg('Hello from Steady'));
    expect(result.providerId).toMatch(/^SM[0-9a-f]{32}$/);
    expect(result.status).toBe('queued');
    const got = fake.messages.find((m) => m.sid === result.providerId);
    expect(got).toMatchObject({
      to: TO,
      from: FROM,
      body: 'Hello from Steady',
      statusCallback: 'https://steady.example.com/webhooks/twilio/status',
    });
  });

  it('sends through a messaging service without From', async () => {
    const viaService = twilioSms({
      accountSid: fake.accountSid,
      authToken: fake.authToken,
      messagingServiceSid: 'MG' + '0'.repeat(32),
      apiBase: fake.url,
    });
    const result = await viaService.send(msg());
    await viaService.close?.();
    expect(result.status).toBe('accepted');
    const got = fake.messages.find((m) => m.sid === result.providerId);
    expect(got).toMatchObject({ from: null, messagingServiceSid: 'MG' + '0'.repeat(32) });
  });

  it.each([
    [400, 21610, 'opted_out', false],
    [400, 21211, 'invalid_recipient', false],
    [400, 21614, 'invalid_recipient', false],
    [500, 20500, 'provider_down', true],
    [503, 20503, 'provider_down', true],
    [429, 20429, 'throttled', true],
    [400, 21602, 'rejected', false],
  ])('HTTP %i code %i -> %s (retryable %s)', async (status, code, expected, retryable) => {
    fake.setBehavior(() => ({ status, code }));
    const err = await sendError(sms);
    expect(err.code).toBe(expected);
    expect(err.retryable).toBe(retryable);
    expect(err.providerCode).toBe(code);
  });

  it('wrong credentials -> auth, not retryable', async () => {
    const wrong = twilioSms({
      accountSid: fake.accountSid,
      authToken: 'not-the-token',
      from: FROM,
      apiBase: fake.url,
    });
    const err = await sendError(wrong);
    await wrong.close?.();
    expect(err.code).toBe('auth');
    expect(err.retryable).toBe(false);
  });

  it('a slow answer past timeoutMs -> network, retryable', async () => {
    const impatient = twilioSms({
      accountSid: fake.accountSid,
      authToken: fake.authToken,
      from: FROM,
      apiBase: fake.url,
      timeoutMs: 100,
    });
    fake.setDelay(500);
    try {
      const err = await sendError(impatient);
      expect(err.code).toBe('network');
      expect(err.retryable).toBe(true);
    } finally {
      fake.setDelay(0);
      await impatient.close?.();
    }
  });

  it('many concurrent sends all arrive', async () => {
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => sms.send(msg(`concurrent n${i}`))),
    );
    expect(new Set(results.map((r) => r.providerId)).size).toBe(200);
    // Count only this test's bodies: a slow request from an earlier test may land meanwhile.
    const ours = fake.messages.filter((m) => m.body.startsWith('concurrent n'));
    expect(new Set(ours.map((m) => m.body)).size).toBe(200);
    expect(ours).toHaveLength(200);
  });
});

describe('twilioSms with nothing listening', () => {
  it('connection refused -> network, retryable', async () => {
    // A port that was free a moment ago and is closed now.
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const { port } = probe.address() as { port: number };
    await new Promise<void>((r) => probe.close(() => r()));

    const sms = twilioSms({
      accountSid: 'AC' + 'a'.repeat(32),
      authToken: 'token-0123456789',
      from: FROM,
      apiBase: `http://127.0.0.1:${port}`,
    });
    const err = await sendError(sms);
    await sms.close?.();
    expect(err.code).toBe('network');
    expect(err.retryable).toBe(true);
    expect(err.providerCode).toBe('ECONNREFUSED');
  });
});
