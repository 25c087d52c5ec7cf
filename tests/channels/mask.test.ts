import { describe, expect, it } from 'vitest';
import { maskEmail, maskPhone } from '../../src/channels/mask.ts';

describe('maskPhone', () => {
  it.each([
    ['+12025550123', '+1202***0123'],
    ['+447700900123', '+4477***0123'],
    ['+3312345', '+33***45'],
    ['+123', '***'],
    ['', '***'],
  ])('%s -> %s', (input, masked) => {
    expect(maskPhone(input)).toBe(masked);
  });
});

describe('maskEmail', () => {
  it.each([
    ['jane.doe@example.com', 'j***@example.com'],
    ['Jane Doe <jane.doe@example.com>', 'j***@example.com'],
    ['x@y.org', 'x***@y.org'],
    ['not-an-address', '***'],
  ])('%s -> %s', (input, masked) => {
    expect(maskEmail(input)).toBe(masked);
  });
});
