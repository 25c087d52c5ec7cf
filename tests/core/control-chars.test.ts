// Which characters a field may hold: a line takes a tab and nothing else below U+0020 (nor DEL);
// free text also takes line breaks. Parsed bodies are walked to the first field that breaks that.
import { describe, expect, it } from 'vitest';
import {
  findControlChars,
  hasControlChars,
  withoutControlChars,
} from '../../src/core/control-chars.ts';

describe('hasControlChars', () => {
  it.each([
    ['plain', 'line', false],
    ['tab\there', 'line', false],
    ['a\u0000b', 'line', true],
    ['a\u0001b', 'line', true],
    ['a\u001bb', 'line', true],
    ['a\u007fb', 'line', true],
    ['two\nlines', 'line', true],
    ['cr\r', 'line', true],
    ['two\r\nlines\tand a tab', 'text', false],
    ['a\u0000b', 'text', true],
    ['vertical\u000btab', 'text', true],
    ['form\u000cfeed', 'text', true],
    ['é ü 😀 \u00a0 \u0085', 'line', false],
  ] as const)('%j as a %s -> %s', (value, kind, expected) => {
    expect(hasControlChars(value, kind)).toBe(expected);
  });

  it('withoutControlChars keeps the words and, in text, the line breaks', () => {
    expect(withoutControlChars('JO\u0000IN\u0007 now\r\nplease\t!', 'text')).toBe(
      'JOIN now\r\nplease\t!',
    );
    expect(withoutControlChars('a\nb\u0000', 'line')).toBe('ab');
  });
});

describe('findControlChars', () => {
  it.each([
    [{ email: 'a@b.example', note: 'one\ntwo' }, 'text', null],
    [{ email: 'a\u0000@b.example' }, 'text', '$.email'],
    [{ list: ['ok', { deep: 'x\u0007' }] }, 'text', '$.list[1].deep'],
    [{ 'bad\u0000key': 'ok' }, 'text', '$.bad?key'],
    [{ q: 'one\ntwo' }, 'line', '$.q'],
    ['\u0000', 'line', '$'],
    [[1, null, true, 'fine'], 'line', null],
  ] as const)('%j (%s) -> %s', (value, kind, expected) => {
    expect(findControlChars(value, kind)).toBe(expected);
  });

  it('walks deep JSON without overflowing the stack', () => {
    let deep: unknown = 'x\u0000';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(findControlChars(deep, 'text')).toMatch(/^\$(\[0\]){100000}$/);
  });
});
