// The starting texts an operator can pick for a one-off message, and the subject line that
// message is emailed with: messages/<program>/<locale>/operator.yaml (beside sms.yaml). Read on
// first use and kept; a file that breaks the rules below fails with an error naming the file and
// the key, as `content check` does for sms.yaml.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import {
  checkOperatorText,
  OPERATOR_SMS_MAX_SEGMENTS,
  lockScreenPreview,
} from '../core/operator-message.ts';
import { fillPlaceholders, MissingPlaceholderError, placeholdersIn } from '../core/render.ts';
import { LOCK_SCREEN_WORDS } from './keys.ts';

export interface OperatorTemplate {
  key: string;
  label: string;
  /** With {{programName}} filled. */
  text: string;
}

export interface OperatorTexts {
  /** The email subject ({{programName}} filled). */
  subject: string;
  templates: OperatorTemplate[];
}

const FileSchema = z.object({
  subject: z.string().min(1).max(120),
  templates: z.record(
    z.string().regex(/^[a-z][a-z0-9_]*$/),
    z.object({ label: z.string().min(1).max(60), text: z.string().min(1) }),
  ),
});

export class OperatorTextsError extends Error {}

/** Parses and checks one operator.yaml; `where` names it in errors. */
export function parseOperatorTexts(
  yamlText: string,
  where: string,
  programName: string,
): OperatorTexts {
  const parsed = FileSchema.safeParse(parse(yamlText));
  if (!parsed.success)
    throw new OperatorTextsError(
      `${where}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`).join('; ')}`,
    );
  const fill = (text: string, key: string) => {
    const unknown = placeholdersIn(text).filter((p) => p !== 'programName');
    if (unknown.length)
      throw new OperatorTextsError(
        `${where}: "${key}" uses {{${unknown[0]}}}; only {{programName}} is filled here`,
      );
    try {
      return fillPlaceholders(text, { programName });
    } catch (e) {
      if (e instanceof MissingPlaceholderError)
        throw new OperatorTextsError(`${where}: ${e.message}`);
      throw e;
    }
  };
  const subject = fill(parsed.data.subject, 'subject');
  const subjectWord = LOCK_SCREEN_WORDS.find((w) => subject.toLowerCase().includes(w));
  if (subjectWord)
    throw new OperatorTextsError(`${where}: the subject shows "${subjectWord}" in an inbox list`);
  const templates = Object.entries(parsed.data.templates).map(([key, t]) => {
    const text = fill(t.text, key);
    const check = checkOperatorText('sms', text, LOCK_SCREEN_WORDS);
    if (check.problem?.code === 'lock_screen_word')
      throw new OperatorTextsError(
        `${where}: "${key}" shows a lock-screen word (preview: "${lockScreenPreview(check.text)}")`,
      );
    if (check.problem) throw new OperatorTextsError(`${where}: "${key}": ${check.problem.message}`);
    if (check.size?.encoding === 'UCS-2')
      throw new OperatorTextsError(
        `${where}: "${key}" is UCS-2 (${check.costly.join(' ')}): use plain characters; ` +
          `the limit is ${OPERATOR_SMS_MAX_SEGMENTS} GSM-7 segments`,
      );
    return { key, label: t.label, text: check.text };
  });
  return { subject, templates };
}

const cache = new Map<string, OperatorTexts>();

/** The program's operator texts in `locale`, falling back to `defaultLocale`, from the first of
 * `dirs` (folders under messages/) that has them; none (an empty list and a plain subject) when
 * the program ships no operator.yaml. */
export function operatorTexts(
  messagesDir: string,
  program: { dirs: readonly string[]; name: string; defaultLocale: string },
  locale: string,
): OperatorTexts {
  for (const dir of program.dirs)
    for (const loc of [locale, program.defaultLocale]) {
      const path = join(messagesDir, dir, loc, 'operator.yaml');
      const key = `${path}\u0000${program.name}`;
      const known = cache.get(key);
      if (known) return known;
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch {
        continue;
      }
      const texts = parseOperatorTexts(text, `messages/${dir}/${loc}/operator.yaml`, program.name);
      cache.set(key, texts);
      return texts;
    }
  return { subject: program.name, templates: [] };
}
