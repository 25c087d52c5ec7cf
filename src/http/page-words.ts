// The public pages' words in the visitor's language (messages/pages/<locale>.yaml). Text from the
// files is escaped; what a page fills in ({{terms}}: a link it built) is HTML the code made, so
// escaping stays the default and a translator cannot add markup.
import type { Content } from '../content/types.ts';
import { PAGES_BASE_LOCALE } from '../content/check-pages.ts';
import { esc } from './html.ts';

export interface PageWords {
  /** The locale the page is written in: `<html lang>`. */
  locale: string;
  /** One string, escaped, with its {{placeholders}} filled by `html` (trusted, already escaped). */
  say(key: string, html?: Record<string, string | number>): string;
}

/** A requested language (`?language=es`, a subscriber's stored locale) the pages are written in;
 * anything else, English. */
export function pageLocale(content: Pick<Content, 'pages'>, requested: unknown): string {
  return typeof requested === 'string' && Object.hasOwn(content.pages, requested)
    ? requested
    : PAGES_BASE_LOCALE;
}

export function pageWords(content: Pick<Content, 'pages'>, requested: unknown): PageWords {
  const locale = pageLocale(content, requested);
  const mine = content.pages[locale] ?? {};
  const base = content.pages[PAGES_BASE_LOCALE] ?? {};
  return {
    locale,
    say: (key, html = {}) =>
      // The words go in element text and double-quoted attributes only, so an apostrophe ("You're")
      // stays as written.
      esc(mine[key] ?? base[key] ?? key)
        .replace(/&#39;/g, "'")
        .replace(/\{\{\s*([A-Za-z][A-Za-z0-9_]*)\s*\}\}/g, (m, n) =>
          Object.hasOwn(html, n) ? String(html[n]) : m,
        ),
  };
}

/** The `?language=` to add to a link on a page, so the next page stays in the same language. */
export function languageQuery(words: PageWords, sep: '?' | '&' = '?'): string {
  return words.locale === PAGES_BASE_LOCALE
    ? ''
    : `${sep}language=${encodeURIComponent(words.locale)}`;
}
