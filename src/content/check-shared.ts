// Checks the files shared by all programs: keywords.yaml, safety.yaml (resources by country) and
// the legal pages (legal/terms.md, legal/privacy.md).
import { placeholdersIn } from '../core/render.ts';
import type { Problems } from './errors.ts';
import { LEGAL_FILES, LEGAL_PLACEHOLDERS } from './keys.ts';
import { parseWith, parseYaml } from './parse.ts';
import type { RawFile } from './read.ts';
import { keywordsFileSchema, safetyFileSchema } from './schema.ts';
import type { KeywordSet, LegalTexts, SafetyResources } from './types.ts';

type LegalFile = (typeof LEGAL_FILES)[number];

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

/** messages/legal/terms.md and privacy.md: present, with a body that starts with a heading, and
 * only placeholders the page can fill from configuration. */
export function checkLegal(
  files: Partial<Record<LegalFile, RawFile>>,
  root: string,
  p: Problems,
  locale?: string,
): LegalTexts {
  const texts: LegalTexts = { terms: '', privacy: '' };
  for (const name of LEGAL_FILES) {
    const path = `${root}/legal/${locale ? `${locale}/` : ''}${name}.md`;
    const file = files[name];
    if (!file) {
      p.error(path, `file is missing (the /${name} page is made from it; Markdown)`);
      continue;
    }
    const text = file.text.replace(/^\uFEFF/, '').trim();
    const shown = text.replace(/<!--[\s\S]*?-->/g, '').trim(); // comments are notes for editors
    if (!shown) {
      p.error(path, `is empty (the /${name} page is made from it)`);
      continue;
    }
    if (!/^#\s+\S/.test(shown))
      p.error(path, 'must start with a "# " heading (the page title people see first)');
    for (const placeholder of placeholdersIn(text)) {
      if (!LEGAL_PLACEHOLDERS.includes(placeholder))
        p.error(
          path,
          `uses unknown placeholder {{${placeholder}}} (known: ${LEGAL_PLACEHOLDERS.join(', ')})`,
        );
    }
    const leftover = text.replace(/\{\{\s*[A-Za-z][A-Za-z0-9_]*\s*\}\}/g, '');
    if (/\{\{|\}\}/.test(leftover)) p.error(path, 'has a malformed placeholder (write {{name}})');
    texts[name] = text;
  }
  return texts;
}
