// Checks that a program's languages hold the same messages: a step or system message written in
// one locale and not in another would reach some people and not others (or fall back to another
// language mid-program). Each gap names the program, the locale missing it, and where it exists.
// Steps and required system messages are already reported per locale (check-locale.ts names the
// file to write); this adds the optional ones (an `unsubscribed` email in en and not in es).
// Texts nothing sends are only warned about there, and are not compared.
import { EMAIL_SYSTEM_KEYS, OPTIONAL_EMAIL_SYSTEM_KEYS, SMS_SYSTEM_KEYS } from './keys.ts';
import type { Problems } from './errors.ts';
import type { LocaleTexts } from './types.ts';

const OPTIONAL: Record<'sms' | 'email', ReadonlySet<string>> = {
  sms: new Set<string>(),
  email: new Set<string>(OPTIONAL_EMAIL_SYSTEM_KEYS),
};
const REQUIRED: Record<'sms' | 'email', ReadonlySet<string>> = {
  sms: new Set<string>(SMS_SYSTEM_KEYS),
  email: new Set<string>(EMAIL_SYSTEM_KEYS),
};

export function checkLocalesMatch(
  programDir: string,
  locales: Record<string, LocaleTexts>,
  p: Problems,
): void {
  const names = Object.keys(locales).sort();
  if (names.length < 2) return;
  for (const [channel, file] of [
    ['sms', 'sms.yaml'],
    ['email', 'email/<key>.md'],
  ] as const) {
    // Required keys are reported per locale already; texts nothing sends are only warned about.
    const all = new Set(
      names
        .flatMap((l) => Object.keys(locales[l]![channel]))
        .filter((k) => OPTIONAL[channel].has(k) && !REQUIRED[channel].has(k)),
    );
    for (const locale of names) {
      const have = locales[locale]![channel];
      const missing = [...all].filter((k) => have[k] === undefined).sort();
      for (const key of missing) {
        const where = names.filter((l) => locales[l]![channel][key] !== undefined);
        p.error(
          `${programDir}/${locale}/${channel === 'sms' ? 'sms.yaml' : `email/${key}.md`}`,
          `${channel === 'sms' ? 'SMS' : 'email'} "${key}" is missing in ${locale} ` +
            `(it exists in ${where.join(', ')}; see ${where.map((l) => `${programDir}/${l}/${file}`).join(', ')})`,
        );
      }
    }
  }
}
