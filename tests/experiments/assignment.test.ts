// Assignment of a step's variant: a hash of the enrollment id and the step mapped onto the live
// variants' weights.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { assignmentPoint, assignVariant } from '../../src/core/experiments.ts';

// Fixed ids (not random), so the counts below are the same on every run.
const ids = Array.from(
  { length: 10_000 },
  (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
);

function shares(variants: { name: string; weight: number }[], ended = new Set<string>()) {
  const counts: Record<string, number> = {};
  for (const id of ids) {
    const v = assignVariant(id, 'w2-d0', variants, ended)!;
    counts[v] = (counts[v] ?? 0) + 1;
  }
  return Object.fromEntries(Object.entries(counts).map(([k, n]) => [k, n / ids.length]));
}

describe('assignVariant', () => {
  it('gives the same variant for the same enrollment and step, whatever the order written', () => {
    const id = randomUUID();
    const ab = [
      { name: 'a', weight: 1 },
      { name: 'b', weight: 1 },
    ];
    const first = assignVariant(id, 'w2-d0', ab);
    for (let i = 0; i < 5; i++) expect(assignVariant(id, 'w2-d0', ab)).toBe(first);
    expect(assignVariant(id, 'w2-d0', [...ab].reverse())).toBe(first);
    expect(assignmentPoint(id, 'w2-d0')).toBe(assignmentPoint(id, 'w2-d0'));
    expect(assignmentPoint(id, 'w2-d0')).not.toBe(assignmentPoint(id, 'w3-d0'));
  });

  it('follows the weights over 10,000 enrollments (within 3 points)', () => {
    const even = shares([
      { name: 'a', weight: 1 },
      { name: 'b', weight: 1 },
    ]);
    expect(even.a).toBeGreaterThan(0.47);
    expect(even.a).toBeLessThan(0.53);
    const skewed = shares([
      { name: 'a', weight: 3 },
      { name: 'b', weight: 1 },
    ]);
    expect(skewed.a).toBeGreaterThan(0.72);
    expect(skewed.a).toBeLessThan(0.78);
    const three = shares([
      { name: 'a', weight: 2 },
      { name: 'b', weight: 1 },
      { name: 'c', weight: 1 },
    ]);
    expect(three.a).toBeGreaterThan(0.47);
    expect(three.a).toBeLessThan(0.53);
    expect(three.c).toBeGreaterThan(0.22);
    expect(three.c).toBeLessThan(0.28);
  });

  it('skips an ended variant and spreads its share over the others by weight', () => {
    const variants = [
      { name: 'a', weight: 2 },
      { name: 'b', weight: 1 },
      { name: 'c', weight: 1 },
    ];
    const after = shares(variants, new Set(['a']));
    expect(after.a).toBeUndefined();
    expect(after.b).toBeGreaterThan(0.47);
    expect(after.b).toBeLessThan(0.53);
    // Nobody is given the ended variant any more.
    const now = ids.map((id) => assignVariant(id, 'w2-d0', variants, new Set(['a'])));
    expect(now.every((v) => v === 'b' || v === 'c')).toBe(true);
  });

  it('has no variant for a step without variants, and falls back to the first when all ended', () => {
    expect(assignVariant('x', 'w2-d0', [])).toBeNull();
    expect(
      assignVariant(
        'x',
        'w2-d0',
        [
          { name: 'b', weight: 1 },
          { name: 'a', weight: 1 },
        ],
        new Set(['a', 'b']),
      ),
    ).toBe('a');
  });
});
