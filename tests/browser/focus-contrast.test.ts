// The shared focus ring must stand out: WCAG 2.2 (1.4.11, 2.4.13) asks for at least 3:1 against
// what is around it, here white (cards, inputs) and the page background. No browser needed.
import { describe, expect, it } from 'vitest';
import { FOCUS_COLOUR, PAGE_BACKGROUND, page } from '../../src/http/html.ts';
import { contrast } from './contrast.ts';

describe('contrast()', () => {
  it('computes the WCAG ratio', () => {
    expect(contrast('#000000', '#ffffff')).toBeCloseTo(21, 5);
    expect(contrast('#fff', 'rgb(255, 255, 255)')).toBe(1);
    expect(contrast('#767676', '#ffffff')).toBeCloseTo(4.54, 2);
    // The old ring: amber #f59e0b is 2.15:1 on white, too faint.
    expect(contrast('#f59e0b', '#ffffff')).toBeCloseTo(2.15, 2);
  });
});

describe('the focus ring', () => {
  it('has at least 3:1 contrast against white and against the page background', () => {
    expect(contrast(FOCUS_COLOUR, '#ffffff')).toBeGreaterThanOrEqual(3);
    expect(contrast(FOCUS_COLOUR, PAGE_BACKGROUND)).toBeGreaterThanOrEqual(3);
  });

  it('is the colour the shared CSS uses for :focus-visible, on that background', () => {
    const html = page('<h1>x</h1>');
    const rule = /:focus-visible\{([^}]*)\}/.exec(html)?.[1] ?? '';
    expect(rule).toContain(`outline:3px solid ${FOCUS_COLOUR}`);
    expect(html).toMatch(new RegExp(`body\\{[^}]*background:${PAGE_BACKGROUND}`));
    // No other focus style in the shell overrides it with another colour.
    expect(html.match(/outline:[^;}]*#[0-9a-f]{3,6}/gi) ?? []).toEqual([
      `outline:3px solid ${FOCUS_COLOUR}`,
    ]);
  });
});
