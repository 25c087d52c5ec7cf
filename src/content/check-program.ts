// Checks program.yaml on its own: schema, keys, weeks and days, the one-a-day rule.
import type { Problems } from './errors.ts';
import { parseWith, parseYaml } from './parse.ts';
import type { RawFile } from './read.ts';
import { programFileSchema, type ProgramFile } from './schema.ts';

const EARLIEST = '09:00';
const LATEST = '19:00';

export function checkProgramFile(
  file: RawFile,
  folder: string,
  problems: Problems,
): ProgramFile | undefined {
  const data = parseYaml(file, problems);
  if (data === undefined) return undefined;
  const rawSteps = (data as { steps?: unknown }).steps;
  // "steps.3.at: ..." becomes 'step "w1-d5" at: ...' so an editor can find it.
  const describe = (problem: string): string =>
    problem.replace(/^steps\.(\d+)(\.|:)/, (all, i: string, sep: string) => {
      const key = Array.isArray(rawSteps)
        ? (rawSteps[Number(i)] as { key?: unknown } | undefined)?.key
        : undefined;
      const name = typeof key === 'string' ? `step "${key}"` : `step #${Number(i) + 1}`;
      return sep === '.' ? `${name} ` : `${name}:`;
    });
  const program = parseWith(programFileSchema, data, file, problems, describe);
  if (!program) return undefined;

  const where = file.path;
  if (program.key !== folder) {
    problems.error(where, `key "${program.key}" must match its folder name "${folder}"`);
  }

  const byKey = new Map<string, number>();
  const byDay = new Map<number, string>();
  let previousDay = -1;
  for (const step of program.steps) {
    const name = `step "${step.key}"`;
    if (byKey.has(step.key)) problems.error(where, `${name} appears more than once`);
    byKey.set(step.key, step.day);

    if (step.week > program.weeks) {
      problems.error(
        where,
        `${name} is in week ${step.week}, but the program has ${program.weeks} weeks`,
      );
    }
    const first = (step.week - 1) * 7;
    if (step.day < first || step.day > first + 6) {
      problems.error(
        where,
        `${name} is on day ${step.day}, outside week ${step.week} (days ${first}-${first + 6})`,
      );
    }
    const sameDay = byDay.get(step.day);
    if (sameDay !== undefined) {
      problems.error(
        where,
        `${name} is on day ${step.day}, like step "${sameDay}": at most one step a day`,
      );
    }
    byDay.set(step.day, step.key);
    if (step.day < previousDay) {
      problems.error(
        where,
        `${name} (day ${step.day}) comes after a later day: list steps in day order`,
      );
    }
    previousDay = Math.max(previousDay, step.day);
    if (step.at < EARLIEST || step.at > LATEST) {
      problems.warn(
        where,
        `${name} is sent at ${step.at}, outside ${EARLIEST}-${LATEST} local time`,
      );
    }
  }

  for (let week = 1; week <= program.weeks; week += 1) {
    const steps = program.steps.filter((s) => s.week === week);
    if (steps.length === 0) problems.warn(where, `week ${week} has no steps`);
    else if (!steps.some((s) => s.kind === 'checkin'))
      problems.warn(where, `week ${week} has no check-in`);
  }

  if (program.lowRatingStep !== undefined && !byKey.has(program.lowRatingStep)) {
    problems.error(
      where,
      `lowRatingStep "${program.lowRatingStep}" is not a step (known: ${[...byKey.keys()].join(', ')})`,
    );
  }
  return program;
}
