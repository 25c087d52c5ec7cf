// The email course sign-up: checks the form, then enrolls (pending) and asks for confirmation.
// The caller answers the same "check your inbox" whatever happened here, so nobody can learn from
// the answer whether an address is already subscribed.
import type { ProgramRegistry } from '../content/programs.ts';
import type { Deps } from '../deps.ts';
import { isValidTimezone } from '../core/schedule.ts';
import { recordConsent, type Evidence } from '../flows/consent.ts';
import { enroll, EnrollError, normalizeEmail, requestConfirmation } from '../flows/enroll.ts';
import { enqueueSends } from '../flows/outbound.ts';

export interface SignupForm {
  email: string;
  firstName?: string;
  timezone: string;
  /** A live program's key (the form's `program` field); absent: the default program. */
  program?: string;
  /** The form's `language` field: a locale of that program; absent: its default language. */
  locale?: string;
}

export type SignupField = 'email' | 'firstName' | 'timezone' | 'program' | 'language';

export type SignupCheck =
  { ok: true; value: SignupForm } | { ok: false; field: SignupField; message: string };

export const MAX_NAME = 60;

/** Reads and checks the submitted fields (form or JSON). `fallbackZone` fills an empty zone;
 * `programs` checks the program and language fields (absent or empty: the default ones). */
export function readSignup(
  body: unknown,
  fallbackZone: string,
  programs?: ProgramRegistry,
): SignupCheck {
  const b = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  const email = normalizeEmail(str(b.email));
  if (!email)
    return {
      ok: false,
      field: 'email',
      message: 'Please enter an email address like name@example.com.',
    };
  // Names only ever go into message bodies, but control characters (a line break above all) have
  // no business in a name: they are turned into spaces before anything stores them.
  const firstName = str(b.firstName)
    .replace(/[\p{Cc}\p{Zl}\p{Zp}]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  if (firstName.length > MAX_NAME)
    return {
      ok: false,
      field: 'firstName',
      message: `Please keep the first name under ${MAX_NAME} characters (or leave it empty).`,
    };
  const timezone = str(b.timezone).trim() || fallbackZone;
  if (timezone.length > 64 || !isValidTimezone(timezone))
    return {
      ok: false,
      field: 'timezone',
      message: `"${timezone.slice(0, 64)}" is not a time zone we know. Pick one from the list, such as America/Chicago.`,
    };
  const programKey = str(b.program).trim();
  const program = programKey ? programs?.get(programKey) : programs?.default;
  if (programKey && !program)
    return {
      ok: false,
      field: 'program',
      message: 'That course is not offered here. Please start again from the sign-up page.',
    };
  const locale = str(b.language).trim();
  if (locale && program && !program.locales[locale])
    return {
      ok: false,
      field: 'language',
      message: `Please pick one of the languages offered: ${Object.keys(program.locales).join(', ')}.`,
    };
  return {
    ok: true,
    value: {
      email,
      firstName: firstName || undefined,
      timezone,
      ...(programKey ? { program: programKey } : {}),
      ...(locale ? { locale } : {}),
    },
  };
}

export type SignupOutcome = 'asked_to_confirm' | 'already_active' | 'refused';

/**
 * Enrolls the person as pending and queues the confirmation email. Someone already active gets
 * nothing new; a pending person at most one confirmation a day (enroll's dedupe key); someone who
 * once unsubscribed (or never confirmed in time) becomes pending again and must confirm again.
 */
export async function signUp(
  deps: Pick<Deps, 'db' | 'queues' | 'clock' | 'config' | 'programs' | 'log'>,
  form: SignupForm,
  evidence: Evidence,
): Promise<SignupOutcome> {
  let subscriberId: string;
  try {
    const r = await enroll(deps, {
      email: form.email,
      firstName: form.firstName,
      timezone: form.timezone,
      ...(form.program ? { program: form.program } : {}),
      ...(form.locale ? { locale: form.locale } : {}),
      confirm: false,
      evidence,
    });
    subscriberId = r.subscriberId;
  } catch (err) {
    // A refused address (e.g. suppressed) gets the same answer as everyone else.
    if (err instanceof EnrollError) return 'refused';
    throw err;
  }
  const now = deps.clock.now();
  const sub = await deps.db.subscriber.findUniqueOrThrow({
    where: { id: subscriberId },
    select: {
      status: true,
      enrollments: {
        where: { program: form.program ?? deps.programs.default.key, channel: 'email' },
        select: { id: true },
      },
    },
  });
  if (sub.status === 'active') return 'already_active';
  const enrollmentId = sub.enrollments[0]?.id;
  if ((sub.status === 'stopped' || sub.status === 'expired') && enrollmentId) {
    // enroll() asks only new or pending people. A returning one asked again: they are pending
    // once more (nothing but the confirmation may be sent) until they click the new link.
    const ask = await deps.db.$transaction(async (tx) => {
      await tx.subscriber.update({ where: { id: subscriberId }, data: { status: 'pending' } });
      await recordConsent(tx, subscriberId, 'email', 'opt_in', evidence, now);
      return requestConfirmation(tx, deps, subscriberId, enrollmentId, 'email', now);
    });
    if (ask) await enqueueSends(deps.queues, [ask], now);
  }
  return 'asked_to_confirm';
}
