import { describe, expect, it } from 'vitest';
import {
  mapTwilioStatus,
  signTwilioRequest,
  verifyTwilioSignature,
} from '../../src/channels/twilio-webhook.ts';

const token = 'test-auth-token-0123';
const url = 'https://steady.example.com/webhooks/twilio/sms';
const params = { From: '+12025550123', To: '+12025550100', Body: 'STOP', MessageSid: 'SM123' };

describe('Twilio webhook signatures', () => {
  it('verifies what it signs', () => {
    const signature = signTwilioRequest(token, url, params);
    expect(verifyTwilioSignature(token, url, params, signature)).toBe(true);
  });

  it('matches the example in Twilio docs (HMAC-SHA1 of URL + sorted keys and values)', () => {
    // The worked example from https://www.twilio.com/docs/usage/security#validating-requests
    const docUrl = 'https://mycompany.com/myapp.php?foo=1&bar=2';
    const docParams = {
      CallSid: 'CA1234567890ABCDE',
      Caller: '+12349013030',
      Digits: '1234',
      From: '+12349013030',
      To: '+18005551212',
    };
    expect(signTwilioRequest('12345', docUrl, docParams)).toBe('0/KCTR6DLpKmkAf8muzZqo1nDgQ=');
  });

  it('fails when a parameter was changed', () => {
    const signature = signTwilioRequest(token, url, params);
    expect(verifyTwilioSignature(token, url, { ...params, Body: 'START' }, signature)).toBe(false);
  });

  it('fails for another URL', () => {
    const signature = signTwilioRequest(token, url, params);
    const other = 'https://steady.example.com/webhooks/twilio/status';
    expect(verifyTwilioSignature(token, other, params, signature)).toBe(false);
  });

  it('fails with another token, or without a signature', () => {
    const signature = signTwilioRequest(token, url, params);
    expect(verifyTwilioSignature('another-token-456', url, params, signature)).toBe(false);
    expect(verifyTwilioSignature(token, url, params, undefined)).toBe(false);
    expect(verifyTwilioSignature(token, url, params, '')).toBe(false);
  });
});

describe('mapTwilioStatus', () => {
  it.each([
    ['accepted', 'queued'],
    ['queued', 'queued'],
    ['sending', 'queued'],
    ['sent', 'sent'],
    ['delivered', 'delivered'],
    ['failed', 'failed'],
    ['undelivered', 'undelivered'],
    ['Delivered', 'delivered'],
    ['received', null],
    ['', null],
  ])('%s -> %s', (status, mapped) => {
    expect(mapTwilioStatus(status)).toBe(mapped);
  });
});
