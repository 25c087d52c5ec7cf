// Phone numbers: E.164 via libphonenumber (full metadata, so premium-rate numbers are known).
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { zoneForAreaCode, type AreaCodeZone } from './area-codes.ts';

export type PhoneCheck =
  | { ok: true; e164: string; country: string; timezone: string | null }
  | {
      ok: false;
      reason: 'invalid' | 'premium_rate' | 'not_allowed_country' | 'not_mobile';
      message: string;
    };

const REFUSED_TYPES = new Set([
  'PREMIUM_RATE',
  'SHARED_COST',
  'TOLL_FREE',
  'UAN',
  'VOICEMAIL',
  'PAGER',
]);

export function checkPhone(
  raw: string,
  allowedCountries: readonly string[],
  defaultCountry = 'US',
): PhoneCheck {
  const p = parsePhoneNumberFromString(String(raw ?? '').trim(), defaultCountry as never);
  if (!p || !p.isValid())
    return {
      ok: false,
      reason: 'invalid',
      message: 'not a valid phone number; use international format, e.g. +12025550123',
    };
  const type = p.getType();
  if (type && REFUSED_TYPES.has(type))
    return {
      ok: false,
      reason: 'premium_rate',
      message: `a ${type.toLowerCase().replace('_', '-')} number cannot subscribe`,
    };
  const country = p.country ?? '';
  if (!allowedCountries.includes(country))
    return {
      ok: false,
      reason: 'not_allowed_country',
      message: `numbers from ${country || 'that country'} are not accepted (allowed: ${allowedCountries.join(', ')})`,
    };
  return { ok: true, e164: p.number, country, timezone: timezoneForNumber(p.number) };
}

/** The zone to use for a North American number until the person tells us theirs (TZ keyword):
 * its area code's zone, or for a code that spans zones the one that never puts a deferred send
 * in anyone's quiet hours (see SPLIT in area-codes.ts); null for a code we do not know. */
export function timezoneForNumber(e164: string): string | null {
  return areaCodeZoneOf(e164)?.zone ?? null;
}

/** The area code's zone with whether it is a guess among several (`spans`), for a caller that
 * can ask the person to confirm. */
export function areaCodeZoneOf(e164: string): AreaCodeZone | null {
  if (!e164.startsWith('+1') || e164.length !== 12) return null;
  return zoneForAreaCode(e164.slice(2, 5));
}

/** E.164 form of any valid number, whatever the allowed countries (for lookups and erasure). */
export function toE164(raw: string, defaultCountry = 'US'): string | null {
  const p = parsePhoneNumberFromString(String(raw ?? '').trim(), defaultCountry as never);
  return p && p.isValid() ? p.number : null;
}

/** The country (ISO 3166 alpha-2) of an E.164 number, or null when it cannot tell. */
export function countryOfNumber(e164: string): string | null {
  return parsePhoneNumberFromString(e164)?.country ?? null;
}
