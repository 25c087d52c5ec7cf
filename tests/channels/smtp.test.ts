// nodemailer against a real SMTP listener, read back with mailparser as a mail client would.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SendError, type EmailSender, type OutgoingEmail } from '../../src/channels/port.ts';
import { smtpEmail } from '../../src/channels/smtp.ts';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.ts';

const email = (over: Partial<OutgoingEmail> = {}): OutgoingEmail => ({
  messageId: '0b6f0c5e-3f4a-4d1e-9a53-1c2d3e4f5a6b',
  to: 'jane.doe@example.com',
  from: 'Steady <hello@steady.example.com>',
  subject: 'Week 1: a small start',
  text: 'Plain text body.',
  html: '<p>HTML <strong>body</strong>.</p>',
  replyTo: 'r-abc123@reply.example.com',
  headers: {
    'List-Unsubscribe':
      '<https://steady.example.com/unsubscribe/tok>, <mailto:u-tok@reply.example.com>',
    'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
  },
  ...over,
});

async function rejection(p: Promise<unknown>): Promise<SendError> {
  const err: unknown = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SendError);
  return err as SendError;
}

describe('smtpEmail', () => {
  let sink: SmtpSink;
  let mail: EmailSender;

  beforeAll(async () => {
    sink = await startSmtpSink({
      rejectRcpt: (addr) =>
        addr.startsWith('nobody') ? 550 : addr.startsWith('busy') ? 452 : null,
    });
    mail = smtpEmail({ url: sink.url, bounceAddress: 'bounces@reply.example.com' });
  });
  afterEach(() => {
    sink.messages.length = 0;
  });
  afterAll(async () => {
    await mail.close?.();
    await sink.close();
  });

  it('delivers multipart text + html with Reply-To, Message-ID and List-Unsubscribe headers', async () => {
    const result = await mail.send(email());
    expect(result.providerId).toBe('<0b6f0c5e-3f4a-4d1e-9a53-1c2d3e4f5a6b@steady.example.com>');
    expect(sink.messages).toHaveLength(1);
    const got = sink.messages[0]!;
    expect(got.subject).toBe('Week 1: a small start');
    expect(got.text?.trim()).toBe('Plain text body.');
    expect(got.html).toContain('<strong>body</strong>');
    expect(got.raw).toMatch(/Content-Type: multipart\/alternative/i);
    expect(got.messageId).toBe('<0b6f0c5e-3f4a-4d1e-9a53-1c2d3e4f5a6b@steady.example.com>');
    expect(got.replyTo?.value[0]?.address).toBe('r-abc123@reply.example.com');
    expect(got.envelope).toEqual({
      from: 'bounces@reply.example.com',
      to: ['jane.doe@example.com'],
    });
    // mailparser files every List-* header under "list".
    const list = got.headers.get('list') as {
      unsubscribe?: { url?: string; mail?: string };
      'unsubscribe-post'?: { name?: string };
    };
    expect(list.unsubscribe?.url).toBe('https://steady.example.com/unsubscribe/tok');
    expect(list.unsubscribe?.mail).toBe('u-tok@reply.example.com');
    expect(got.raw).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click\r?$/m);
  });

  it.each([
    ['subject with LF', { subject: 'Hi\nBcc: victim@example.com' }],
    ['subject with CR', { subject: 'Hi\rthere' }],
    ['header value with CRLF', { headers: { 'X-Note': 'a\r\nBcc: victim@example.com' } }],
    ['header name with a colon', { headers: { 'X-Bad: y': 'z' } }],
    ['reply-to with LF', { replyTo: 'r@reply.example.com\nBcc: victim@example.com' }],
    ['to with LF', { to: 'jane@example.com\nBcc: victim@example.com' }],
  ])('refuses a %s before sending anything', async (_name, over) => {
    const err = await rejection(mail.send(email(over)));
    expect(err.code).toBe('rejected');
    expect(err.retryable).toBe(false);
    expect(sink.messages).toHaveLength(0);
  });

  it('a recipient refused with 550 -> invalid_recipient, not retryable', async () => {
    const err = await rejection(mail.send(email({ to: 'nobody@example.com' })));
    expect(err.code).toBe('invalid_recipient');
    expect(err.retryable).toBe(false);
    expect(err.providerCode).toBe(550);
  });

  it('a recipient deferred with 452 -> throttled, retryable', async () => {
    const err = await rejection(mail.send(email({ to: 'busy@example.com' })));
    expect(err.code).toBe('throttled');
    expect(err.retryable).toBe(true);
  });

  it('pooled connections deliver too', async () => {
    const pooled = smtpEmail({ url: sink.url, pool: true });
    await Promise.all(
      Array.from({ length: 5 }, (_, i) => pooled.send(email({ subject: `n${i}` }))),
    );
    await pooled.close?.();
    expect(sink.messages.map((m) => m.subject).sort()).toEqual(['n0', 'n1', 'n2', 'n3', 'n4']);
  });
});

describe('smtpEmail with nothing listening', () => {
  it('connection refused -> network, retryable', async () => {
    const sink = await startSmtpSink();
    const url = sink.url;
    await sink.close();
    const mail = smtpEmail({ url });
    const err = await rejection(mail.send(email()));
    await mail.close?.();
    expect(err.code).toBe('network');
    expect(err.retryable).toBe(true);
  });
});
