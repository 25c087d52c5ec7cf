// The values every message can use, computed from content so texts never hard-code them:
// "about 4 msgs/week for 7 weeks" stays true when program.yaml changes, and support numbers
// come from safety.yaml by country.
import type { Content, Program, SafetyCategory, SafetyResources } from './types.ts';
import { resourcesFor } from '../safety/resources.ts';

export interface ProgramVars {
  programName: string;
  weeks: number;
  /** The most program messages any one week has (an honest "about N a week"). */
  perWeek: number;
}

export function programVars(program: Program): ProgramVars {
  const perWeek = new Map<number, number>();
  for (const step of program.steps) perWeek.set(step.week, (perWeek.get(step.week) ?? 0) + 1);
  return {
    programName: program.name,
    weeks: program.weeks,
    perWeek: Math.max(0, ...perWeek.values()),
  };
}

/** Which support lines a message shows: self-harm lines in the self-harm message, else the
 * lines for abuse and control (welcome, week 1 and week 6 notes, the abuse message). */
export function resourceCategoryFor(messageKey: string): SafetyCategory {
  return messageKey === 'safety_self_harm' ? 'self_harm' : 'abuse';
}

export { resourcesFor };

export interface ResourceVars {
  /** One resource per line. */
  resources: string;
  emergency: string;
}

export function resourceVars(
  resources: Record<string, SafetyResources>,
  country: string,
  category: SafetyCategory,
  locale?: string,
): ResourceVars {
  const entry = resourcesFor(resources, country, locale);
  if (!entry) throw new Error(`no safety resources for ${country} and no "default" in safety.yaml`);
  return { resources: entry[category].join('\n'), emergency: entry.emergency };
}

export type MessageVars = ProgramVars & ResourceVars & { name: string };

/** Every general placeholder's value for one message (keyed ones such as {{days}} are the
 * caller's to add). `name` is empty: emails greet by name through renderEmail instead. */
export function messageVars(
  content: Content,
  programKey: string,
  messageKey: string,
  country: string,
  locale?: string,
): MessageVars {
  const program = content.programs[programKey];
  if (!program) throw new Error(`unknown program "${programKey}"`);
  return {
    ...programVars(program),
    ...resourceVars(content.resources, country, resourceCategoryFor(messageKey), locale),
    name: '',
  };
}
