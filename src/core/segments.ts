// How many SMS segments a text costs. Carriers bill and deliver per segment, and a message that
// slips from GSM-7 into UCS-2 (one curly quote or emoji does it) costs about twice as much.

export type SmsEncoding = 'GSM-7' | 'UCS-2';

export interface SmsSize {
  encoding: SmsEncoding;
  /** GSM-7: septets (extension characters count 2). UCS-2: UTF-16 code units. */
  units: number;
  segments: number;
}

// GSM 03.38 default alphabet, in table order (0x1B, the escape to the extension table, is left
// out: it is not a character a text can contain on its own).
const GSM_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';

// Extension table: each costs an escape septet plus its own.
const GSM_EXTENDED = '\f^{}\\[~]|€';

const BASIC = new Set(GSM_BASIC);
const EXTENDED = new Set(GSM_EXTENDED);

const LIMITS: Record<SmsEncoding, { single: number; part: number }> = {
  'GSM-7': { single: 160, part: 153 },
  'UCS-2': { single: 70, part: 67 },
};

/** GSM-7 when every character is in the GSM 03.38 basic or extension table, else UCS-2. */
export function smsEncoding(text: string): SmsEncoding {
  for (const ch of text) {
    if (!BASIC.has(ch) && !EXTENDED.has(ch)) return 'UCS-2';
  }
  return 'GSM-7';
}

/** The cost of each character in units, in order; a character is never split across parts. */
function characterUnits(text: string, encoding: SmsEncoding): number[] {
  const units: number[] = [];
  for (const ch of text) {
    if (encoding === 'GSM-7') units.push(EXTENDED.has(ch) ? 2 : 1);
    else units.push(ch.length); // a surrogate pair is 2 code units and stays together
  }
  return units;
}

/** Encoding, size in units and segment count of one SMS body. An empty text costs 0 segments. */
export function smsSegments(text: string): SmsSize {
  const encoding = smsEncoding(text);
  const costs = characterUnits(text, encoding);
  const units = costs.reduce((sum, n) => sum + n, 0);
  const { single, part } = LIMITS[encoding];
  if (units === 0) return { encoding, units, segments: 0 };
  if (units <= single) return { encoding, units, segments: 1 };

  // Concatenated parts: fill each part greedily, moving a character that does not fit whole
  // (an escape pair or a surrogate pair) to the next part, as handsets and carriers do.
  let segments = 1;
  let used = 0;
  for (const cost of costs) {
    if (used + cost > part) {
      segments += 1;
      used = 0;
    }
    used += cost;
  }
  return { encoding, units, segments };
}
