// GET /terms and GET /privacy: the terms of use and the privacy notice, made from Markdown the
// organisation edits (messages/legal/terms.md, privacy.md, and messages/legal/es/ for ?language=es;
// `content check` validates them). Their
// placeholders come from configuration, so the pages always name the real sender, contact and
// retention. Same shell as the other public pages: neutral title, quick exit, readable at 320 px.
import type { FastifyInstance } from 'fastify';
import type { LegalTexts } from '../content/types.ts';
import { renderMarkdownPage, type TemplateVars } from '../core/render.ts';
import type { Deps } from '../deps.ts';
import { emailPage, legalLinks } from './email-pages.ts';
import { sendPage } from './email-request.ts';
import { pageLocale, pageWords } from './page-words.ts';

// Long addresses and URLs wrap instead of pushing the page sideways on a narrow phone.
const LEGAL_CSS =
  'main{overflow-wrap:anywhere}main h2{font-size:1.2rem;margin:1.75rem 0 .5rem}main li{margin:.25rem 0}';

/** Every value a legal page may use (LEGAL_PLACEHOLDERS in src/content/keys.ts); in another
 * language than English the page's own links keep it (`?language=es`). */
export function legalVars(deps: Pick<Deps, 'config' | 'programs'>, locale = 'en'): TemplateVars {
  const c = deps.config;
  const q = locale === 'en' ? '' : `?language=${encodeURIComponent(locale)}`;
  return {
    programName: deps.programs.default.name,
    supportContact: c.supportContact,
    postalAddress: c.email.postalAddress,
    publicUrl: c.publicUrl,
    termsUrl: c.termsUrl + q,
    privacyUrl: c.privacyUrl + q,
    retentionDays: c.retentionDays,
  };
}

/** One legal page as HTML, in the public page shell: messages/legal/<locale>/ when that
 * language has its own text and its page words, else the English one. */
export function legalPage(
  deps: Pick<Deps, 'config' | 'programs' | 'content'>,
  name: keyof LegalTexts,
  language?: unknown,
): string {
  const words = pageWords(deps.content, language);
  const own = deps.content.legalLocales[words.locale];
  const english = !own || words.locale === 'en';
  const w = english ? pageWords(deps.content, 'en') : words;
  const body = renderMarkdownPage(
    english ? deps.content.legal[name] : own[name],
    legalVars(deps, w.locale),
  );
  return emailPage(w, `${body}\n${legalLinks(w)}`, LEGAL_CSS);
}

export async function legalPages(app: FastifyInstance, deps: Deps): Promise<void> {
  // Rendered once per language: content and configuration are fixed for the life of the process,
  // and a page that cannot be filled stops start-up here rather than failing for a visitor.
  const locales = Object.keys(deps.content.pages);
  const pages = new Map(
    locales.flatMap((l) =>
      (['terms', 'privacy'] as const).map((n) => [`${l}/${n}`, legalPage(deps, n, l)] as const),
    ),
  );
  for (const name of ['terms', 'privacy'] as const)
    app.get(`/${name}`, async (req, reply) => {
      const q = (req.query ?? {}) as { language?: unknown };
      const locale = pageLocale(deps.content, q.language);
      return sendPage(reply, 200, pages.get(`${locale}/${name}`) ?? legalPage(deps, name));
    });
}
