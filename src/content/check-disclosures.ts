// What carriers check in the texts that sign someone up or answer HELP (CTIA Messaging
// Principles; the 10DLC campaign review): the program's name, a support contact, how to stop,
// that the frequency varies, that message and data rates may apply, and the terms. A program
// that leaves one out gets its campaign rejected, so `content check` refuses it.
import type { Problems } from './errors.ts';

/** The SMS system messages that carry the full disclosure. */
export const DISCLOSED_SMS_KEYS = ['optin_confirm', 'start_confirm', 'help'] as const;

interface Disclosure {
  name: string;
  re: RegExp;
}

const EVERY_LOCALE: Disclosure[] = [
  { name: '{{programName}}', re: /\{\{\s*programName\s*\}\}/ },
  { name: '{{supportContact}}', re: /\{\{\s*supportContact\s*\}\}/ },
  { name: '{{termsUrl}}', re: /\{\{\s*termsUrl\s*\}\}/ },
  { name: 'STOP', re: /\bSTOP\b/ },
];

/** The carriers' phrases in each language the programs are written in. */
const PHRASES: Readonly<Record<string, Disclosure[]>> = {
  en: [
    { name: '"Msg frequency varies"', re: /\bmsg frequency varies\b/i },
    { name: '"Msg & data rates may apply"', re: /\bmsg (?:&|and) data rates may apply\b/i },
  ],
  es: [
    { name: '"La frecuencia ... puede variar"', re: /\bfrecuencia\b.{0,40}\bpuede variar\b/i },
    {
      name: '"Pueden aplicarse tarifas de mensajes y datos"',
      re: /\btarifas de mensajes y datos\b/i,
    },
  ],
};

export function checkDisclosures(
  locale: string,
  sms: Readonly<Record<string, string>>,
  smsPath: string,
  p: Problems,
): void {
  const phrases = PHRASES[locale];
  if (!phrases)
    p.warn(
      smsPath,
      `no carrier disclosure phrases are known for "${locale}": check optin_confirm, start_confirm and help by hand (frequency varies, message and data rates)`,
    );
  for (const key of DISCLOSED_SMS_KEYS) {
    const text = sms[key];
    if (text === undefined) continue; // reported as missing elsewhere
    const missing = [...EVERY_LOCALE, ...(phrases ?? [])].filter((d) => !d.re.test(text));
    if (missing.length)
      p.error(
        smsPath,
        `system.${key} must carry what carriers check; missing ${missing.map((d) => d.name).join(', ')}`,
      );
  }
}
