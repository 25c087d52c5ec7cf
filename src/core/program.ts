// Walking a program: which step comes after which. Pure.
import type { Program, ProgramStep } from '../content/types.ts';

/** Steps in the order they are sent (by day, then local time). */
export function orderedSteps(program: Program): ProgramStep[] {
  return [...program.steps].sort((a, b) => a.day - b.day || a.at.localeCompare(b.at));
}

export function findStep(program: Program, key: string): ProgramStep | undefined {
  return program.steps.find((s) => s.key === key);
}

export function firstStep(program: Program): ProgramStep {
  const first = orderedSteps(program)[0];
  if (!first) throw new Error(`program "${program.key}" has no steps`);
  return first;
}

/** The step after `key`, skipping any in `skip` (already sent early), or null at the end. */
export function stepAfter(
  program: Program,
  key: string,
  skip: readonly string[] = [],
): ProgramStep | null {
  const steps = orderedSteps(program);
  const i = steps.findIndex((s) => s.key === key);
  for (let j = i + 1; j < steps.length; j++) {
    const s = steps[j];
    if (s && !skip.includes(s.key)) return s;
  }
  return null;
}

/** Messages a week and weeks, as promised in the opt-in confirmation. */
export function programFrequency(program: Program): { perWeek: number; weeks: number } {
  const weeks = program.weeks;
  return { perWeek: Math.round(program.steps.length / Math.max(1, weeks)), weeks };
}
