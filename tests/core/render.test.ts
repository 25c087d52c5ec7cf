import { describe, expect, it } from 'vitest';
import {
  escapeHtml,
  fillPlaceholders,
  MissingPlaceholderError,
  placeholdersIn,
  renderEmail,
  renderSms,
} from '../../src/core/render.ts';
import type { EmailTemplate } from '../../src/content/types.ts';

const opts = {
  unsubscribeUrl: 'https://steady.example.com/unsubscribe/tok?a=1&b=2',
  postalAddress: 'Steady, 100 Example Street, Washington, DC 20001',
  programName: 'Steady',
  termsUrl: 'https://steady.example.com/terms',
  privacyUrl: 'https://steady.example.com/privacy',
};

const tpl: EmailTemplate = {
  subject: 'Your week {{weeks}} note',
  preheader: 'One small thing from {{programName}}.',
  markdown: 'First **bold** paragraph.\n\nHelp:\n\n{{resources}}\n\n[Confirm]({{confirmUrl}})',
};

const vars = {
  weeks: 3,
  resources: 'Line one <b>&</b>\nLine "two" **not bold**',
  confirmUrl: 'https://steady.example.com/confirm/x?y=1&z="2"',
};

describe('fillPlaceholders', () => {
  it.each([
    ['Hi {{name}}!', { name: 'Ana' }, 'Hi Ana!'],
    ['{{ weeks }} weeks', { weeks: 7 }, '7 weeks'],
    ['{{a}}{{a}}{{b}}', { a: 'x', b: '' }, 'xx'],
    ['no placeholders', {}, 'no placeholders'],
    ['single {braces} stay', {}, 'single {braces} stay'],
  ])('%s', (template, values, expected) => {
    expect(fillPlaceholders(template, values)).toBe(expected);
  });

  it.each([
    ['{{days}} days', {}],
    ['{{days}} days', { days: undefined }],
    ['{{constructor}}', {}],
  ])('throws for a missing value: %s', (template, values) => {
    expect(() => fillPlaceholders(template, values)).toThrow(MissingPlaceholderError);
  });

  it('names the missing placeholder', () => {
    expect(() => fillPlaceholders('x {{setting}}', {})).toThrow('{{setting}}');
  });

  it('lists placeholders in order of first use', () => {
    expect(placeholdersIn('{{b}} {{ a }} {{b}} {x}')).toEqual(['b', 'a']);
  });
});

describe('renderSms', () => {
  it('fills and trims, keeping line breaks', () => {
    expect(renderSms('  {{programName}}: hi  \n  next line \n', { programName: 'Steady' })).toBe(
      'Steady: hi\n  next line',
    );
  });
});

describe('escapeHtml', () => {
  it('escapes the five HTML specials', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe(
      '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;',
    );
  });
});

describe('renderEmail', () => {
  const mail = renderEmail(tpl, vars, opts);

  it('fills the subject', () => {
    expect(mail.subject).toBe('Your week 3 note');
  });

  it('is a complete HTML document with inline styles only', () => {
    expect(mail.html).toMatch(/^<!DOCTYPE html>\n<html lang="en">/);
    expect(mail.html).toContain('<meta charset="utf-8">');
    expect(mail.html).not.toMatch(/<style|<link/i);
    expect(mail.html).toContain('<strong>bold</strong>');
    expect(mail.html).toMatch(/<p style="[^"]+">First/);
  });

  it('puts a hidden preheader first in the body', () => {
    const body = mail.html.slice(mail.html.indexOf('<body'));
    expect(body).toMatch(
      /^<body[^>]*>\n<span style="display:none;[^"]*">One small thing from Steady\.<\/span>/,
    );
  });

  it('escapes substituted values in HTML and never reads them as Markdown', () => {
    expect(mail.html).toContain(
      'Line one &lt;b&gt;&amp;&lt;/b&gt;<br>\nLine &quot;two&quot; **not bold**',
    );
    expect(mail.html).not.toContain('<b>&</b>');
    expect(mail.html).toContain(
      'href="https://steady.example.com/confirm/x?y=1&amp;z=&quot;2&quot;"',
    );
  });

  it('keeps values as written in the text part, links as "label (url)"', () => {
    expect(mail.text).toContain('Line one <b>&</b>\nLine "two" **not bold**');
    expect(mail.text).toContain(`Confirm (${vars.confirmUrl})`);
    expect(mail.text).toContain('First bold paragraph.');
  });

  it('has a footer with the postal address and unsubscribe link in both parts', () => {
    expect(mail.text).toContain(`Unsubscribe: ${opts.unsubscribeUrl}`);
    expect(mail.text).toContain(opts.postalAddress);
    expect(mail.html).toContain(
      '<a href="https://steady.example.com/unsubscribe/tok?a=1&amp;b=2" style=',
    );
    expect(mail.html).toContain(escapeHtml(opts.postalAddress));
  });

  it('links the terms and privacy pages in the footer of both parts', () => {
    expect(mail.text).toContain(`Terms: ${opts.termsUrl}`);
    expect(mail.text).toContain(`Privacy: ${opts.privacyUrl}`);
    expect(mail.html).toMatch(
      /<a href="https:\/\/steady\.example\.com\/terms" style="[^"]*">Terms<\/a>/,
    );
    expect(mail.html).toMatch(
      /<a href="https:\/\/steady\.example\.com\/privacy" style="[^"]*">Privacy<\/a>/,
    );
  });

  it.each([
    [undefined, false],
    ['', false],
    ['   ', false],
  ])('has no greeting when the first name is %j', (firstName, _) => {
    const m = renderEmail(tpl, vars, { ...opts, firstName });
    expect(m.text.startsWith('First')).toBe(true);
    expect(m.html).not.toContain('Hi ');
  });

  it('greets by first name when known, escaped in HTML', () => {
    const m = renderEmail(tpl, vars, { ...opts, firstName: ' Ana <3 ' });
    expect(m.text.startsWith('Hi Ana <3,\n\nFirst')).toBe(true);
    expect(m.html).toContain('>Hi Ana &lt;3,</p>');
  });

  it("writes the greeting, the footer and the page language in the person's locale", () => {
    const es = renderEmail(tpl, vars, { ...opts, firstName: 'Ana', locale: 'es' });
    expect(es.text.startsWith('Hola, Ana:\n\nFirst')).toBe(true);
    expect(es.text).toContain(`Darte de baja: ${opts.unsubscribeUrl}`);
    expect(es.text).toContain('Recibes este correo porque te inscribiste en');
    expect(es.text).not.toMatch(/Unsubscribe|You are getting this/);
    expect(es.html).toMatch(/^<!DOCTYPE html>\n<html lang="es">/);
    expect(es.html).toContain('>Hola, Ana:</p>');
    expect(es.html).toContain('>Darte de baja</a>');
    // A locale without its own frame falls back to English rather than failing the send.
    const other = renderEmail(tpl, vars, { ...opts, firstName: 'Ana', locale: 'xx' });
    expect(other.text.startsWith('Hi Ana,')).toBe(true);
  });

  it('fills {{name}} and {{unsubscribeUrl}} from the options', () => {
    const m = renderEmail(
      { subject: 'x', preheader: '', markdown: 'For {{name}}: {{unsubscribeUrl}}' },
      {},
      { ...opts, firstName: 'Ana' },
    );
    expect(m.text).toContain(`For Ana: ${opts.unsubscribeUrl}`);
  });

  it('throws when the template needs a value nobody gave', () => {
    expect(() =>
      renderEmail({ subject: 's', preheader: '', markdown: '{{days}}' }, {}, opts),
    ).toThrow(MissingPlaceholderError);
  });
});
