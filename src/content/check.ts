// `content check`: everything loadContent checks, plus what only shows once texts are filled
// in: SMS segment counts with the real support lines of every country, lock-screen previews,
// and emails and legal pages that actually render.
import { basename } from 'node:path';
import {
  MissingPlaceholderError,
  renderEmail,
  renderMarkdownPage,
  renderSms,
} from '../core/render.ts';
import { smsSegments, type SmsSize } from '../core/segments.ts';
import { EMAIL_SYSTEM_KEYS, LEGAL_FILES, LOCK_SCREEN_WORDS, SMS_SYSTEM_KEYS } from './keys.ts';
import { inspectContent } from './load.ts';
import type { Content, EmailTemplate, LocaleTexts, Program, SafetyResources } from './types.ts';
import { programVars, resourceCategoryFor, resourcesFor } from './vars.ts';

export const MAX_SMS_SEGMENTS = 2;

export interface CheckResult {
  ok: boolean;
  errors: string[];
  warnings: string[];
  /** One line per SMS: program, locale, key, encoding, units, segments. */
  report: string;
}

/** Realistic values for the placeholders only one message uses. */
const KEYED_SAMPLES = {
  days: 30,
  setting: 'time zone America/Indiana/Indianapolis',
  confirmUrl: 'https://steady.example.com/confirm/3q2-7wAbCdEfGhIjKlMnOpQrStUvWxYz0123456789',
};

/** Realistic values for what configuration fills in (SUPPORT_CONTACT, PUBLIC_URL + /terms, ...):
 * long enough that an SMS sized with them is not longer for real. */
const CONFIG_SAMPLES = {
  supportContact: 'support@steady.example.com',
  termsUrl: 'https://steady.example.com/terms',
  privacyUrl: 'https://steady.example.com/privacy',
};

/** What the legal pages are filled with when checked (the real values come from config). */
const LEGAL_SAMPLES = {
  ...CONFIG_SAMPLES,
  programName: 'Steady',
  postalAddress: 'Steady, 100 Example Street, Washington, DC 20001, USA',
  publicUrl: 'https://steady.example.com',
  retentionDays: 90,
};

/** Used only to size texts when safety.yaml has no resources (the loader reports that). */
const SAMPLE_RESOURCES: SafetyResources = {
  abuse: [
    'National Domestic Violence Hotline: call 1-800-799-7233 or text START to 88788 (thehotline.org)',
  ],
  self_harm: ['988 Suicide & Crisis Lifeline: call or text 988'],
  emergency: '911',
};

interface Row extends SmsSize {
  program: string;
  locale: string;
  key: string;
}

/** The lock-screen preview: the first line, or the first 40 characters if that is longer. */
function preview(text: string): string {
  const firstLine = text.split('\n')[0] ?? '';
  const start = text.replace(/\s+/g, ' ').slice(0, 40);
  return firstLine.length > start.length ? firstLine : start;
}

/** Steps in program order, then system messages, then anything else the file has. */
function smsKeys(program: Program, texts: Record<string, string>): string[] {
  const ordered = [...program.steps.map((s) => s.key), ...SMS_SYSTEM_KEYS];
  const extra = Object.keys(texts).filter((k) => !ordered.includes(k));
  return [...ordered, ...extra].filter((k) => texts[k] !== undefined);
}

/** [key, label, template] for every SMS: a step with variants gives one per variant, labelled
 * "w2-d0.b" (each variant is held to the same limits). */
function smsTexts(program: Program, texts: LocaleTexts): [string, string, string][] {
  return smsKeys(program, texts.sms).flatMap((key): [string, string, string][] => {
    const variants = texts.variants?.sms[key];
    if (!variants) return [[key, key, texts.sms[key] ?? '']];
    return Object.entries(variants).map(([name, v]) => [key, `${key}.${name}`, v.text]);
  });
}

/** [key, label, template] for every email; a variant's label is its file name, "w2-d0.b". */
function emailTexts(program: Program, texts: LocaleTexts): [string, string, EmailTemplate][] {
  return [...program.steps.map((s) => s.key), ...EMAIL_SYSTEM_KEYS].flatMap(
    (key): [string, string, EmailTemplate][] => {
      const variants = texts.variants?.email[key];
      if (variants)
        return Object.entries(variants).map(([name, v]) => [key, `${key}.${name}`, v.template]);
      const tpl = texts.email[key];
      return tpl ? [[key, key, tpl]] : []; // a missing one: the loader reports it
    },
  );
}

function checkProgram(
  content: Content,
  program: Program,
  country: string,
  out: CheckResult,
  rows: Row[],
): void {
  const base = { ...programVars(program), name: '', ...CONFIG_SAMPLES, ...KEYED_SAMPLES };
  const countries = [country, ...Object.keys(content.resources).filter((c) => c !== country)];
  const varsFor = (key: string, c: string, locale: string) => {
    const entry = resourcesFor(content.resources, c, locale) ?? SAMPLE_RESOURCES;
    const lines = entry[resourceCategoryFor(key)];
    return { ...base, resources: lines.join('\n'), emergency: entry.emergency };
  };

  for (const [locale, texts] of Object.entries(program.locales)) {
    const where = `messages/${program.key}/${locale}`;
    for (const [key, label, template] of smsTexts(program, texts)) {
      // Only texts showing support lines differ by country.
      const varies = /\{\{\s*(resources|emergency)\s*\}\}/.test(template);
      for (const c of varies ? countries : [country]) {
        let text: string;
        try {
          text = renderSms(template, varsFor(key, c, locale));
        } catch (e) {
          if (!(e instanceof MissingPlaceholderError)) throw e;
          out.errors.push(`${where}/sms.yaml: "${label}" cannot be filled: ${e.message}`);
          break;
        }
        const size = smsSegments(text);
        if (size.segments > MAX_SMS_SEGMENTS) {
          out.errors.push(
            `${where}/sms.yaml: "${label}" needs ${size.segments} segments (${size.units} ` +
              `${size.encoding} units) with the ${c} resources; the limit is ${MAX_SMS_SEGMENTS}`,
          );
        }
        if (c !== country) continue;
        rows.push({ program: program.key, locale, key: label, ...size });
        if (size.encoding === 'UCS-2') {
          out.warnings.push(
            `${where}/sms.yaml: "${label}" is UCS-2 (a curly quote, dash or emoji?): GSM-7 costs half`,
          );
        }
        const shown = preview(text);
        const word = LOCK_SCREEN_WORDS.find((w) => shown.toLowerCase().includes(w));
        if (word) {
          out.errors.push(
            `${where}/sms.yaml: "${label}" shows "${word}" on a lock screen (preview: "${shown}")`,
          );
        }
      }
    }

    for (const [key, label, tpl] of emailTexts(program, texts)) {
      try {
        const mail = renderEmail(tpl, varsFor(key, country, locale), {
          programName: program.name,
          unsubscribeUrl: 'https://steady.example.com/unsubscribe/abc',
          postalAddress: LEGAL_SAMPLES.postalAddress,
          termsUrl: CONFIG_SAMPLES.termsUrl,
          privacyUrl: CONFIG_SAMPLES.privacyUrl,
        });
        if (!mail.subject) out.errors.push(`${where}/email/${label}.md: the subject renders empty`);
      } catch (e) {
        out.errors.push(`${where}/email/${label}.md: cannot be rendered: ${(e as Error).message}`);
      }
    }
  }
}

function formatReport(rows: Row[]): string {
  const header = ['program', 'locale', 'key', 'encoding', 'units', 'segments'];
  const cells = rows.map((r) => [
    r.program,
    r.locale,
    r.key,
    r.encoding,
    String(r.units),
    String(r.segments),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]?.length ?? 0)));
  const line = (c: string[]): string =>
    c
      .map((v, i) => (i >= 4 ? v.padStart(widths[i] ?? 0) : v.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [
    `SMS sizes (GSM-7: 160 characters in one part, 153 per part when longer; UCS-2: 70 / 67; limit ${MAX_SMS_SEGMENTS} parts)`,
    line(header),
    ...cells.map(line),
  ].join('\n');
}

/** Per program with more than one language: each SMS's segments side by side per locale, so a
 * translation that runs longer shows ("-": missing in that locale, which is also an error). */
function localeTables(rows: Row[]): string[] {
  const programs = [...new Set(rows.map((r) => r.program))];
  return programs.flatMap((program) => {
    const mine = rows.filter((r) => r.program === program);
    const locales = [...new Set(mine.map((r) => r.locale))];
    if (locales.length < 2) return [];
    const keys = [...new Set(mine.map((r) => r.key))];
    const header = ['key', ...locales];
    const cells = keys.map((key) => [
      key,
      ...locales.map((l) => {
        const r = mine.find((x) => x.key === key && x.locale === l);
        return r ? String(r.segments) : '-';
      }),
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]?.length ?? 0)));
    const line = (c: string[]): string =>
      c
        .map((v, i) => (i > 0 ? v.padStart(widths[i] ?? 0) : v.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd();
    return [[`${program}: SMS segments per locale`, line(header), ...cells.map(line)].join('\n')];
  });
}

/** Checks `dir` (usually "<repo>/messages"). `country` picks the support lines shown in the
 * report; every country in safety.yaml is still checked for length. */
export async function checkContent(
  dir: string,
  opts: { country?: string } = {},
): Promise<CheckResult> {
  const country = (opts.country ?? 'US').toUpperCase();
  const built = await inspectContent(dir);
  const out: CheckResult = {
    ok: false,
    errors: [...built.errors],
    warnings: [...built.warnings],
    report: '',
  };
  const rows: Row[] = [];
  for (const program of Object.values(built.partial.programs)) {
    checkProgram(built.partial, program, country, out, rows);
  }
  const legalSets = [
    ['', built.partial.legal] as const,
    ...Object.entries(built.partial.legalLocales).map(([l, t]) => [`${l}/`, t] as const),
  ];
  for (const [sub, texts] of legalSets)
    for (const name of LEGAL_FILES) {
      const text = texts[name];
      if (!text) continue; // the loader reports it
      try {
        renderMarkdownPage(text, LEGAL_SAMPLES);
      } catch (e) {
        out.errors.push(
          `${basename(dir)}/legal/${sub}${name}.md: cannot be rendered: ${(e as Error).message}`,
        );
      }
    }
  out.report = [formatReport(rows), ...localeTables(rows)].join('\n\n');
  out.ok = out.errors.length === 0;
  return out;
}
