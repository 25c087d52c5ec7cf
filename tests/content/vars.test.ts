import { describe, expect, it } from 'vitest';
import type { Program, SafetyResources } from '../../src/content/types.ts';
import {
  programVars,
  resourceCategoryFor,
  resourcesFor,
  resourceVars,
} from '../../src/content/vars.ts';

const us: SafetyResources = {
  abuse: ['A line', 'B line'],
  self_harm: ['C line'],
  emergency: '911',
};
const fallback: SafetyResources = { abuse: ['D'], self_harm: ['E'], emergency: 'local' };
const resources = { US: us, default: fallback };

describe('resources by country', () => {
  it.each([
    ['US', us],
    ['us', us],
    ['CA', fallback],
  ])('%s', (country, expected) => {
    expect(resourcesFor(resources, country)).toBe(expected);
  });

  it('joins lines and picks the category', () => {
    expect(resourceVars(resources, 'US', 'abuse')).toEqual({
      resources: 'A line\nB line',
      emergency: '911',
    });
    expect(resourceVars(resources, 'US', 'self_harm').resources).toBe('C line');
  });

  it('picks the lines worded for a locale when the entry has them', () => {
    const withEs: SafetyResources = {
      ...us,
      locales: { es: { abuse: ['A es'], self_harm: ['C es'] } },
    };
    const all = { US: withEs, default: fallback };
    expect(resourceVars(all, 'US', 'abuse', 'es')).toEqual({ resources: 'A es', emergency: '911' });
    expect(resourceVars(all, 'US', 'self_harm', 'es').resources).toBe('C es');
    expect(resourceVars(all, 'US', 'abuse', 'en').resources).toBe('A line\nB line');
    expect(resourcesFor(all, 'CA', 'es')).toBe(fallback); // no Spanish lines: as before
  });

  it('throws without a country entry or default', () => {
    expect(() => resourceVars({ US: us }, 'GB', 'abuse')).toThrow('no safety resources for GB');
  });

  it.each([
    ['safety_self_harm', 'self_harm'],
    ['safety_abuse', 'abuse'],
    ['welcome', 'abuse'],
    ['w1-d3', 'abuse'],
  ])('%s shows %s lines', (key, category) => {
    expect(resourceCategoryFor(key)).toBe(category);
  });
});

describe('programVars', () => {
  it('takes the busiest week as messages a week', () => {
    const step = (key: string, week: number, day: number) =>
      ({ key, week, day, at: '10:00', kind: 'nudge' }) as const;
    const program: Program = {
      key: 'p',
      name: 'P',
      weeks: 2,
      defaultLocale: 'en',
      steps: [step('a', 1, 0), step('b', 2, 7), step('c', 2, 8), step('d', 2, 9)],
      keywords: {},
      locales: {},
    };
    expect(programVars(program)).toEqual({ programName: 'P', weeks: 2, perWeek: 3 });
  });
});
