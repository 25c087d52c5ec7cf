// The zone guessed from a North American number's area code (src/core/area-codes.ts), against a
// table of codes whose zones are known, and the rule for codes that span zones: use the zone that
// never puts a deferred send in anyone's quiet hours, and say the code is split.
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { KNOWN_AREA_CODES, zoneForAreaCode } from '../../src/core/area-codes.ts';
import { timezoneForNumber } from '../../src/core/phone.ts';
import { inQuietHours, outOfQuietHours } from '../../src/core/schedule.ts';

const number = (code: string) => `+1${code}5550123`;

describe('area code zones', () => {
  it.each([
    // Eastern
    ['212', 'America/New_York'], // New York City
    ['202', 'America/New_York'], // Washington DC
    ['305', 'America/New_York'], // Miami
    ['404', 'America/New_York'], // Atlanta
    ['617', 'America/New_York'], // Boston
    ['313', 'America/New_York'], // Detroit
    ['317', 'America/New_York'], // Indianapolis
    ['502', 'America/New_York'], // Louisville
    ['865', 'America/New_York'], // Knoxville
    ['904', 'America/New_York'], // Jacksonville
    ['269', 'America/New_York'], // Kalamazoo, MI (not Central)
    // Central
    ['205', 'America/Chicago'], // Birmingham, AL (was New York)
    ['256', 'America/Chicago'], // Huntsville, AL
    ['251', 'America/Chicago'], // Mobile, AL
    ['938', 'America/Chicago'], // Alabama overlay
    ['769', 'America/Chicago'], // Mississippi (was New York)
    ['601', 'America/Chicago'], // Jackson, MS
    ['312', 'America/Chicago'], // Chicago
    ['713', 'America/Chicago'], // Houston
    ['504', 'America/Chicago'], // New Orleans
    ['615', 'America/Chicago'], // Nashville
    ['901', 'America/Chicago'], // Memphis
    ['731', 'America/Chicago'], // West Tennessee
    ['612', 'America/Chicago'], // Minneapolis
    ['806', 'America/Chicago'], // Texas panhandle
    ['402', 'America/Chicago'], // Omaha
    ['316', 'America/Chicago'], // Wichita
    // Mountain
    ['303', 'America/Denver'], // Denver
    ['801', 'America/Denver'], // Salt Lake City
    ['505', 'America/Denver'], // Albuquerque
    ['406', 'America/Denver'], // Montana
    ['915', 'America/Denver'], // El Paso: Mountain, not split
    // Arizona, no DST
    ['602', 'America/Phoenix'],
    ['520', 'America/Phoenix'],
    // Pacific
    ['213', 'America/Los_Angeles'],
    ['415', 'America/Los_Angeles'],
    ['206', 'America/Los_Angeles'],
    ['503', 'America/Los_Angeles'],
    ['702', 'America/Los_Angeles'],
    // Hawaii, territories
    ['808', 'Pacific/Honolulu'],
    ['787', 'America/Puerto_Rico'],
    ['939', 'America/Puerto_Rico'],
    ['340', 'America/St_Thomas'], // USVI: Atlantic, no DST (was New York)
    ['671', 'Pacific/Guam'],
    ['670', 'Pacific/Saipan'],
    ['684', 'Pacific/Pago_Pago'],
    // Canada
    ['416', 'America/Toronto'],
    ['514', 'America/Toronto'],
    ['604', 'America/Vancouver'],
    ['403', 'America/Edmonton'],
    ['306', 'America/Regina'],
    ['902', 'America/Halifax'],
  ])('%s -> %s (one zone)', (code, zone) => {
    expect(zoneForAreaCode(code)).toEqual({ zone, spans: null });
    expect(timezoneForNumber(number(code))).toBe(zone);
  });

  it.each([
    ['850', 'America/Chicago', 'America/New_York'], // Florida panhandle
    ['448', 'America/Chicago', 'America/New_York'], // its overlay (was New York)
    ['334', 'America/Chicago', 'America/New_York'], // Phenix City keeps Eastern
    ['270', 'America/Chicago', 'America/New_York'],
    ['606', 'America/Chicago', 'America/New_York'],
    ['423', 'America/Chicago', 'America/New_York'],
    ['931', 'America/Chicago', 'America/New_York'],
    ['812', 'America/Chicago', 'America/New_York'],
    ['219', 'America/Chicago', 'America/New_York'],
    ['574', 'America/Chicago', 'America/New_York'],
    ['906', 'America/Chicago', 'America/New_York'],
    ['308', 'America/Denver', 'America/Chicago'],
    ['605', 'America/Denver', 'America/Chicago'],
    ['701', 'America/Denver', 'America/Chicago'],
    ['620', 'America/Denver', 'America/Chicago'],
    ['785', 'America/Denver', 'America/Chicago'],
    ['208', 'America/Los_Angeles', 'America/Denver'],
    ['541', 'America/Los_Angeles', 'America/Denver'],
    ['928', 'America/Phoenix', 'America/Denver'], // Navajo Nation keeps DST
    ['907', 'America/Adak', 'America/Anchorage'], // Alaska: the Aleutians
    ['807', 'America/Winnipeg', 'America/Toronto'],
  ])('%s spans zones: uses %s until told (also %s)', (code, used, other) => {
    const z = zoneForAreaCode(code);
    expect(z?.zone).toBe(used);
    expect(z?.spans).toContain(other);
    expect(timezoneForNumber(number(code))).toBe(used);
  });

  it('knows each code once, and every zone is one the tz database has', () => {
    expect(new Set(KNOWN_AREA_CODES).size).toBe(KNOWN_AREA_CODES.length);
    for (const code of KNOWN_AREA_CODES) {
      const z = zoneForAreaCode(code)!;
      for (const zone of [z.zone, ...(z.spans ?? [])])
        expect(DateTime.now().setZone(zone).isValid, `${code}: ${zone}`).toBe(true);
    }
    expect(timezoneForNumber(number('555'))).toBeNull();
    expect(timezoneForNumber('+442071234567')).toBeNull();
  });

  // The reasoning in SPLIT, checked: the zone used has the earliest clock of those the code
  // spans, winter and summer, so a send moved to the end of quiet hours (08:00 there) and every
  // program time are inside allowed hours (08:00-21:00) wherever the person is.
  const quiet = { start: '21:00', end: '08:00' };
  const split = KNOWN_AREA_CODES.filter((c) => zoneForAreaCode(c)!.spans);
  it.each(split.flatMap((c) => ['2026-01-15', '2026-07-15'].map((d) => [c, d] as const)))(
    '%s on %s: the zone used never puts a send in quiet hours elsewhere',
    (code, day) => {
      const { zone, spans } = zoneForAreaCode(code)!;
      const at = (hhmm: string) => DateTime.fromISO(`${day}T${hhmm}`, { zone });
      for (const other of spans!)
        expect(at('12:00').offset).toBeLessThanOrEqual(at('12:00').setZone(other).offset);
      const deferred = outOfQuietHours(at('06:30'), quiet); // e.g. a check-in reminder
      // 867 (Yukon to Nunavut) is three hours wide: only its mornings can be kept.
      const program = code === '867' ? [] : [at('09:30'), at('12:30'), at('17:30'), at('18:30')];
      for (const send of [deferred, ...program])
        for (const other of spans!)
          expect(inQuietHours(send.setZone(other), quiet), `${send.toISO()} in ${other}`).toBe(
            false,
          );
    },
  );
});
