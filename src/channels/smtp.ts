// Email through any SMTP relay with nodemailer. Every header we send is checked for CR and LF
// first: subjects and headers carry text from content files and subscribers, and one line break
// would let that text add headers or recipients of its own.
import nodemailer from 'nodemailer';
import addressparser from 'nodemailer/lib/addressparser';
import { SendError, type EmailSender, type OutgoingEmail, type SendResult } from './port.ts';
import { smtpErrorToSendError } from './smtp-errors.ts';

export interface SmtpEmailOptions {
  /** smtp://user:pass@host:port or smtps://...; query options (e.g. ?pool=true) also work. */
  url: string;
  /** Reuse connections across messages (worth it when sending in bulk). */
  pool?: boolean;
  /** Envelope sender (Return-Path) that bounces go to; defaults to the From address. */
  bounceAddress?: string;
}

// RFC 5322 field names: printable ASCII except the colon.
const FIELD_NAME = /^[!-9;-~]+$/;

function refuse(what: string): never {
  throw new SendError('rejected', {
    retryable: false,
    message: `refusing to send: ${what} contains a line break or is not a valid header`,
  });
}

function assertSafeHeaders(msg: OutgoingEmail): void {
  const fields: [string, string | undefined][] = [
    ['subject', msg.subject],
    ['to', msg.to],
    ['from', msg.from],
    ['reply-to', msg.replyTo],
    ['message id', msg.messageId],
  ];
  for (const [name, value] of fields) if (value !== undefined && /[\r\n]/.test(value)) refuse(name);
  for (const [name, value] of Object.entries(msg.headers)) {
    if (!FIELD_NAME.test(name)) refuse(`header name "${name.replace(/[\r\n]/g, ' ')}"`);
    if (/[\r\n]/.test(value)) refuse(`header ${name}`);
  }
}

function domainOf(from: string): string {
  const domain = addressparser(from, { flatten: true })[0]?.address.split('@')[1];
  if (!domain) {
    throw new SendError('rejected', {
      retryable: false,
      message: `the From address "${from}" has no domain; set EMAIL_FROM to Name <user@domain>`,
    });
  }
  return domain;
}

export function smtpEmail(opts: SmtpEmailOptions): EmailSender {
  const transport = nodemailer.createTransport({
    url: opts.url,
    pool: opts.pool ?? false,
    // nodemailer waits minutes by default; a send worker should fail over to a retry sooner.
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
  });

  return {
    name: 'smtp',
    async send(msg: OutgoingEmail): Promise<SendResult> {
      assertSafeHeaders(msg);
      const messageId = `<${msg.messageId}@${domainOf(msg.from)}>`;
      try {
        const info = await transport.sendMail({
          from: msg.from,
          to: msg.to,
          replyTo: msg.replyTo,
          subject: msg.subject,
          text: msg.text,
          html: msg.html,
          messageId,
          headers: msg.headers,
          ...(opts.bounceAddress ? { envelope: { from: opts.bounceAddress, to: msg.to } } : {}),
        });
        return { providerId: info.messageId || messageId, status: 'sent' };
      } catch (err) {
        throw smtpErrorToSendError(err);
      }
    },
    async close() {
      transport.close();
    },
  };
}
