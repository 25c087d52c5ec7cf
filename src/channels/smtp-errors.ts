// Turns what nodemailer throws into our one error type. Pure: it reads the fields nodemailer sets
// (`responseCode` = SMTP reply, `command` = the command that got it, `code` = EAUTH, ESOCKET, ...)
// so it can be tested with plain objects.
import { SendError } from './port.ts';

// Nodemailer's codes for a connection that failed or ended before the server answered, and
// Node's errno codes in case one gets through unwrapped.
const NETWORK_CODES = new Set([
  'ECONNECTION',
  'ETIMEDOUT',
  'ESOCKET',
  'EDNS',
  'EPROXY',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

export function smtpErrorToSendError(err: unknown): SendError {
  if (err instanceof SendError) return err;
  const e = (typeof err === 'object' && err !== null ? err : {}) as {
    code?: unknown;
    responseCode?: unknown;
    command?: unknown;
    message?: unknown;
  };
  const message = `SMTP: ${typeof e.message === 'string' && e.message ? e.message : String(err)}`;
  const reply = typeof e.responseCode === 'number' ? e.responseCode : undefined;
  const code = typeof e.code === 'string' ? e.code : undefined;
  const command = typeof e.command === 'string' ? e.command.toUpperCase() : '';

  if (code === 'EAUTH' || code === 'ENOAUTH' || reply === 530 || reply === 535) {
    return new SendError('auth', { retryable: false, providerCode: reply ?? code, message });
  }
  // 421 is "service closing" and 503 "bad sequence of commands": the session went wrong, not
  // this message, so a new connection may well take it.
  if (reply === 421 || reply === 503) {
    return new SendError('provider_down', { retryable: true, providerCode: reply, message });
  }
  if (reply !== undefined && reply >= 500) {
    const recipient = command.startsWith('RCPT');
    return new SendError(recipient ? 'invalid_recipient' : 'rejected', {
      retryable: false,
      providerCode: reply,
      message,
    });
  }
  if (reply !== undefined && reply >= 400) {
    return new SendError('throttled', { retryable: true, providerCode: reply, message });
  }
  if (code !== undefined && NETWORK_CODES.has(code)) {
    return new SendError('network', { retryable: true, providerCode: code, message });
  }
  return new SendError('unknown', { retryable: false, providerCode: reply ?? code, message });
}
