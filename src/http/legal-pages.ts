// GET /terms and GET /privacy: the terms of use and the privacy notice, made from Markdown the
// organisation edits (messages/legal/terms.md, privacy.md; `content check` validates them). Their
// placeholders come from configuration, so the pages always name the real sender, contact and
// retention. Same shell as the other public pages: neutral title, quick exit, readable at 320 px.
import type { FastifyInstance } from 'fastify';
import type { LegalTexts } from '../content/types.ts';
import { renderMarkdownPage, type TemplateVars } from '../core/render.ts';
import type { Deps } from '../deps.ts';
import { emailPage, legalLinks } from './email-pages.ts';
import { sendPage } from './email-request.ts';

// Long addresses and URLs wrap instead of pushing the page sideways on a narrow phone.
const LEGAL_CSS =
  'main{overflow-wrap:anywhere}main h2{font-size:1.2rem;margin:1.75rem 0 .5rem}main li{margin:.25rem 0}';

/** Every value a legal page may use (LEGAL_PLACEHOLDERS in src/content/keys.ts). */
export function legalVars(deps: Pick<Deps, 'config' | 'programs'>): TemplateVars {
  const c = deps.config;
  return {
    programName: deps.programs.default.name,
    supportContact: c.supportContact,
    postalAddress: c.email.postalAddress,
    publicUrl: c.publicUrl,
    termsUrl: c.termsUrl,
    privacyUrl: c.privacyUrl,
    retentionDays: c.retentionDays,
  };
}

/** One legal page as HTML, in the public page shell. */
export function legalPage(
  deps: Pick<Deps, 'config' | 'programs' | 'content'>,
  name: keyof LegalTexts,
): string {
  const body = renderMarkdownPage(deps.content.legal[name], legalVars(deps));
  return emailPage(`${body}\n${legalLinks()}`, LEGAL_CSS);
}

export async function legalPages(app: FastifyInstance, deps: Deps): Promise<void> {
  // Rendered once: content and configuration are fixed for the life of the process, and a page
  // that cannot be filled stops start-up here rather than failing for a visitor.
  const pages = { terms: legalPage(deps, 'terms'), privacy: legalPage(deps, 'privacy') };
  app.get('/terms', async (_req, reply) => sendPage(reply, 200, pages.terms));
  app.get('/privacy', async (_req, reply) => sendPage(reply, 200, pages.privacy));
}
