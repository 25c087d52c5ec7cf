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
  steps: z.array(stepSchema).min(1),
});
export type ProgramFile = z.infer<typeof programFileSchema>;

const textMap = z.record(z.string(), z.string());

export const smsFileSchema = z.strictObject({
  steps: textMap.default({}),
  system: textMap.default({}),
});

export const frontMatterSchema = z.object({
  subject: z
    .string({ error: 'lacks "subject:" in its front matter' })
    .trim()
    .min(1, 'has an empty subject'),
  preheader: z.string().trim().default(''),
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
});

export const keywordsFileSchema = z.record(z.string(), keywordSetSchema);

export const resourcesSchema = z.object({
  abuse: z.array(z.string().min(1)).min(1),
  self_harm: z.array(z.string().min(1)).min(1),
  emergency: z.string().min(1),
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
