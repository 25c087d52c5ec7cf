// Weekly check-in ratings, 1 (hard week) to 5 (great week), as people actually type them:
// "4", "4.", "a 4", "3/5", "3 out of 5", "I'd say 2", "four", "cuatro", "tres de cinco",
// "⭐⭐⭐", "★★★★☆". A reply that starts with a rating keeps it even when more follows
// ("2. he took my phone again..."), but quantities are not ratings: "2 kids", "10 minutes
// late", "at 5pm", "my 2 cents", "6", "0". A range takes its lower end ("3-4" -> 3).
import { foldText } from './normalize.ts';

export type RatingRule = 'stars' | 'out-of' | 'digit' | 'word' | 'context';

export interface RatingReading {
  value: number;
  /** Which reading applied, for `matched` labels ("rating:digit"). */
  rule: RatingRule;
}

const NUMBER_WORDS: Readonly<Record<string, number>> = {
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  uno: 1,
  una: 1,
  dos: 2,
  tres: 3,
  cuatro: 4,
  cinco: 5,
};
const WORD = Object.keys(NUMBER_WORDS).join('|');
const VALUE = `[1-5]|${WORD}`;
// After "say", "a", "maybe"...: "uno/una/one" read as articles ("como una reina"), so not here.
const CONTEXT_VALUE = '[1-5]|two|three|four|five|dos|tres|cuatro|cinco';

// Words after a number that make it a count, not a rating ("2 kids", "3 hours").
const UNITS = new Set(
  (
    'am pm a.m p.m oclock o x % k kid kids child children baby babies day days night nights ' +
    'hour hours hr hrs minute minutes min mins second seconds sec secs week weeks wk wks month ' +
    'months year years yr yrs time times people person guys things thing more of dollars bucks ' +
    'cents miles mile km pounds lbs glasses glass drinks drink cups cup beers fights fight ' +
    'arguments texts messages calls cats dogs pets ninos hijos dias horas minutos semanas meses ' +
    'anos veces personas cosas mas de pm. am. th st nd rd dia hora minuto semana mes ano vez ' +
    'persona cosa'
  ).split(' '),
);
// Words ending in "s" that are not plural counts ("4 this week", "5 thanks!").
const NOT_PLURAL = new Set(
  'this was is its as us thanks yes always perhaps sometimes plus guess less unless his hers ours yours whats thats hes shes stars estrellas'.split(
    ' ',
  ),
);

/** True when the word right after a number says it counts something. */
function isQuantityWord(word: string | undefined): boolean {
  if (word === undefined || word === '') return false;
  if (UNITS.has(word)) return true;
  return word.length >= 4 && word.endsWith('s') && !NOT_PLURAL.has(word);
}

function valueOf(token: string): number | null {
  const n = NUMBER_WORDS[token] ?? Number(token);
  return Number.isInteger(n) && n >= 1 && n <= 5 ? n : null;
}

const nextWord = (rest: string) => /^\s+([\p{L}%.']+)/u.exec(rest)?.[1]?.replace(/'/g, '');

/** Reads a 1-5 rating from a reply, saying which rule found it; null when there is none. */
export function readRating(text: string): RatingReading | null {
  const f = foldText(text).replace(/([0-9])\ufe0f?\u20e3/g, '$1');

  const filled = (f.match(/[\u2b50\u2605\u{1f31f}]/gu) ?? []).length;
  if (filled > 0) return filled <= 5 ? { value: filled, rule: 'stars' } : null;

  const outOf = new RegExp(
    `(?:^|[^\\p{L}\\p{N}])(${VALUE})\\s*(?:/|out of|of|de)\\s*(?:5|five|cinco)(?![\\p{N}])`,
    'u',
  ).exec(f);
  if (outOf?.[1] !== undefined) {
    const value = valueOf(outOf[1]);
    if (value !== null) return { value, rule: 'out-of' };
  }

  const body = f.replace(/^[#(\s]+/, '');
  const lead = /^(\d+)(?:[.,](\d+))?(.*)$/su.exec(body);
  if (lead !== null) {
    const [, whole = '', fraction, rest = ''] = lead;
    const value = valueOf(whole);
    const attached = /^[\p{L}\p{N}]/u.test(rest); // "5pm", "4th"
    const timeOrList = fraction !== undefined && fraction.length > 1; // "2,000", "5.30"
    const countOf = /^\s*\/\s*\d/.test(rest) || /^\s*:\s*\d/.test(rest); // "4/10", "5:30"
    if (value !== null && !attached && !timeOrList && !countOf && !isQuantityWord(nextWord(rest))) {
      return { value, rule: 'digit' };
    }
  }

  const word = new RegExp(`^(${WORD})(?:\\s*$|\\s*[.!,;:)\\-])`, 'u').exec(body);
  if (word?.[1] !== undefined) return { value: NUMBER_WORDS[word[1]] as number, rule: 'word' };

  const context = new RegExp(
    '(?:^|\\s)(?:say|said|give it|rate it|rating|rate|maybe|probably|prob|solid|like|about|around|' +
      "honestly|it's|its|it s|a|an|week|un|una|diria|como|seria|just|only|call it)" +
      `\\s+(?:a\\s+|an\\s+|un\\s+|una\\s+)?(${CONTEXT_VALUE})(?![\\p{L}\\p{N}/:])(.*)$`,
    'u',
  );
  const ctx = context.exec(f);
  if (ctx?.[1] !== undefined && !isQuantityWord(nextWord(ctx[2] ?? ''))) {
    const value = valueOf(ctx[1]);
    if (value !== null) return { value, rule: 'context' };
  }
  return null;
}

/** The rating in a reply (1-5), or null. */
export function parseRating(text: string): number | null {
  return readRating(text)?.value ?? null;
}
