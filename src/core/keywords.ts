// Carrier and program keywords (messages/keywords.yaml) and the TIME/TZ settings commands.
// A keyword counts only when it is the whole message: "STOP", " stop. ", "Stop please" are
// STOP; "stopping by later" and "help. he's outside" are not keywords at all.
// Decided: "stop it" is NOT a stop (people say it to a person; it is not a carrier keyword),
// while "stop please", "please stop" and "stop pls" are.
import type { KeywordSet } from '../content/types.ts';
import { foldText } from './normalize.ts';

export type KeywordCommand =
  'stop' | 'start' | 'help' | 'pause' | 'resume' | 'yes' | 'join' | 'safe';

export type KeywordMatch =
  | { command: KeywordCommand; locale: string; days?: number; program?: string }
  | { command: 'settings'; timezone?: string; hour?: number }
  /** "IDIOMA" (no target: how to choose) or "LANGUAGE ES" / "ESPANOL" (target: switch to it). */
  | { command: 'language'; locale: string; target?: string };

/** A word that joins one program (program.yaml `keywords:`), in one locale. */
export interface ProgramWord {
  word: string;
  locale: string;
  program: string;
}

const COMMANDS: readonly KeywordCommand[] = [
  'stop',
  'start',
  'help',
  'pause',
  'resume',
  'yes',
  'join',
  'safe',
];

/** Longest pause a person can ask for with "PAUSE n"; larger numbers pause for the default. */
export const MAX_PAUSE_DAYS = 90;

const POLITE_BEFORE = /^(?:please|pls|plz|por favor|porfa|ok|okay)\s+/;
const POLITE_AFTER =
  /\s+(?:please|pls|plz|thanks|thank you|thx|ty|now|por favor|porfa|gracias|ya|asap)$/;

/** Folded, apostrophes dropped, punctuation to spaces: "Don't text me!!" -> "dont text me". */
function keyForm(text: string): string {
  return foldText(text)
    .replace(/'/g, '')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

function stripPoliteness(form: string): string {
  let out = form;
  for (let i = 0; i < 2; i += 1) out = out.replace(POLITE_BEFORE, '').replace(POLITE_AFTER, '');
  // "stop stop stop" is still one stop.
  const words = out.split(' ');
  return words.every((w) => w === words[0]) ? (words[0] ?? '') : out;
}

const PAUSE_LENGTH =
  /^(?:for |por )?(\d{1,3}|a|one|un|una)\s*(d|day|days|dia|dias|w|wk|wks|week|weeks|semana|semanas)?$/;

/** "7", "7 days", "2 weeks", "una semana" -> days, or null when not a length at all. */
function parsePauseLength(rest: string): number | null | 'out-of-range' {
  const m = PAUSE_LENGTH.exec(rest);
  if (m === null) return null;
  const [, amount = '', unit = ''] = m;
  const isWord = !/^\d/.test(amount);
  const weeks = /^(w|wk|wks|week|weeks|semana|semanas)$/.test(unit);
  if (isWord && !weeks) return null; // "pause a" is not a length
  const days = (isWord ? 1 : Number(amount)) * (weeks ? 7 : 1);
  return days >= 1 && days <= MAX_PAUSE_DAYS ? days : 'out-of-range';
}

const ZONE_ALIASES: Readonly<Record<string, string>> = {
  eastern: 'America/New_York',
  east: 'America/New_York',
  est: 'America/New_York',
  edt: 'America/New_York',
  et: 'America/New_York',
  este: 'America/New_York',
  central: 'America/Chicago',
  cst: 'America/Chicago',
  cdt: 'America/Chicago',
  ct: 'America/Chicago',
  centro: 'America/Chicago',
  mountain: 'America/Denver',
  mst: 'America/Denver',
  mdt: 'America/Denver',
  mt: 'America/Denver',
  montana: 'America/Denver',
  arizona: 'America/Phoenix',
  pacific: 'America/Los_Angeles',
  pst: 'America/Los_Angeles',
  pdt: 'America/Los_Angeles',
  pt: 'America/Los_Angeles',
  pacifico: 'America/Los_Angeles',
  alaska: 'America/Anchorage',
  akst: 'America/Anchorage',
  hawaii: 'Pacific/Honolulu',
  hst: 'Pacific/Honolulu',
  'puerto rico': 'America/Puerto_Rico',
  atlantic: 'America/Puerto_Rico',
  utc: 'UTC',
  gmt: 'UTC',
};

/** A US zone name or any IANA zone Intl knows, canonicalised ("america/chicago" works). */
export function parseTimeZone(raw: string): string | null {
  const name = raw.trim().replace(/\s+(?:time|timezone|hora)$/, '');
  const alias = ZONE_ALIASES[name.replace(/\s+/g, ' ')];
  if (alias !== undefined) return alias;
  if (!/^[a-z0-9_+\-/]+$/i.test(name) || !name.includes('/')) return null;
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return null;
  }
}

/**
 * "7pm", "7 pm", "7:30am", "19", "19:00", "12am" -> hour 0-23. Minutes are floored: messages
 * go out on the hour, so "7:30pm" means the 7pm slot. Anything else is null.
 */
export function parseHour(raw: string): number | null {
  const m = /^(\d{1,2})(?::(\d{2}))?\s*(am|a m|a|pm|p m|p)?$/.exec(raw.replace(/\./g, ' ').trim());
  if (m === null) return null;
  const [, h = '', minutes, meridiem] = m;
  let hour = Number(h);
  if (minutes !== undefined && Number(minutes) > 59) return null;
  if (meridiem === undefined) return hour <= 23 ? hour : null;
  if (hour < 1 || hour > 12) return null;
  if (hour === 12) hour = 0;
  return meridiem.startsWith('p') ? hour + 12 : hour;
}

function matchSettings(folded: string): KeywordMatch | null {
  const time = /^(?:time|hora)\s*:?\s+(.+)$/.exec(folded);
  if (time?.[1] !== undefined) {
    const hour = parseHour(time[1]);
    return hour === null ? null : { command: 'settings', hour };
  }
  const zone = /^(?:tz|timezone|time zone|zona horaria|zona)\s*:?\s+(.+)$/.exec(folded);
  if (zone?.[1] !== undefined) {
    const timezone = parseTimeZone(zone[1]);
    return timezone === null ? null : { command: 'settings', timezone };
  }
  return null;
}

/** LANGUAGE / IDIOMA, alone or with a language name or code, or a language name alone. Any
 * locale's words work whatever the person's language, so nobody is stuck in one. */
function matchLanguage(form: string, keywords: Record<string, KeywordSet>): KeywordMatch | null {
  const sets = Object.entries(keywords);
  const targetOf = (rest: string): string | undefined => {
    for (const [locale, set] of sets) {
      if (rest === locale || (set.languageName ?? []).map(keyForm).includes(rest)) return locale;
    }
    return undefined;
  };
  for (const [locale, set] of sets) {
    for (const word of (set.language ?? []).map(keyForm)) {
      if (form === word) return { command: 'language', locale };
      if (!form.startsWith(`${word} `)) continue;
      const target = targetOf(form.slice(word.length + 1));
      // "language please help" is not a language command; "idioma xx" (unknown) asks how to choose.
      if (target !== undefined) return { command: 'language', locale, target };
      if (/^[a-z]{2}$/.test(form.slice(word.length + 1))) return { command: 'language', locale };
    }
  }
  for (const [locale, set] of sets) {
    if ((set.languageName ?? []).map(keyForm).includes(form))
      return { command: 'language', locale, target: locale };
  }
  return null;
}

/** The keyword a whole message is, or null. Pure; `keywords` is keywords.yaml by locale;
 * `programWords` are the live programs' own join words. */
export function matchKeyword(
  text: string,
  keywords: Record<string, KeywordSet>,
  programWords: readonly ProgramWord[] = [],
): KeywordMatch | null {
  const form = stripPoliteness(keyForm(text));
  if (form === '') return null;
  const settings = matchSettings(
    stripPoliteness(
      foldText(text)
        .replace(/[.!?]+$/, '')
        .trim(),
    ),
  );
  if (settings !== null) return settings;
  for (const [locale, set] of Object.entries(keywords)) {
    if (set.stopPhrases.some((p) => keyForm(p) === form)) return { command: 'stop', locale };
    for (const command of COMMANDS) {
      const words = set[command].map(keyForm);
      if (words.includes(form)) return { command, locale };
      if (command !== 'pause') continue;
      const word = words.find((w) => form.startsWith(`${w} `));
      if (word === undefined) continue;
      const days = parsePauseLength(form.slice(word.length + 1));
      if (days === 'out-of-range') return { command, locale };
      if (days !== null) return { command, locale, days };
    }
  }
  const own = programWords.find((w) => keyForm(w.word) === form);
  if (own) return { command: 'join', locale: own.locale, program: own.program };
  return matchLanguage(form, keywords);
}
