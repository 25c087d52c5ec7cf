// Parsing helpers that report problems instead of throwing, so one run lists them all.
import { parse as parseYamlText } from 'yaml';
import type { z } from 'zod';
import type { Problems } from './errors.ts';
import type { RawFile } from './read.ts';
import { frontMatterSchema, zodProblems } from './schema.ts';
import type { EmailTemplate } from './types.ts';

export function parseYaml(file: RawFile, problems: Problems): unknown {
  try {
    return parseYamlText(file.text, { prettyErrors: true });
  } catch (e) {
    problems.error(file.path, `is not valid YAML: ${(e as Error).message.split('\n')[0]}`);
    return undefined;
  }
}

/** Parses with a zod schema; `describe` can turn a path like "steps.3.at" into words. */
export function parseWith<T extends z.ZodType>(
  schema: T,
  data: unknown,
  file: RawFile,
  problems: Problems,
  describe: (problem: string) => string = (p) => p,
): z.infer<T> | undefined {
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  for (const problem of zodProblems(result.error)) problems.error(file.path, describe(problem));
  return undefined;
}

const FRONT_MATTER = /^---[ \t]*\r?\n([\s\S]*?)\r?\n---[ \t]*(?:\r?\n|$)/;

/** An email file: YAML front matter (subject, preheader) between "---" lines, then Markdown. */
export function parseEmail(
  file: RawFile,
  problems: Problems,
): (EmailTemplate & { weight?: number }) | undefined {
  const match = FRONT_MATTER.exec(file.text.replace(/^\uFEFF/, ''));
  if (!match) {
    problems.error(file.path, 'has no front matter: start it with "---", "subject: ...", "---"');
    return undefined;
  }
  const head = parseYaml({ path: file.path, text: match[1] ?? '' }, problems);
  const meta = parseWith(frontMatterSchema, head ?? {}, file, problems);
  const markdown = file.text.slice(match[0].length).trim();
  if (!markdown) problems.error(file.path, 'has no body after the front matter');
  if (!meta || !markdown) return undefined;
  const weight = meta.weight === undefined ? {} : { weight: meta.weight };
  return { subject: meta.subject, preheader: meta.preheader, markdown, ...weight };
}
