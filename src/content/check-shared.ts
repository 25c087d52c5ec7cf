// Checks the files shared by all programs: keywords.yaml and safety.yaml (resources by country).
import type { Problems } from './errors.ts';
import { parseWith, parseYaml } from './parse.ts';
import type { RawFile } from './read.ts';
import { keywordsFileSchema, safetyFileSchema } from './schema.ts';
import type { KeywordSet, SafetyResources } from './types.ts';

export function checkKeywords(
  file: RawFile | undefined,
  path: string,
  p: Problems,
): Record<string, KeywordSet> {
  if (!file) {
    p.error(path, 'file is missing (STOP, HELP, START... words per locale)');
    return {};
  }
  const data = parseYaml(file, p);
  if (data === undefined) return {};
  const keywords = parseWith(keywordsFileSchema, data ?? {}, file, p) ?? {};
  for (const [locale, set] of Object.entries(keywords)) {
    for (const list of ['stop', 'start', 'help'] as const) {
      if (set[list].length === 0) p.error(path, `${locale}.${list} is empty: carriers require it`);
    }
  }
  return keywords;
}

export interface SafetyData {
  resources: Record<string, SafetyResources>;
  /** The whole of safety.yaml as parsed (compiled by src/core/safety.ts, which reads both parts). */
  rest: Record<string, unknown>;
}

export function checkSafety(file: RawFile | undefined, path: string, p: Problems): SafetyData {
  if (!file) {
    p.error(path, 'file is missing (danger phrases and support resources by country)');
    return { resources: {}, rest: {} };
  }
  const data = parseYaml(file, p);
  if (data === undefined) return { resources: {}, rest: {} };
  const parsed = parseWith(safetyFileSchema, data ?? {}, file, p);
  if (!parsed) return { resources: {}, rest: {} };
  const { resources } = parsed;
  const rest = parsed as Record<string, unknown>;
  if (Object.keys(resources).length === 0) p.error(path, 'resources: lists no country');
  else if (!resources.default) {
    p.warn(path, 'resources: has no "default" entry for countries not listed');
  }
  return { resources, rest };
}
