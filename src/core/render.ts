// Turns stored templates into what is sent. Pure: the caller passes every value in.
import { Marked, type Tokens } from 'marked';
import type { EmailTemplate } from '../content/types.ts';

export type TemplateVars = Readonly<Record<string, string | number | undefined>>;

/** `{{name}}`, spaces inside the braces allowed. */
const PLACEHOLDER = /\{\{\s*([A-Za-z][A-Za-z0-9_]*)\s*\}\}/g;

export class MissingPlaceholderError extends Error {
  constructor(readonly placeholder: string) {
    super(`template uses {{${placeholder}}} but no value was given for it`);
    this.name = 'MissingPlaceholderError';
  }
}

/** The placeholder names a template uses, in order of first use. */
export function placeholdersIn(template: string): string[] {
  const names = new Set<string>();
  for (const match of template.matchAll(PLACEHOLDER)) names.add(match[1] as string);
  return [...names];
}

/** Replaces each `{{name}}`; `encode` is applied to each value (e.g. HTML escaping). Throws
 * MissingPlaceholderError for a name without a value: a half-filled message is never sent. */
export function fillPlaceholders(
  template: string,
  vars: TemplateVars,
  encode: (value: string) => string = (v) => v,
): string {
  return template.replace(PLACEHOLDER, (_all, name: string) => {
    const value = Object.hasOwn(vars, name) ? vars[name] : undefined;
    if (value === undefined) throw new MissingPlaceholderError(name);
    return encode(String(value));
  });
}

/** An SMS body: placeholders filled, surrounding whitespace and trailing spaces trimmed. */
export function renderSms(text: string, vars: TemplateVars): string {
  return fillPlaceholders(text, vars)
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n')
    .trim();
}

export function escapeHtml(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

export interface EmailOptions {
  firstName?: string;
  unsubscribeUrl: string;
  postalAddress: string;
  programName: string;
  /** The terms and privacy pages (PUBLIC_URL + /terms, /privacy), linked in every footer. */
  termsUrl: string;
  privacyUrl: string;
  /** The language of the greeting and footer (the person's locale); English when unknown. */
  locale?: string;
}

/** The words of every email's frame (greeting and footer), per locale. */
const EMAIL_FRAME: Record<
  string,
  {
    lang: string;
    greeting: (name: string) => string;
    why: (program: string) => string;
    unsubscribe: string;
    terms: string;
    privacy: string;
  }
> = {
  en: {
    lang: 'en',
    greeting: (name) => `Hi ${name},`,
    why: (program) => `You are getting this because you signed up for ${program}.`,
    unsubscribe: 'Unsubscribe',
    terms: 'Terms',
    privacy: 'Privacy',
  },
  es: {
    lang: 'es',
    greeting: (name) => `Hola, ${name}:`,
    why: (program) => `Recibes este correo porque te inscribiste en ${program}.`,
    unsubscribe: 'Darte de baja',
    terms: 'Condiciones',
    privacy: 'Privacidad',
  },
};

export const emailFrameLocales = (): string[] => Object.keys(EMAIL_FRAME);

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

const FONT = 'font-family:Helvetica,Arial,sans-serif;font-size:16px;line-height:1.5;color:#222222';
const P_STYLE = 'margin:0 0 16px 0';
const LINK_STYLE = 'color:#2f5d8a;text-decoration:underline';
const FOOTER_STYLE = 'margin:32px 0 0 0;font-size:13px;line-height:1.4;color:#666666';
const PREHEADER_STYLE =
  'display:none;font-size:1px;line-height:1px;max-height:0;max-width:0;opacity:0;overflow:hidden;mso-hide:all;color:#ffffff';

// Inline styles on the tags mail clients style worst; no <style> block (many clients drop it).
const markdown = new Marked({
  async: false,
  gfm: true,
  renderer: {
    paragraph({ tokens }: Tokens.Paragraph): string {
      return `<p style="${P_STYLE}">${this.parser.parseInline(tokens)}</p>\n`;
    },
    link({ href, tokens }: Tokens.Link): string {
      return `<a href="${href}" style="${LINK_STYLE}">${this.parser.parseInline(tokens)}</a>`;
    },
  },
});

/** Markdown as a readable plain-text part: links become "label (url)", emphasis marks go. */
function markdownToText(md: string): string {
  return md
    .replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, (_all, label: string, url: string) =>
      label === url ? url : `${label} (${url})`,
    )
    .replace(/^#{1,6}\s+/gm, '')
    .replace(/(\*\*|__)(.+?)\1/g, '$2')
    .replace(/(^|[^*\w])\*([^*\n]+)\*/g, '$1$2')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** Markdown to HTML with every value escaped. Values are swapped for inert tokens before
 * Markdown runs, so a value can neither inject HTML nor be read as Markdown; multi-line
 * values (resource lists) keep their line breaks. */
function markdownToHtml(md: string, vars: TemplateVars): string {
  const values: string[] = [];
  const tokenized = fillPlaceholders(md, vars, (value) => {
    values.push(value);
    return `STEADYVALUE${values.length - 1}X`;
  });
  const html = markdown.parse(tokenized) as string;
  return html.replace(/STEADYVALUE(\d+)X/g, (_all, i: string) =>
    escapeHtml(values[Number(i)] ?? '').replace(/\n/g, '<br>\n'),
  );
}

// Web pages made from Markdown an organisation edits (the terms and privacy pages): plain HTML
// for the page shell's styles. HTML comments are notes for editors and are dropped; any other raw
// HTML in the file is shown as text, never run.
const pageMarkdown = new Marked({
  async: false,
  gfm: true,
  renderer: {
    html({ text }: Tokens.HTML | Tokens.Tag): string {
      const shown = text.replace(/<!--[\s\S]*?-->/g, '');
      return shown.trim() ? escapeHtml(shown) : '';
    },
  },
});

/** Markdown for a web page, placeholders filled the way emails fill them: every value escaped and
 * never read as Markdown. Throws MissingPlaceholderError for a placeholder without a value. */
export function renderMarkdownPage(md: string, vars: TemplateVars): string {
  const values: string[] = [];
  const tokenized = fillPlaceholders(md, vars, (value) => {
    values.push(value);
    return `STEADYVALUE${values.length - 1}X`;
  });
  const html = pageMarkdown.parse(tokenized) as string;
  return html.replace(/STEADYVALUE(\d+)X/g, (_all, i: string) =>
    escapeHtml(values[Number(i)] ?? ''),
  );
}

/** A multipart email: subject, plain text and inline-styled HTML, each with a greeting only
 * when the first name is known, and a footer with the postal address and the unsubscribe, terms
 * and privacy links. */
export function renderEmail(
  tpl: EmailTemplate,
  vars: TemplateVars,
  opts: EmailOptions,
): RenderedEmail {
  const firstName = opts.firstName?.trim() ?? '';
  const all: TemplateVars = {
    name: firstName,
    programName: opts.programName,
    unsubscribeUrl: opts.unsubscribeUrl,
    ...vars,
  };
  const subject = fillPlaceholders(tpl.subject, all).replace(/\s+/g, ' ').trim();
  const preheader = fillPlaceholders(tpl.preheader, all).trim();

  const frame = EMAIL_FRAME[opts.locale ?? 'en'] ?? EMAIL_FRAME.en!;
  const greetingText = firstName ? `${frame.greeting(firstName)}\n\n` : '';
  const footerText =
    `--\n${frame.why(opts.programName)}\n` +
    `${frame.unsubscribe}: ${opts.unsubscribeUrl}\n` +
    `${frame.terms}: ${opts.termsUrl}\n${frame.privacy}: ${opts.privacyUrl}\n${opts.postalAddress}`;
  // Markdown marks are removed before values go in, so a value is never altered.
  const text = `${greetingText}${fillPlaceholders(markdownToText(tpl.markdown), all)}\n\n${footerText}\n`;

  const greetingHtml = firstName
    ? `<p style="${P_STYLE}">${escapeHtml(frame.greeting(firstName))}</p>\n`
    : '';
  const footerLink = (url: string, label: string) =>
    `<a href="${escapeHtml(url)}" style="color:#666666;text-decoration:underline">${label}</a>`;
  const footerHtml =
    `<p style="${FOOTER_STYLE}">${escapeHtml(frame.why(opts.programName))} ` +
    `${footerLink(opts.unsubscribeUrl, frame.unsubscribe)}` +
    ` &middot; ${footerLink(opts.termsUrl, frame.terms)}` +
    ` &middot; ${footerLink(opts.privacyUrl, frame.privacy)}<br>\n` +
    `${escapeHtml(opts.postalAddress)}</p>`;
  const html =
    `<!DOCTYPE html>\n<html lang="${frame.lang}">\n<head>\n<meta charset="utf-8">\n` +
    `<meta name="viewport" content="width=device-width, initial-scale=1">\n` +
    `<title>${escapeHtml(subject)}</title>\n</head>\n` +
    `<body style="margin:0;padding:0;background-color:#ffffff">\n` +
    `<span style="${PREHEADER_STYLE}">${escapeHtml(preheader)}</span>\n` +
    `<div style="${FONT};max-width:600px;margin:0 auto;padding:24px 16px">\n` +
    `${greetingHtml}${markdownToHtml(tpl.markdown, all)}${footerHtml}\n</div>\n</body>\n</html>\n`;

  return { subject, text, html };
}
