// messages/pages/<locale>.yaml: the words of the public web pages (sign-up, confirm, unsubscribe,
// resources, legal links), one key per string. English is required and every locale must have
// exactly its keys, so a page never shows a blank or a key name in one language.
import { z } from 'zod';
import type { Problems } from './errors.ts';
import { parseWith, parseYaml } from './parse.ts';
import type { RawFile } from './read.ts';

const pagesFileSchema = z.record(
  z.string().regex(/^[a-z][A-Za-z0-9_]*$/, 'keys are letters, digits and "_"'),
  z.string().min(1),
);

export const PAGES_BASE_LOCALE = 'en';

export function checkPages(
  files: RawFile[],
  root: string,
  p: Problems,
): Record<string, Record<string, string>> {
  const pages: Record<string, Record<string, string>> = {};
  for (const file of files) {
    const locale = file.path.slice(file.path.lastIndexOf('/') + 1).replace(/\.yaml$/, '');
    const data = parseYaml(file, p);
    const texts = data === undefined ? undefined : parseWith(pagesFileSchema, data, file, p);
    if (texts) pages[locale] = texts;
  }
  const base = pages[PAGES_BASE_LOCALE];
  if (!base) {
    const path = `${root}/pages/${PAGES_BASE_LOCALE}.yaml`;
    if (!files.some((f) => f.path === path))
      p.error(path, 'file is missing (the web pages’ words, one key per string)');
    return pages;
  }
  for (const [locale, texts] of Object.entries(pages)) {
    if (locale === PAGES_BASE_LOCALE) continue;
    const path = `${root}/pages/${locale}.yaml`;
    for (const key of Object.keys(base))
      if (texts[key] === undefined)
        p.error(path, `has no "${key}" (${root}/pages/${PAGES_BASE_LOCALE}.yaml has it)`);
    for (const key of Object.keys(texts))
      if (base[key] === undefined)
        p.error(path, `has "${key}", which ${root}/pages/${PAGES_BASE_LOCALE}.yaml does not`);
  }
  return pages;
}
