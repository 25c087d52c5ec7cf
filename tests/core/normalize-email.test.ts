import { describe, expect, it } from 'vitest';
import { normalizeEmail } from '../../src/flows/enroll.ts';

describe('normalizeEmail', () => {
  it.each([
    ['  Ana@Example.COM ', 'ana@example.com'],
    ['first.last+tag@mail.example.com', 'first.last+tag@mail.example.com'],
  ])('%s -> %s', (raw, expected) => expect(normalizeEmail(raw)).toBe(expected));

  // `enroll --email` and every caller share this check: a control character never reaches the
  // database (PostgreSQL refuses NUL in text, which would be a 500 or a crash, not a clear error).
  it.each([
    'ana\u0000@example.com',
    'ana\u0007@example.com',
    'a\u007f@example.com',
    'ana @example.com',
    'no-at.example.com',
  ])('refuses %j', (raw) => expect(normalizeEmail(raw)).toBeNull());
});
