// What to do about one inbound message. Pure: the reading of the text, what we know of the person,
// and the time come in; a list of actions goes out, and apply-actions.ts carries them out in one
// transaction. Safety comes first: a disclosure is flagged and answered whatever else the message
// also is (a rating, a question), and advice is paused for that person.
import type { Reading } from './classify.ts';
import type { SafetyCategory } from '../content/types.ts';

export type SubscriberState = 'pending' | 'active' | 'stopped' | 'expired';
export type EnrollmentStateName =
  'pending' | 'active' | 'paused' | 'safety_hold' | 'completed' | 'stopped';

export interface ReplyContext {
  /** null: a number or address we do not know. */
  subscriber: { status: SubscriberState } | null;
  enrollment: {
    state: EnrollmentStateName;
    lowRatingRun: number;
    lowRatingStepSent: boolean;
  } | null;
  openCheckin: { id: string } | null;
  /** Safety categories already answered in the last 24 hours. */
  safetySentRecently: SafetyCategory[];
  /** Whether the discreet check-in (band ask) went out in the last 24 hours. */
  safetyCheckSentRecently: boolean;
  /** Categories of this person's `ask` flags of the last 14 days (what SAFE answers). */
  recentConcern: SafetyCategory[];
  /** Whether an unknown number already got the how-to-join text in the last 24 hours. */
  howToJoinSentRecently: boolean;
  /** Whether this number already got an opt-in confirmation in the last 24 hours. */
  optinSentRecently: boolean;
  /** Whether this person already got the opt-out clarification in the last 24 hours. */
  clarifySentRecently?: boolean;
  /** Email: the receiving relay's verdict on the sender (SPF/DKIM/DMARC, email/auth-results.ts).
   * 'fail' (the From header may be forged): nothing is acted on, an operator decides. 'pass' and
   * 'none' (no verdict, and always for SMS): as usual. Missing counts as 'none'. */
  senderVerified?: 'pass' | 'fail' | 'none';
  /** HELP answers already sent to this number or person in the last hour and the last 24 hours
   * (see HELP_LIMITS); missing counts as none. */
  helpSentLastHour?: number;
  helpSentLastDay?: number;
  /** A known person's JOIN names a program they are not in (on any channel). */
  joinsNewProgram?: boolean;
  /** The person has an enrollment on this channel waiting for their YES (a program joined since). */
  waitingEnrollment?: boolean;
  /** Languages the reply's program is written in, and the person's own (or the default). */
  locales?: string[];
  locale?: string;
}

/** HELP is answered at most this often per number or person, so a flood of HELPs (from anyone,
 * known or not) costs a few answers, not one each. Safety messages and STOP confirmations are
 * never limited by it. */
export const HELP_LIMITS = { perHour: 3, perDay: 10 };

export type Action =
  | { kind: 'join' } // create a pending subscriber and enrollment
  | { kind: 'rejoin' } // a stopped person texted JOIN: pending again, until their own YES
  | { kind: 'confirm' } // consent confirmed: start (or restart) the program
  | { kind: 'optOut' }
  | { kind: 'optOutQuery'; rule: string } // unclear: the operator queue decides
  | { kind: 'pause'; days: number | null }
  | { kind: 'resume' }
  | { kind: 'settings'; timezone?: string; hour?: number }
  | { kind: 'setLocale'; locale: string } // every message after is in this language
  | { kind: 'answerCheckin'; checkinId: string; rating: number | null }
  | { kind: 'lowRating'; run: number }
  | { kind: 'addEarlyStep' }
  | {
      kind: 'flag';
      category: SafetyCategory;
      band: 'act' | 'ask';
      matched: string[];
      risk: number;
      why: string[];
      /** The sender was not verified, so nothing was sent: `alert` (the screen said act) tells
       * operators now, `review` (it said ask) only puts it in the review queue. */
      unverified?: 'alert' | 'review';
    }
  | { kind: 'hold' }
  | { kind: 'send'; template: string; message: 'system' | 'safety'; vars?: Record<string, string> };

const LOW = 2;

/** The words around a changed setting in settings_confirm's {{setting}}, in the person's
 * language (GSM-7 only: no á, í, ó, ú, which would double an SMS's cost). */
const SETTING_WORDS: Record<string, { zone: string; time: string }> = {
  en: { zone: 'time zone', time: 'send time' },
  es: { zone: 'zona horaria', time: 'hora de los mensajes' },
};

function ack(rating: number | null): string {
  if (rating === null) return 'ack_text';
  if (rating <= LOW) return 'ack_low';
  return rating === 3 ? 'ack_mid' : 'ack_high';
}

export function decideReply(ctx: ReplyContext, reading: Reading): Action[] {
  if (ctx.senderVerified === 'fail') return unverifiedSender(ctx, reading);
  const actions: Action[] = [];
  const known = ctx.subscriber;

  // 1. Safety, before anything else.
  const danger = reading.safety;
  const flag = (category: SafetyCategory, band: 'act' | 'ask'): Action => ({
    kind: 'flag',
    category,
    band,
    matched: reading.matched.filter((m) => m.startsWith(category + ':')),
    risk: reading.risk[category],
    why: reading.why,
  });
  if (danger.length > 0) {
    for (const category of danger) actions.push(flag(category, 'act'));
    if (known && ctx.enrollment && ['active', 'paused'].includes(ctx.enrollment.state))
      actions.push({ kind: 'hold' });
    // Answer each category at most once a day, unless it is new. A stopped person asked us to
    // stop: they are not messaged; the flag still reaches an operator.
    if (!known || known.status !== 'stopped') {
      // Self-harm first: it carries the crisis line and the emergency number.
      const order: SafetyCategory[] = ['self_harm', 'abuse'];
      for (const category of order) {
        if (danger.includes(category) && !ctx.safetySentRecently.includes(category))
          actions.push({ kind: 'send', template: `safety_${category}`, message: 'safety' });
      }
    }
  }
  // An `ask`: a discreet check-in that offers support (reply SAFE), an item for an operator to
  // review, and no hold: the person may be fine, and the program goes on.
  if (reading.band === 'ask') {
    for (const category of reading.concern) actions.push(flag(category, 'ask'));
    // Someone who just asked us to stop gets the opt-out confirmation, not an invitation to reply
    // SAFE: the flag still reaches an operator.
    if (
      (!known || known.status !== 'stopped') &&
      !ctx.safetyCheckSentRecently &&
      reading.intent !== 'stop'
    )
      actions.push({ kind: 'send', template: 'safety_check', message: 'safety' });
  }
  // SAFE (offered by that check-in, but anyone may send it): the private support options.
  if (reading.intent === 'safe' && (!known || known.status !== 'stopped')) {
    const categories: SafetyCategory[] = ctx.recentConcern.length ? ctx.recentConcern : ['abuse'];
    for (const category of ['self_harm', 'abuse'] as const) {
      if (categories.includes(category) && !danger.includes(category))
        actions.push({ kind: 'send', template: `safety_${category}`, message: 'safety' });
    }
    return actions;
  }
  const answeredSafety = actions.some((a) => a.kind === 'send');

  // 2. Carrier and program keywords (whole message only).
  switch (reading.intent) {
    case 'stop':
      if (known && known.status !== 'stopped') {
        actions.push(
          { kind: 'optOut' },
          { kind: 'send', template: 'stop_confirm', message: 'system' },
        );
      }
      return actions;
    case 'help':
      if (
        (ctx.helpSentLastHour ?? 0) < HELP_LIMITS.perHour &&
        (ctx.helpSentLastDay ?? 0) < HELP_LIMITS.perDay
      )
        actions.push({ kind: 'send', template: 'help', message: 'system' });
      return actions;
    case 'join':
    case 'yes':
    case 'start':
      if (!known) {
        if (reading.intent === 'join' || reading.intent === 'start') {
          if (!ctx.optinSentRecently)
            actions.push(
              { kind: 'join' },
              { kind: 'send', template: 'optin_confirm', message: 'system' },
            );
          return actions;
        }
        break; // a bare YES from a stranger is just text
      }
      // A program the person is not in yet: joined. Someone already with us starts at once (the
      // keyword is their request, on a number that already consented); anyone else confirms first.
      if (reading.intent === 'join' && ctx.joinsNewProgram) {
        if (known.status === 'active') actions.push({ kind: 'join' });
        else {
          if (lapsed(known.status)) actions.push({ kind: 'rejoin' });
          actions.push({ kind: 'join' });
          if (known.status === 'stopped' || !ctx.optinSentRecently)
            actions.push({ kind: 'send', template: 'optin_confirm', message: 'system' });
        }
        return actions;
      }
      if (known.status === 'pending' && reading.intent === 'join') {
        if (!ctx.optinSentRecently)
          actions.push({ kind: 'send', template: 'optin_confirm', message: 'system' });
        return actions;
      }
      // After STOP only a clear yes brings someone back: START (or UNSTOP), or a new JOIN that
      // asks again and waits for its own YES. A bare "yeah" or "sure" is not consent. Someone
      // whose opt-in lapsed unanswered (expired) is asked again the same way; their YES counts
      // only as the answer to an opt-in text sent in the last 24 hours.
      if (lapsedYes(known.status, reading.intent)) {
        if (known.status === 'expired' && ctx.optinSentRecently) {
          actions.push({ kind: 'confirm' });
          return actions;
        }
        break;
      }
      if (lapsedJoin(known.status, reading.intent)) {
        actions.push({ kind: 'rejoin' });
        // After a STOP, a JOIN is always asked again; a lapsed opt-in at most once a day.
        if (known.status === 'stopped' || !ctx.optinSentRecently)
          actions.push({ kind: 'send', template: 'optin_confirm', message: 'system' });
        return actions;
      }
      if (known.status === 'pending' || known.status === 'stopped' || known.status === 'expired') {
        actions.push({ kind: 'confirm' }); // the welcome / start confirmation comes with it
        return actions;
      }
      if (reading.intent === 'start' && ctx.enrollment?.state === 'paused') {
        actions.push(
          { kind: 'resume' },
          { kind: 'send', template: 'resume_confirm', message: 'system' },
        );
        return actions;
      }
      // Already with us, and asked to confirm a program joined since (e.g. by the sign-up form).
      if (reading.intent === 'yes' && ctx.waitingEnrollment && ctx.optinSentRecently) {
        actions.push({ kind: 'confirm' });
        return actions;
      }
      if (reading.intent !== 'yes') return actions; // already in: nothing to do
      break; // an active subscriber's "yes" may answer a check-in
    case 'pause':
      if (known?.status === 'active' && ctx.enrollment && ctx.enrollment.state !== 'stopped') {
        const days = reading.pauseDays ?? null;
        if (ctx.enrollment.state !== 'safety_hold') actions.push({ kind: 'pause', days });
        actions.push(
          days
            ? {
                kind: 'send',
                template: 'pause_days_confirm',
                message: 'system',
                vars: { days: String(days) },
              }
            : { kind: 'send', template: 'pause_confirm', message: 'system' },
        );
      }
      return actions;
    case 'resume':
      if (
        known?.status === 'active' &&
        ctx.enrollment &&
        ['paused', 'safety_hold'].includes(ctx.enrollment.state)
      ) {
        actions.push(
          { kind: 'resume' },
          { kind: 'send', template: 'resume_confirm', message: 'system' },
        );
      }
      return actions;
    case 'settings':
      if (known?.status === 'active') {
        const words = SETTING_WORDS[ctx.locale ?? 'en'] ?? SETTING_WORDS.en!;
        const setting = reading.timezone
          ? `${words.zone} ${reading.timezone}`
          : `${words.time} ${String(reading.hour).padStart(2, '0')}:00`;
        actions.push(
          { kind: 'settings', timezone: reading.timezone, hour: reading.hour },
          { kind: 'send', template: 'settings_confirm', message: 'system', vars: { setting } },
        );
      }
      return actions;
    case 'language':
      if (known && known.status !== 'stopped') {
        actions.push(...decideLanguage(ctx, reading));
        return actions;
      }
      if (known) return actions;
      break; // a stranger gets how to join, in the language of the word they used
    default:
      break;
  }

  // 3. Anything else.
  if (!known) {
    if (!ctx.howToJoinSentRecently && !answeredSafety)
      actions.push({ kind: 'send', template: 'how_to_join', message: 'system' });
    return actions;
  }
  // Maybe asking to stop, maybe not ("I'm done", "how do I cancel?"): ask once, plainly, and let
  // an operator decide. No cheerful acknowledgement on top.
  const unclear = reading.optOutUnclear === true && known.status !== 'stopped';
  // Someone who never confirmed and now sounds like they want out ("I never signed up for
  // this"): stop, no question asked; nothing was going to be sent anyway.
  if (unclear && known.status === 'pending') {
    actions.push({ kind: 'optOut' }, { kind: 'send', template: 'stop_confirm', message: 'system' });
    return actions;
  }
  if (unclear) {
    actions.push({ kind: 'optOutQuery', rule: optOutRule(reading) });
    if (!ctx.clarifySentRecently && !answeredSafety)
      actions.push({ kind: 'send', template: 'optout_clarify', message: 'system' });
  }
  if (known.status !== 'active' || !ctx.openCheckin) return actions; // recorded, nothing to answer
  const rating = reading.rating;
  actions.push({ kind: 'answerCheckin', checkinId: ctx.openCheckin.id, rating });
  if (rating !== null && ctx.enrollment) {
    const run = rating <= LOW ? ctx.enrollment.lowRatingRun + 1 : 0;
    actions.push({ kind: 'lowRating', run });
    if (run >= 2 && !ctx.enrollment.lowRatingStepSent && !answeredSafety)
      actions.push({ kind: 'addEarlyStep' });
  }
  // After a disclosure the safety message is the answer; a cheerful acknowledgement would jar.
  if (!answeredSafety && !unclear && reading.band === 'none')
    actions.push({ kind: 'send', template: ack(rating), message: 'system' });
  return actions;
}

/**
 * LANGUAGE ES / ESPANOL: switch, and confirm in the new language. A bare LANGUAGE / IDIOMA (or a
 * language the program is not written in): how to choose, in the other language (the one of the
 * word used when it is not the person's own), so someone who cannot read their current language
 * still learns the words that switch.
 */
function decideLanguage(ctx: ReplyContext, reading: Reading): Action[] {
  const locales = ctx.locales ?? [];
  const current = ctx.locale ?? locales[0] ?? 'en';
  const target = reading.language;
  if (target !== undefined && locales.includes(target))
    return [
      { kind: 'setLocale', locale: target },
      { kind: 'send', template: 'language_confirm', message: 'system' },
    ];
  const asked = reading.locale;
  const other =
    asked !== undefined && asked !== current && locales.includes(asked)
      ? asked
      : (locales.find((l) => l !== current) ?? current);
  return [{ kind: 'send', template: 'language_menu', message: 'system', vars: { locale: other } }];
}

/** The rule name an unverified sender's items carry (flag `matched`, opt-out question `rule`). */
export const SENDER_UNVERIFIED = 'sender:unverified';

/**
 * A reply the receiving mail server could not tie to its From address (DMARC failed, or DKIM and
 * SPF both did): anyone who knows the reply address could have written it. Nothing in it is acted
 * on automatically (no opt-out, no safety message, no hold, no keyword, no check-in answer); what
 * would have been acted on goes to an operator instead. A disclosure becomes an `ask` flag marked
 * `sender:unverified` (operators are alerted when it would have been `act`; *Mark danger* then
 * sends the safety message and holds, as for any ask), and a STOP or any other opt-out wording an
 * opt-out question, settled by an operator or at its deadline like the others.
 */
function unverifiedSender(ctx: ReplyContext, reading: Reading): Action[] {
  const known = ctx.subscriber;
  if (!known) return [];
  const actions: Action[] = [];
  const concern = reading.band === 'ask' ? reading.concern : [];
  for (const category of [...new Set([...reading.safety, ...concern])])
    actions.push({
      kind: 'flag',
      category,
      band: 'ask',
      matched: [...reading.matched.filter((m) => m.startsWith(category + ':')), SENDER_UNVERIFIED],
      risk: reading.risk[category],
      why: reading.why,
      unverified: reading.safety.includes(category) ? 'alert' : 'review',
    });
  const stop = reading.intent === 'stop';
  if ((stop || reading.optOutUnclear === true) && known.status !== 'stopped') {
    const said = stop
      ? (reading.matched.find((m) => m.startsWith('optout:'))?.slice('optout:'.length) ?? 'stop')
      : optOutRule(reading);
    actions.push({ kind: 'optOutQuery', rule: `${said} ${SENDER_UNVERIFIED}` });
  }
  return actions;
}

const lapsed = (status: SubscriberState) => status === 'stopped' || status === 'expired';
const lapsedYes = (status: SubscriberState, intent: string) => lapsed(status) && intent === 'yes';
const lapsedJoin = (status: SubscriberState, intent: string) => lapsed(status) && intent === 'join';

function optOutRule(reading: Reading): string {
  const m = reading.matched.find((x) => x.startsWith('optout-unclear:'));
  return m ? m.slice('optout-unclear:'.length) : 'unclear';
}
