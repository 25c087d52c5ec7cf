import { describe, expect, it } from 'vitest';
import { smtpErrorToSendError } from '../../src/channels/smtp-errors.ts';

// Shaped like nodemailer's errors: code, responseCode and the command that got the reply.
const smtp = (fields: { code?: string; responseCode?: number; command?: string }) =>
  Object.assign(new Error('smtp failure'), fields);

describe('smtpErrorToSendError', () => {
  it.each([
    [
      '550 on RCPT',
      smtp({ code: 'EENVELOPE', responseCode: 550, command: 'RCPT TO' }),
      'invalid_recipient',
      false,
    ],
    [
      '554 on DATA',
      smtp({ code: 'EMESSAGE', responseCode: 554, command: 'DATA' }),
      'rejected',
      false,
    ],
    [
      '552 on MAIL',
      smtp({ code: 'EENVELOPE', responseCode: 552, command: 'MAIL FROM' }),
      'rejected',
      false,
    ],
    [
      '452 on RCPT',
      smtp({ code: 'EENVELOPE', responseCode: 452, command: 'RCPT TO' }),
      'throttled',
      true,
    ],
    [
      '451 on DATA',
      smtp({ code: 'EMESSAGE', responseCode: 451, command: 'DATA' }),
      'throttled',
      true,
    ],
    [
      '421 closing',
      smtp({ code: 'EENVELOPE', responseCode: 421, command: 'MAIL FROM' }),
      'provider_down',
      true,
    ],
    [
      '503 sequence',
      smtp({ code: 'EPROTOCOL', responseCode: 503, command: 'DATA' }),
      'provider_down',
      true,
    ],
    ['535 auth', smtp({ code: 'EAUTH', responseCode: 535, command: 'AUTH PLAIN' }), 'auth', false],
    ['ENOAUTH', smtp({ code: 'ENOAUTH' }), 'auth', false],
    ['refused', smtp({ code: 'ESOCKET', command: 'CONN' }), 'network', true],
    ['closed', smtp({ code: 'ECONNECTION', command: 'CONN' }), 'network', true],
    ['timeout', smtp({ code: 'ETIMEDOUT', command: 'CONN' }), 'network', true],
    ['dns', smtp({ code: 'EDNS', command: 'CONN' }), 'network', true],
    ['a bug', new TypeError('x is undefined'), 'unknown', false],
  ] as const)('%s -> %s', (_name, err, code, retryable) => {
    const mapped = smtpErrorToSendError(err);
    expect(mapped.code).toBe(code);
    expect(mapped.retryable).toBe(retryable);
  });
});
