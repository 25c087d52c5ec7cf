// The rules for an operator's one-off message (src/core/operator-message.ts), as tables: how the
// text is cleaned, what is refused, and when it may go in the person's quiet hours.
import { describe, expect, it } from 'vitest';
import { LOCK_SCREEN_WORDS } from '../../src/content/keys.ts';
import {
  checkOperatorText,
  cleanOperatorText,
  operatorSendTiming,
} from '../../src/core/operator-message.ts';

const QUIET = { start: '21:00', end: '08:00' };

describe('cleanOperatorText', () => {
  it.each([
    ['  Hello  ', 'Hello'],
    ['Line one  \r\nLine two\r\n\r\n', 'Line one\nLine two'],
    ['Bell\u0007 and NUL\u0000 gone', 'Bell and NUL gone'],
    ['Tab\tstays\rCR alone', 'Tab\tstays\nCR alone'],
    ['\u007fDEL', 'DEL'],
  ])('%j -> %j', (raw, clean) => {
    expect(cleanOperatorText(raw)).toBe(clean);
  });
});

describe('checkOperatorText', () => {
  const check = (channel: 'sms' | 'email', text: string) =>
    checkOperatorText(channel, text, LOCK_SCREEN_WORDS);

  it.each([
    ['sms', '', 'empty_text'],
    ['sms', ' \n\t ', 'empty_text'],
    ['email', '\u0000', 'empty_text'],
    ['sms', 'a'.repeat(459), null],
    ['sms', 'a'.repeat(460), 'too_long'],
    ['sms', '’'.repeat(201), null],
    ['sms', '’'.repeat(202), 'too_long'],
    ['email', 'a'.repeat(4000), null],
    ['email', 'a'.repeat(4001), 'too_long'],
    ['sms', 'Your partner called\nok', 'lock_screen_word'],
    ['email', 'A word about SAFETY', 'lock_screen_word'],
    // A lock screen shows the first line, or the first 40 characters when the line is shorter.
    ['sms', 'Hi, it is Steady.\nIf you are in danger, call 911.', 'lock_screen_word'],
    ['sms', 'Hi, it is Steady.\nA short note for you today.\nIf in danger, call 911.', null],
    [
      'sms',
      'Hi there, this is a long first line that runs on and then partner',
      'lock_screen_word',
    ],
  ] as const)('%# %s -> %s', (channel, text, problem) => {
    expect(check(channel, text).problem?.code ?? null).toBe(problem);
  });

  it('names the characters that make an SMS cost double', () => {
    const c = check('sms', 'It’s “fine” — really');
    expect(c.size).toMatchObject({ encoding: 'UCS-2', segments: 1 });
    expect(c.costly).toEqual(['’', '“', '”', '—']);
    expect(check('sms', 'plain').costly).toEqual([]);
  });
});

describe('operatorSendTiming (America/New_York, quiet 21:00-08:00)', () => {
  const zone = 'America/New_York';
  it.each([
    ['2026-05-04T17:00:00Z', null, 'now'], // 13:00
    ['2026-05-05T00:59:00Z', null, 'now'], // 20:59
    ['2026-05-05T01:00:00Z', null, 'held'], // 21:00
    ['2026-05-05T03:00:00Z', '2026-05-05T02:10:00Z', 'answering'], // wrote 50 min ago
    ['2026-05-05T03:00:00Z', '2026-05-05T02:00:00Z', 'answering'], // exactly an hour
    ['2026-05-05T03:00:00Z', '2026-05-05T01:59:00Z', 'held'], // 61 min ago
    ['2026-05-05T11:59:00Z', null, 'held'], // 07:59
    ['2026-05-05T12:00:00Z', null, 'now'], // 08:00
  ])('at %s, last reply %s -> %s', (now, lastIn, kind) => {
    const t = operatorSendTiming(new Date(now), zone, QUIET, lastIn ? new Date(lastIn) : null);
    expect(t.kind).toBe(kind);
  });

  it('a held message waits until 08:00 local, across a daylight-saving change too', () => {
    const held = operatorSendTiming(new Date('2026-03-08T04:00:00Z'), zone, QUIET, null);
    // 23:00 EST on March 7; 08:00 on March 8 is EDT (UTC-4).
    expect(held).toEqual({ kind: 'held', until: new Date('2026-03-08T12:00:00Z') });
  });
});
