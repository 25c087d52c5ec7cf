import { describe, expect, it } from 'vitest';
import { smsEncoding, smsSegments } from '../../src/core/segments.ts';

const a = (n: number): string => 'a'.repeat(n);
const l = (n: number): string => 'ł'.repeat(n); // not in GSM 03.38: forces UCS-2

describe('smsEncoding', () => {
  it.each([
    ['plain ASCII', 'Hello, reply YES to join.', 'GSM-7'],
    ['GSM accents', 'Café, Ñandù, Øre, Ü, à, Ç', 'GSM-7'],
    ['GSM symbols', '@ £ $ ¥ § ¿ ¡ _ & % # " \'', 'GSM-7'],
    ['extension table', '{ } [ ] ~ ^ | \\ €', 'GSM-7'],
    ['newlines', 'line one\nline two\r\n', 'GSM-7'],
    ['curly apostrophe', 'you’re', 'UCS-2'],
    ['curly quotes', '“hi”', 'UCS-2'],
    ['em dash', 'wait — here', 'UCS-2'],
    ['emoji', 'hi 🙂', 'UCS-2'],
    ['backtick', 'a `b`', 'UCS-2'],
    ['Polish l', 'łódź', 'UCS-2'],
    ['u acute (only u grave is GSM)', 'ú', 'UCS-2'],
    ['empty', '', 'GSM-7'],
  ])('%s', (_name, text, encoding) => {
    expect(smsEncoding(text)).toBe(encoding);
  });
});

describe('smsSegments', () => {
  it.each([
    ['empty', '', 'GSM-7', 0, 0],
    ['short', 'hello', 'GSM-7', 5, 1],
    ['160 GSM chars fit one SMS', a(160), 'GSM-7', 160, 1],
    ['161 GSM chars need two parts', a(161), 'GSM-7', 161, 2],
    ['306 GSM chars fit two parts', a(306), 'GSM-7', 306, 2],
    ['307 GSM chars need three', a(307), 'GSM-7', 307, 3],
    ['extension chars count two septets', '€', 'GSM-7', 2, 1],
    ['80 braces fill one SMS', '{'.repeat(80), 'GSM-7', 160, 1],
    ['81 braces spill over', '{'.repeat(81), 'GSM-7', 162, 2],
    ['an escape pair is never split', a(152) + '€' + a(152), 'GSM-7', 306, 3],
    ['an escape pair that fits', a(151) + '€' + a(153), 'GSM-7', 306, 2],
    ['newline is one septet', 'a\nb', 'GSM-7', 3, 1],
    ['70 UCS-2 units fit one SMS', l(70), 'UCS-2', 70, 1],
    ['71 UCS-2 units need two', l(71), 'UCS-2', 71, 2],
    ['134 UCS-2 units fit two', l(134), 'UCS-2', 134, 2],
    ['135 UCS-2 units need three', l(135), 'UCS-2', 135, 3],
    ['one curly quote turns 100 chars into 2 parts', a(99) + '’', 'UCS-2', 100, 2],
    ['emoji is two code units', '🙂', 'UCS-2', 2, 1],
    ['35 emoji fill one SMS', '🙂'.repeat(35), 'UCS-2', 70, 1],
    ['a surrogate pair is never split', l(66) + '🙂' + l(66), 'UCS-2', 134, 3],
    ['a surrogate pair that fits', l(65) + '🙂' + l(67), 'UCS-2', 134, 2],
  ])('%s', (_name, text, encoding, units, segments) => {
    expect(smsSegments(text)).toEqual({ encoding, units, segments });
  });
});
