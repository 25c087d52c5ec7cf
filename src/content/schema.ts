// Shapes of the files under messages/, checked with zod before anything else looks at them.
import { z } from 'zod';

const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;

export const stepSchema = z.strictObject({
  key: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'lowercase letters, digits, "-" and "_" only'),
  week: z.number().int().min(1),
  day: z.number().int().min(0),
  at: z.string().regex(HHMM, 'must be a local time "HH:MM" (24-hour), e.g. "09:30"'),
  kind: z.enum(['nudge', 'checkin']),
});

export const programFileSchema = z.strictObject({
  key: z.string().min(1),
  name: z.string().min(1),
  weeks: z.number().int().min(1),
  defaultLocale: z.string().min(2),
  lowRatingStep: z.string().min(1).optional(),
  /** Words that join this program, per locale, e.g. `{ en: [calm], es: [calma] }`. The default
   * program (PROGRAM) also answers keywords.yaml's `join` words. */
  keywords: z.record(z.string(), z.array(z.string().min(1))).default({}),
  /** One line per locale, shown on the sign-up page under the program's name. */
  description: z.record(z.string(), z.string().min(1)).optional(),
  steps: z.array(stepSchema).min(1),
});
export type ProgramFile = z.infer<typeof programFileSchema>;

const textMap = z.record(z.string(), z.string());

/** A step's SMS: a text, or an experiment's variants (checked in detail by variants.ts). */
const stepText = z.union(
  [z.string(), z.strictObject({ variants: z.record(z.string(), z.unknown()) })],
  {
    error: 'must be a text, or { variants: { a: "...", b: { text: "...", weight: 1 } } }',
  },
);

export const smsFileSchema = z.strictObject({
  steps: z.record(z.string(), stepText).default({}),
  system: textMap.default({}),
});

export const frontMatterSchema = z.object({
  subject: z
    .string({ error: 'lacks "subject:" in its front matter' })
    .trim()
    .min(1, 'has an empty subject'),
  preheader: z.string().trim().default(''),
  /** Only in an experiment's variant file (`<step>.<variant>.md`): its relative weight. */
  weight: z
    .number({ error: 'weight must be a number' })
    .positive('weight must be a positive number')
    .optional(),
});

const wordList = z.array(z.string().min(1));

export const keywordSetSchema = z.object({
  stop: wordList,
  start: wordList,
  help: wordList,
  pause: wordList,
  resume: wordList,
  yes: wordList,
  join: wordList,
  /** Asks for the private support options (the discreet check-in offers it). */
  safe: wordList.default([]),
  stopPhrases: wordList.default([]),
  /** Words that ask how to change language ("IDIOMA", "LANGUAGE"); followed by a language name or
   * code they switch ("LANGUAGE ES", "IDIOMA INGLES"). */
  language: wordList.default([]),
  /** Names of this locale's language, in any language ("espanol", "spanish"): alone or after a
   * language word they switch to this locale. */
  languageName: wordList.default([]),
});

export const keywordsFileSchema = z.record(z.string(), keywordSetSchema);

const resourceLines = z.array(z.string().min(1)).min(1);

/** The same help worded for readers of one locale (e.g. Spanish lines for the US). */
const localeResourcesSchema = z.object({
  abuse: resourceLines,
  self_harm: resourceLines,
  emergency: z.string().min(1).optional(),
});

export const resourcesSchema = z.object({
  abuse: resourceLines,
  self_harm: resourceLines,
  emergency: z.string().min(1),
  locales: z.record(z.string(), localeResourcesSchema).optional(),
});

export const safetyFileSchema = z.looseObject({
  resources: z.record(z.string(), resourcesSchema),
});

/** "steps.3.at: must be ..." from a zod error, one line per problem. */
export function zodProblems(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const where = issue.path.map(String).join('.');
    return where ? `${where}: ${issue.message}` : issue.message;
  });
}
