// How the inbound pipeline reads one reply: intent (keyword, rating, question or free text),
// rating, and safety. Safety screening always runs, even on keywords and ratings: "2. he took
// my phone again..." is a rating AND a disclosure. `matched` names the rules that fired
// ("keyword:stop", "rating:digit", "abuse:threat"), never the person's words.
import type { KeywordSet, SafetyCategory } from '../content/types.ts';
import { stripQuotedReply } from './email-reply.ts';
import { matchKeyword, type KeywordMatch, type ProgramWord } from './keywords.ts';
import { foldText } from './normalize.ts';
import { readRating } from './rating.ts';
import { readRevocation } from './revocation.ts';
import type { Band } from '../safety/bands.ts';
import { screeningText } from '../safety/normalize.ts';
import { screenChosen, type SafetyScreener } from '../safety/screen.ts';

export type ReplyIntent =
  | 'stop'
  | 'start'
  | 'help'
  | 'pause'
  | 'resume'
  | 'yes'
  | 'join'
  | 'safe'
  | 'settings'
  | 'language'
  | 'rating'
  | 'question'
  | 'text';

export interface Reading {
  intent: ReplyIntent;
  rating: number | null;
  /** Categories that act: each gets its safety message, and advice is held. */
  safety: SafetyCategory[];
  /** act / ask / none (src/safety/bands.ts). */
  band: Band;
  /** Categories behind an `ask`. */
  concern: SafetyCategory[];
  /** Calibrated probability of current danger, per category. */
  risk: Record<SafetyCategory, number>;
  /** Calibrated probability of any concern (act or ask), per category. */
  concernRisk: Record<SafetyCategory, number>;
  /** With `explain`: what drove the score (may quote the person's words; never logged). */
  why: string[];
  matched: string[];
  pauseDays?: number;
  timezone?: string;
  hour?: number;
  /** Locale of the keyword that matched, when one did. */
  locale?: string;
  /** A program's own join word matched: that program's key. */
  program?: string;
  /** LANGUAGE ES / ESPANOL: the locale asked for (absent with a bare LANGUAGE / IDIOMA). */
  language?: string;
  /** The reply may be asking to stop, but not clearly (core/revocation.ts): ask once. */
  optOutUnclear?: boolean;
}

export interface ReadContext {
  channel: 'sms' | 'email';
  keywords: Record<string, KeywordSet>;
  /** The live programs' own join words (program.yaml `keywords:`). */
  programWords?: readonly ProgramWord[];
  safety: SafetyScreener;
  /** Keep the features that drove the safety score (for the operator's review). */
  explain?: boolean;
}

// Email replies often end with a sign-off ("Stop\n\nThanks,\nAna"); a keyword is read without
// it. Safety reads the whole new text, footers and signature blocks included (safety/normalize.ts).
const CLOSING =
  /^(?:thanks|thank you|thx|best|regards|best regards|kind regards|cheers|love|xo+|x+|gracias|saludos|un saludo|atentamente|besos)[\s,.!]*$/i;
const NAME = /^-?\s*\p{Lu}[\p{L}'.-]*(?:\s+\p{Lu}[\p{L}'.-]*){0,2}[\s,.]*$/u;

function withoutSignOff(body: string): string {
  const lines = body.split('\n').map((l) => l.trim());
  while (lines.length > 1) {
    const last = lines[lines.length - 1] as string;
    if (last === '' || CLOSING.test(last) || (NAME.test(last) && lines.length > 2)) lines.pop();
    else break;
  }
  return lines.join('\n').trim();
}

/** "1 - ", "3, ", "4. " in front of words: a check-in rating, read apart from the words. */
const LEADING_RATING = /^\s*[1-5]\s*(?:[-.,:;)/]|\s)\s*(?=\S)/;

const WH_WORDS = /^(?:what|when|where|why|who|whom|whose|how|which)\s+(\S+)/;
const WH_NEXT = new Set(
  (
    'is are do does did can could will would should am was were have has many much long often ' +
    "about to s 's i you time day kind sort happens happened if else now exactly week weeks"
  ).split(' '),
);
const AUX = /^(?:can|could|do|does|did|is|are|will|would|should|may|am|was|were)\s+(\S+)/;
const AUX_NEXT = new Set(
  'i you u we it this that there he she they my the these those someone anyone your'.split(' '),
);
const SPANISH_QUESTION =
  /^(?:qué|cómo|cuándo|dónde|por qué|quién|quiénes|cuál|cuánto|cuántos|cuántas)\b/;

/** Free text that asks something: ends with "?", has "¿", or opens like a question. */
export function isQuestion(text: string): boolean {
  const trimmed = text.trim();
  if (/\?[\s\p{Extended_Pictographic}\u{fe0f}]*$/u.test(trimmed) || trimmed.includes('¿')) {
    return true;
  }
  if (SPANISH_QUESTION.test(trimmed.toLowerCase())) return true;
  const folded = foldText(trimmed);
  const wh = WH_WORDS.exec(folded);
  if (wh?.[1] !== undefined && WH_NEXT.has(wh[1].replace(/[^a-z']/g, ''))) return true;
  const aux = AUX.exec(folded);
  return aux?.[1] !== undefined && AUX_NEXT.has(aux[1].replace(/[^a-z']/g, ''));
}

function fromKeyword(match: KeywordMatch): Partial<Reading> {
  if (match.command === 'settings') {
    return {
      intent: 'settings',
      ...(match.timezone === undefined ? {} : { timezone: match.timezone }),
      ...(match.hour === undefined ? {} : { hour: match.hour }),
    };
  }
  if (match.command === 'language') {
    return {
      intent: 'language',
      locale: match.locale,
      ...(match.target === undefined ? {} : { language: match.target }),
    };
  }
  return {
    intent: match.command,
    locale: match.locale,
    ...(match.days === undefined ? {} : { pauseDays: match.days }),
    ...(match.program === undefined ? {} : { program: match.program }),
  };
}

/** Reads one inbound reply. Pure: the same text and context always give the same reading. */
export function readReply(text: string, ctx: ReadContext): Reading {
  const body = ctx.channel === 'email' ? stripQuotedReply(text) : text;
  const words = ctx.programWords ?? [];
  const keyword =
    matchKeyword(body, ctx.keywords, words) ??
    (ctx.channel === 'email' ? matchKeyword(withoutSignOff(body), ctx.keywords, words) : null);
  // A whole keyword ("TIME 7pm") or a bare number ("1") has no free text for the model to read.
  // Judged on all the safety screen reads (an email's signature block too), not only on `body`.
  const screening = screeningText(text, ctx.channel);
  const { primary } = screening;
  const rulesOnly = matchKeyword(primary, ctx.keywords, words) !== null || !/\p{L}/u.test(primary);
  const screen = screenChosen(screening, ctx.safety, {
    explain: ctx.explain ?? false,
    rulesOnly,
  });
  const base = {
    safety: screen.band === 'act' ? screen.categories : [],
    band: screen.band,
    concern: screen.concern,
    risk: screen.risk,
    concernRisk: screen.concernRisk,
    why: screen.why,
  };

  if (keyword !== null) {
    const reading = fromKeyword(keyword);
    return {
      ...base,
      ...reading,
      intent: reading.intent ?? 'text',
      rating: null,
      matched: [`keyword:${keyword.command}`, ...screen.matched],
    };
  }
  // Revocation in any wording: "STOP. I didn't sign up for this", "quit texting me", read
  // without a leading check-in rating ("1 - please stop").
  const worded = (ctx.channel === 'email' ? withoutSignOff(body) : body).replace(
    LEADING_RATING,
    '',
  );
  const revocation = readRevocation(worded);
  // The wide net (core/revocation.ts `cease-messaging`) is the least sure reading: beside a reply
  // the screen reads as self-harm it asks rather than acts, so despair is never filed as
  // "unsubscribe" (the safety message answers, and an operator sees the question).
  const despair = screen.categories.includes('self_harm');
  if (revocation.rule === 'cease-messaging' && despair) revocation.revocation = 'unclear';
  if (revocation.revocation === 'optout') {
    return {
      ...base,
      intent: 'stop',
      rating: null,
      matched: [`optout:${revocation.rule}`, ...screen.matched],
    };
  }
  const unclear =
    revocation.revocation === 'unclear'
      ? { optOutUnclear: true, matched: [`optout-unclear:${revocation.rule}`, ...screen.matched] }
      : { matched: screen.matched };
  const rating = readRating(body);
  if (rating !== null) {
    return {
      ...base,
      intent: 'rating',
      rating: rating.value,
      ...unclear,
      matched: [`rating:${rating.rule}`, ...unclear.matched],
    };
  }
  return {
    ...base,
    intent: isQuestion(body) ? 'question' : 'text',
    rating: null,
    ...unclear,
  };
}
