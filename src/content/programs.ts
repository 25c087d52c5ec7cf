// The programs a deployment runs side by side (PROGRAMS), and the default one (PROGRAM): the one
// JOIN, the sign-up form and `enroll` use when no program is named. Everything that acts for an
// enrollment looks its program up here by the key the enrollment row stores.
import type { ProgramWord } from '../core/keywords.ts';
import type { Content, Program } from './types.ts';

export interface ProgramRegistry {
  /** PROGRAM: JOIN's program, and the one used when no program is named. */
  readonly default: Program;
  /** A live program by key, or undefined. */
  get(key: string): Program | undefined;
  /** The program of an enrollment (or message) by its stored key; the default one when the key
   * is not live (a program taken off PROGRAMS still has its people's STOP answered). */
  of(key: string | null | undefined): Program;
  /** Live programs, the default one first. */
  all(): readonly Program[];
  /** Every live program's own join words (program.yaml `keywords:`). */
  words(): readonly ProgramWord[];
}

export function programRegistry(programs: readonly Program[], defaultKey: string): ProgramRegistry {
  const byKey = new Map(programs.map((p) => [p.key, p]));
  const first = byKey.get(defaultKey);
  if (!first) throw new Error(`default program "${defaultKey}" is not among the live programs`);
  const ordered = [first, ...programs.filter((p) => p.key !== defaultKey)];
  const words = ordered.flatMap((p) =>
    Object.entries(p.keywords).flatMap(([locale, list]) =>
      list.map((word) => ({ word, locale, program: p.key })),
    ),
  );
  return {
    default: first,
    get: (key) => byKey.get(key),
    of: (key) => (key ? byKey.get(key) : undefined) ?? first,
    all: () => ordered,
    words: () => words,
  };
}

/** The programs PROGRAMS names (every program in messages/ when it is empty), with PROGRAM as the
 * default. Throws an Error naming what is wrong and what exists. */
export function selectPrograms(
  content: Pick<Content, 'programs'>,
  opts: { program: string; programs: readonly string[] },
): ProgramRegistry {
  const have = Object.keys(content.programs);
  const keys = opts.programs.length > 0 ? [...opts.programs] : have;
  const missing = keys.filter((k) => !content.programs[k]);
  if (!content.programs[opts.program]) missing.unshift(`PROGRAM=${opts.program}`);
  if (missing.length > 0)
    throw new Error(`${missing.join(', ')}: not in messages/ (have: ${have.join(', ') || 'none'})`);
  if (!keys.includes(opts.program))
    throw new Error(
      `PROGRAM=${opts.program} must be one of PROGRAMS (${keys.join(',')}): JOIN enrolls into it`,
    );
  return programRegistry(
    keys.map((k) => content.programs[k]!),
    opts.program,
  );
}

/** The same programs under new keys (`<key>-<suffix>`): each test file and each simulation runs
 * its own copies, so a scheduler claims only its own enrollments. */
export function withKeySuffix(registry: ProgramRegistry, suffix: string): ProgramRegistry {
  const renamed = registry.all().map((p) => ({ ...p, key: `${p.key}-${suffix}` }));
  return programRegistry(renamed, `${registry.default.key}-${suffix}`);
}
