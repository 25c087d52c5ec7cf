import twilio from 'twilio';
import { describe, expect, it } from 'vitest';
import { SendError } from '../../src/channels/port.ts';
import { twilioErrorToSendError } from '../../src/channels/twilio-errors.ts';

// What the SDK throws for a Twilio error answer: a RestException built from status and JSON body.
const rest = (status: number, code?: number) =>
  new twilio.RestException({
    statusCode: status,
    body: code === undefined ? '' : { code, message: `error ${code}`, more_info: '', status },
  });

const errno = (code: string) => Object.assign(new Error(`connect ${code}`), { code });

describe('twilioErrorToSendError', () => {
  it.each([
    ['21610 STOP', rest(400, 21610), 'opted_out', false],
    ['21211 invalid To', rest(400, 21211), 'invalid_recipient', false],
    ['21614 not mobile', rest(400, 21614), 'invalid_recipient', false],
    ['21612 unreachable', rest(400, 21612), 'invalid_recipient', false],
    ['21408 region', rest(400, 21408), 'invalid_recipient', false],
    ['20003 auth', rest(401, 20003), 'auth', false],
    ['20404 wrong account', rest(404, 20404), 'auth', false],
    ['403 without code', rest(403), 'auth', false],
    ['429 20429', rest(429, 20429), 'throttled', true],
    ['429 without code', rest(429), 'throttled', true],
    ['500 20500', rest(500, 20500), 'provider_down', true],
    ['503 without body', rest(503), 'provider_down', true],
    ['other 4xx', rest(400, 21602), 'rejected', false],
    ['ECONNREFUSED', errno('ECONNREFUSED'), 'network', true],
    ['ECONNRESET', errno('ECONNRESET'), 'network', true],
    ['axios timeout', errno('ECONNABORTED'), 'network', true],
    ['ETIMEDOUT', errno('ETIMEDOUT'), 'network', true],
    ['plain object', { status: 400, code: 21610 }, 'opted_out', false],
    ['a bug', new TypeError('x is undefined'), 'unknown', false],
    ['not an error', 'boom', 'unknown', false],
  ] as const)('%s -> %s', (_name, err, code, retryable) => {
    const mapped = twilioErrorToSendError(err);
    expect(mapped).toBeInstanceOf(SendError);
    expect(mapped.code).toBe(code);
    expect(mapped.retryable).toBe(retryable);
  });

  it('keeps the Twilio code as providerCode', () => {
    expect(twilioErrorToSendError(rest(400, 21610)).providerCode).toBe(21610);
  });

  it('passes a SendError through unchanged', () => {
    const e = new SendError('rejected', { retryable: false });
    expect(twilioErrorToSendError(e)).toBe(e);
  });
});
