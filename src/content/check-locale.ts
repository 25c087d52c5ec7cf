// Checks one locale's texts against the program: every step and system message present,
// placeholders known and used where they can be filled, nothing left unreferenced.
import { placeholdersIn } from '../core/render.ts';
import { checkDisclosures } from './check-disclosures.ts';
import type { Problems } from './errors.ts';
import {
  EMAIL_SYSTEM_KEYS,
  EMAIL_ONLY_PLACEHOLDERS,
  KEYED_PLACEHOLDERS,
  KNOWN_PLACEHOLDERS,
  OPTIONAL_EMAIL_SYSTEM_KEYS,
  SMS_SYSTEM_KEYS,
} from './keys.ts';
import { parseEmail, parseWith, parseYaml } from './parse.ts';
import type { RawLocale } from './read.ts';
import { smsFileSchema, type ProgramFile } from './schema.ts';
import type { EmailTemplate, LocaleTexts } from './types.ts';
import { emptyVariants, readEmailVariants, readSmsVariants, splitVariantKey } from './variants.ts';

const EMAIL_KEYS: ReadonlySet<string> = new Set([
  ...EMAIL_SYSTEM_KEYS,
  ...OPTIONAL_EMAIL_SYSTEM_KEYS,
]);
const SMS_KEYS: ReadonlySet<string> = new Set(SMS_SYSTEM_KEYS);

/** Unknown placeholders, placeholders outside the one message that can fill them, and stray
 * braces such as "{{ resources" or "{resources}". */
function checkText(
  text: string,
  messageKey: string,
  file: string,
  label: string,
  p: Problems,
  isSms = false,
): void {
  for (const name of placeholdersIn(text)) {
    const onlyIn = KEYED_PLACEHOLDERS[name];
    if (!KNOWN_PLACEHOLDERS.includes(name)) {
      p.error(
        file,
        `${label} uses unknown placeholder {{${name}}} (known: ${KNOWN_PLACEHOLDERS.join(', ')})`,
      );
    } else if (onlyIn && !onlyIn.includes(messageKey)) {
      p.error(file, `${label} uses {{${name}}}, which is only filled in ${onlyIn.join(', ')}`);
    } else if (isSms && EMAIL_ONLY_PLACEHOLDERS.includes(name)) {
      p.error(file, `${label} uses {{${name}}}, which only emails have`);
    }
  }
  const leftover = text.replace(/\{\{\s*[A-Za-z][A-Za-z0-9_]*\s*\}\}/g, '');
  if (/[{}]/.test(leftover)) p.error(file, `${label} has a malformed placeholder (write {{name}})`);
}

export function checkLocale(
  raw: RawLocale,
  program: ProgramFile,
  programFile: string,
  p: Problems,
): LocaleTexts {
  const smsPath = raw.sms?.path ?? `${raw.dir}/sms.yaml`;
  const emailPath = (key: string): string => `${raw.dir}/email/${key}.md`;
  const stepKeys = new Set(program.steps.map((s) => s.key));

  const sms: Record<string, string> = {};
  const variants = emptyVariants();
  // Once the file itself is reported (missing, not YAML), each text in it is not reported too.
  let smsRead = false;
  if (!raw.sms) p.error(smsPath, 'file is missing');
  else {
    const data = parseYaml(raw.sms, p);
    const file = data === undefined ? undefined : parseWith(smsFileSchema, data ?? {}, raw.sms, p);
    smsRead = file !== undefined;
    for (const [key, value] of Object.entries(file?.steps ?? {})) {
      if (!stepKeys.has(key))
        p.warn(smsPath, `steps.${key} is not a step in ${programFile}; nothing sends it`);
      if (SMS_KEYS.has(key))
        p.error(smsPath, `steps.${key} is a system message key: move it under system:`);
      const text =
        typeof value === 'string'
          ? value
          : readSmsVariants(key, value.variants, smsPath, variants, p);
      if (text !== undefined) sms[key] = text.trim();
    }
    for (const [key, text] of Object.entries(file?.system ?? {})) {
      if (!SMS_KEYS.has(key))
        p.warn(smsPath, `system.${key} is not a system message the service sends`);
      if (stepKeys.has(key))
        p.error(smsPath, `system.${key} has the key of a step: move it under steps:`);
      sms[key] = text.trim();
    }
  }

  const email: Record<string, EmailTemplate> = {};
  const variantFiles: Parameters<typeof readEmailVariants>[0] = [];
  for (const file of raw.emails) {
    const key = file.path.slice(file.path.lastIndexOf('/') + 1).replace(/\.md$/, '');
    const split = splitVariantKey(key);
    if (split) {
      // An experiment's variant, `<step>.<variant>.md`.
      if (!stepKeys.has(split.step))
        p.warn(file.path, `"${split.step}" is not a step in ${programFile}; nothing sends it`);
      const tpl = parseEmail(file, p);
      if (tpl) variantFiles.push({ path: file.path, key, template: tpl });
      continue;
    }
    if (!stepKeys.has(key) && !EMAIL_KEYS.has(key)) {
      p.warn(
        file.path,
        `"${key}" is neither a step in ${programFile} nor a system email; nothing sends it`,
      );
    }
    const tpl = parseEmail(file, p);
    if (tpl?.weight !== undefined)
      p.error(file.path, 'has a weight, which only variant files (<step>.<variant>.md) have');
    if (tpl) email[key] = tpl;
  }
  const emailVariantSteps = readEmailVariants(
    variantFiles,
    new Set(Object.keys(email)),
    variants,
    p,
  );
  for (const [step, vs] of Object.entries(variants.email)) {
    const first = Object.values(vs)[0];
    if (first && !email[step]) email[step] = first.template;
  }

  for (const step of program.steps) {
    const has =
      raw.emails.some((f) => f.path === emailPath(step.key)) || emailVariantSteps.has(step.key);
    if (smsRead && !sms[step.key])
      p.error(programFile, `step "${step.key}" has no SMS text in ${smsPath}`);
    if (!has) p.error(programFile, `step "${step.key}" has no email in ${emailPath(step.key)}`);
  }
  for (const key of SMS_SYSTEM_KEYS) {
    if (smsRead && !sms[key])
      p.error(smsPath, `system message "${key}" is missing (under system:)`);
  }
  if (smsRead) checkDisclosures(raw.locale, sms, smsPath, p);
  for (const key of EMAIL_SYSTEM_KEYS) {
    if (!raw.emails.some((f) => f.path === emailPath(key))) {
      p.error(emailPath(key), `system email "${key}" is missing`);
    }
  }

  for (const [key, text] of Object.entries(sms)) {
    const section = stepKeys.has(key) ? 'steps' : 'system';
    checkText(text, key, smsPath, `${section}.${key}`, p, true);
  }
  for (const [key, vs] of Object.entries(variants.sms)) {
    for (const [name, v] of Object.entries(vs))
      checkText(v.text, key, smsPath, `steps.${key}.variants.${name}`, p, true);
  }
  for (const [key, tpl] of Object.entries(email)) {
    const file = emailPath(key);
    checkText(tpl.subject, key, file, 'subject', p);
    checkText(tpl.preheader, key, file, 'preheader', p);
    checkText(tpl.markdown, key, file, 'body', p);
  }
  for (const [key, vs] of Object.entries(variants.email)) {
    for (const [name, v] of Object.entries(vs)) {
      const file = `${raw.dir}/email/${key}.${name}.md`;
      checkText(v.template.subject, key, file, 'subject', p);
      checkText(v.template.preheader, key, file, 'preheader', p);
      checkText(v.template.markdown, key, file, 'body', p);
    }
  }
  const hasVariants =
    Object.keys(variants.sms).length > 0 || Object.keys(variants.email).length > 0;
  return { sms, email, ...(hasVariants ? { variants } : {}) };
}
