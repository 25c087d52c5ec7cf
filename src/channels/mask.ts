// Logs, console lists and operator alerts must never hold a phone number or address that could be
// read back: these keep only enough to tell two people apart at a glance (a number's country code
// and last two digits; an address's first letter, its domain's first letter and top-level domain).
// The masks are fixed-width, so they do not give away a number's length either.
import { getCountries, getCountryCallingCode } from 'libphonenumber-js/max';

const HIDDEN = '*******';

/** Every country calling code (1 to 3 digits; no code is a prefix of another). */
const CALLING_CODES = new Set(getCountries().map((c) => String(getCountryCallingCode(c))));

function callingCode(digits: string): string | null {
  for (let n = 1; n <= 3; n++) if (CALLING_CODES.has(digits.slice(0, n))) return digits.slice(0, n);
  return null;
}

/** The last two digits, and only when the number is long enough that they are a small part of it. */
const tail = (national: string) => (national.length >= 6 ? national.slice(-2) : '');

/**
 * `+12025550123` -> `+1*******23`, `+447700900123` -> `+44*******23`. Without a leading `+` the
 * country is unknown: `(202) 555-0123` -> `*******23`. Short or odd input keeps no digit at all.
 */
export function maskPhone(phone: string): string {
  const raw = String(phone ?? '').trim();
  const digits = raw.replace(/\D/g, '');
  if (digits.length < 6) return '***';
  if (raw.startsWith('+')) {
    const cc = callingCode(digits);
    if (!cc) return `+${HIDDEN}${tail(digits)}`;
    return `+${cc}${HIDDEN}${tail(digits.slice(cc.length))}`;
  }
  return `${HIDDEN}${tail(digits)}`;
}

/**
 * `jane.doe@example.com` -> `j***@e***.com`; also accepts `Jane <jane@example.com>`. A domain
 * keeps its first letter and its top-level domain only (`mail.example.co.uk` -> `m***.uk`).
 */
export function maskEmail(address: string): string {
  const bracketed = /<([^<>]*)>\s*$/.exec(String(address ?? ''));
  const addr = (bracketed?.[1] ?? String(address ?? '')).trim();
  const at = addr.lastIndexOf('@');
  if (at < 0) return '***';
  const local = addr.slice(0, at);
  const domain = addr.slice(at + 1);
  const dot = domain.lastIndexOf('.');
  const tld = dot > 0 ? domain.slice(dot) : '';
  return `${local.slice(0, 1)}***@${domain.slice(0, 1)}***${/^\.[a-z]{2,24}$/i.test(tld) ? tld : ''}`;
}
