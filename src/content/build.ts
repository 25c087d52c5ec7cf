// Turns the raw files into Content, collecting every problem on the way.
import { checkLocale } from './check-locale.ts';
import { checkJoinWords } from './check-join-words.ts';
import { checkLocalesMatch } from './check-locales-match.ts';
import { checkProgramFile } from './check-program.ts';
import { checkKeywords, checkLegal, checkSafety } from './check-shared.ts';
import { Problems } from './errors.ts';
import type { RawTree } from './read.ts';
import { checkPages } from './check-pages.ts';
import type { Content, LegalTexts, LocaleTexts, Program } from './types.ts';
import { checkVariantsAgree } from './variants.ts';

export interface BuildResult {
  /** Present only when there are no errors. */
  content?: Content;
  /** What could be read even with errors (for reports); never send from it. */
  partial: Content;
  errors: string[];
  warnings: string[];
}

export function buildContent(tree: RawTree): BuildResult {
  const p = new Problems();
  const keywords = checkKeywords(tree.keywords, `${tree.root}/keywords.yaml`, p);
  const safety = checkSafety(tree.safety, `${tree.root}/safety.yaml`, p);
  const legal = checkLegal(tree.legal, tree.root, p);
  const legalLocales: Record<string, LegalTexts> = {};
  for (const [locale, files] of Object.entries(tree.legalLocales))
    legalLocales[locale] = checkLegal(files, tree.root, p, locale);
  const pages = checkPages(tree.pages, tree.root, p);

  const programs: Record<string, Program> = {};
  if (tree.programs.length === 0)
    p.error(tree.root, 'holds no program (a folder with program.yaml)');
  for (const raw of tree.programs) {
    const folder = raw.dir.slice(raw.dir.lastIndexOf('/') + 1);
    const file = checkProgramFile(raw.program, folder, p);
    if (!file) continue;

    const locales: Record<string, LocaleTexts> = {};
    for (const locale of raw.locales) {
      locales[locale.locale] = checkLocale(locale, file, raw.program.path, p);
      if (Object.keys(keywords).length > 0 && !keywords[locale.locale]) {
        p.warn(
          `${tree.root}/keywords.yaml`,
          `has no words for locale "${locale.locale}" (${locale.dir})`,
        );
      }
    }
    checkVariantsAgree(
      locales,
      file.defaultLocale,
      (locale, channel) => `${raw.dir}/${locale}/${channel === 'sms' ? 'sms.yaml' : 'email/'}`,
      p,
    );
    checkLocalesMatch(raw.dir, locales, p);
    for (const locale of Object.keys(file.keywords)) {
      if (!locales[locale])
        p.error(
          raw.program.path,
          `keywords.${locale}: the program has no ${locale} texts (${raw.dir}/${locale}/)`,
        );
    }
    if (!locales[file.defaultLocale]) {
      p.error(
        raw.program.path,
        `defaultLocale "${file.defaultLocale}" has no folder ${raw.dir}/${file.defaultLocale}/`,
      );
    }
    const { lowRatingStep, ...rest } = file;
    programs[file.key] = {
      ...rest,
      ...(lowRatingStep === undefined ? {} : { lowRatingStep }),
      locales,
    };
  }

  checkJoinWords(programs, keywords, `${tree.root}/keywords.yaml`, tree.root, p);
  const { errors, warnings } = p;
  const partial: Content = {
    programs,
    keywords,
    safety: safety.rest,
    resources: safety.resources,
    legal,
    legalLocales,
    pages,
  };
  if (errors.length > 0) return { partial, errors, warnings };
  return { content: partial, partial, errors, warnings };
}
