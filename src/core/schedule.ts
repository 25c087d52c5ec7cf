// When does a program step go out? Pure: the subscriber's zone, the program's local times, quiet
// hours and "now" come in as arguments.
//
// Local time rules:
// - A step is "day D at HH:MM local" counted from the local day the person started, so a 9:00
//   nudge stays at 9:00 across daylight-saving changes.
// - A local time that does not exist (spring-forward gap) moves forward by the gap (02:30 -> 03:30,
//   luxon's rule); one that exists twice (fall-back) is its first occurrence (our rule, in atLocal).
//   Both are pinned by tests so a library upgrade cannot change them silently.
// - Never in quiet hours (default 21:00-08:00 local): a time inside them moves to the end of them.
// - At most one program message per local day: a step planned for a day that already had one
//   moves to the next day at the same local time.
import { DateTime } from 'luxon';
import type { ProgramStep } from '../content/types.ts';

export interface QuietHours {
  start: string; // "21:00"
  end: string; // "08:00"
}

export interface SendContext {
  timezone: string;
  /** Local date (YYYY-MM-DD) of the day the person started the program. */
  startDay: string;
  /** Hour the subscriber asked for (TIME 7pm); replaces the step's own time when set. */
  preferredHour?: number | null;
  quiet: QuietHours;
  /** Local date of the last program message, if any. */
  lastSentDay?: string | null;
}

const minutes = (hhmm: string): number => {
  const [h, m] = hhmm.split(':').map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
};

/** True when the local wall-clock minute-of-day falls inside quiet hours (which may wrap midnight). */
export function inQuietHours(local: DateTime, quiet: QuietHours): boolean {
  const m = local.hour * 60 + local.minute;
  const s = minutes(quiet.start);
  const e = minutes(quiet.end);
  if (s === e) return false;
  return s < e ? m >= s && m < e : m >= s || m < e;
}

/** The first moment at or after `local` that is outside quiet hours. */
export function outOfQuietHours(local: DateTime, quiet: QuietHours): DateTime {
  if (!inQuietHours(local, quiet)) return local;
  const [eh, em] = quiet.end.split(':').map(Number);
  let end = local.set({ hour: eh ?? 8, minute: em ?? 0, second: 0, millisecond: 0 });
  if (end <= local) end = end.plus({ days: 1 });
  return end;
}

/**
 * Quiet hours checked at the moment of sending: null when `now` is outside the subscriber's quiet
 * hours (send now), otherwise the first instant after them (08:00 local by default), the same end
 * the scheduler moves a claimed step to. A zone luxon cannot read is judged in `fallbackZone`.
 */
export function quietUntil(
  now: Date,
  timezone: string,
  quiet: QuietHours,
  fallbackZone = 'UTC',
): Date | null {
  let local = DateTime.fromJSDate(now, { zone: timezone });
  if (!local.isValid) local = DateTime.fromJSDate(now, { zone: fallbackZone });
  if (!inQuietHours(local, quiet)) return null;
  return outOfQuietHours(local, quiet).toJSDate();
}

/** Local start day (YYYY-MM-DD) of an instant in a zone. */
export function localDay(at: Date, timezone: string): string {
  return DateTime.fromJSDate(at, { zone: timezone }).toISODate() ?? '';
}

function stepTime(
  step: ProgramStep,
  preferredHour?: number | null,
): { hour: number; minute: number } {
  if (preferredHour !== undefined && preferredHour !== null)
    return { hour: preferredHour, minute: 0 };
  const [hour, minute] = step.at.split(':').map(Number);
  return { hour: hour ?? 9, minute: minute ?? 0 };
}

/** The local wall-clock time on a given local date, resolved to an instant in the zone. */
export function atLocal(date: string, hour: number, minute: number, timezone: string): DateTime {
  const [y, mo, d] = date.split('-').map(Number);
  const dt = DateTime.fromObject(
    { year: y, month: mo, day: d, hour, minute, second: 0, millisecond: 0 },
    { zone: timezone },
  );
  // A wall time that happens twice (fall-back) resolves to its first occurrence: look for the
  // same wall time 30 or 60 minutes earlier.
  for (const back of [60, 30]) {
    const earlier = dt.minus({ minutes: back });
    if (earlier.hour === hour && earlier.minute === minute && earlier.day === dt.day)
      return earlier;
  }
  return dt;
}

/**
 * When a step is planned: its day and local time, moved out of quiet hours and past the last day
 * that already had a program message.
 */
export function plannedAt(step: ProgramStep, ctx: SendContext): Date {
  const { hour, minute } = stepTime(step, ctx.preferredHour);
  const day = DateTime.fromISO(ctx.startDay, { zone: ctx.timezone }).plus({ days: step.day });
  let local = atLocal(day.toISODate() ?? ctx.startDay, hour, minute, ctx.timezone);
  local = outOfQuietHours(local, ctx.quiet);
  if (ctx.lastSentDay && (local.toISODate() ?? '') <= ctx.lastSentDay) {
    const next = DateTime.fromISO(ctx.lastSentDay, { zone: ctx.timezone }).plus({ days: 1 });
    local = outOfQuietHours(atLocal(next.toISODate() ?? '', hour, minute, ctx.timezone), ctx.quiet);
  }
  return local.toJSDate();
}

export type ClaimDecision =
  | { kind: 'send'; localDay: string }
  | { kind: 'defer'; until: Date; reason: 'quiet_hours' | 'too_late' | 'already_sent_today' };

/**
 * A due step was claimed at `now`: send it now, or move it to the next allowed window. A step more
 * than `catchupHours` late (the service was down) is not sent in a burst: it goes out at its own
 * local time on the next allowed day.
 */
export function decideClaim(
  step: ProgramStep,
  due: Date,
  now: Date,
  ctx: SendContext & { catchupHours: number },
): ClaimDecision {
  const local = DateTime.fromJSDate(now, { zone: ctx.timezone });
  const today = local.toISODate() ?? '';
  const { hour, minute } = stepTime(step, ctx.preferredHour);
  const nextWindow = (fromDay: string): Date => {
    // The step's own local time on the first allowed day from `fromDay`, in the future.
    let day = DateTime.fromISO(fromDay, { zone: ctx.timezone });
    for (let i = 0; i < 3; i++) {
      const candidate = outOfQuietHours(
        atLocal(day.toISODate() ?? '', hour, minute, ctx.timezone),
        ctx.quiet,
      );
      if (
        candidate > local &&
        (!ctx.lastSentDay || (candidate.toISODate() ?? '') > ctx.lastSentDay)
      )
        return candidate.toJSDate();
      day = day.plus({ days: 1 });
    }
    return outOfQuietHours(
      atLocal(day.toISODate() ?? '', hour, minute, ctx.timezone),
      ctx.quiet,
    ).toJSDate();
  };
  if (ctx.lastSentDay && today <= ctx.lastSentDay) {
    return { kind: 'defer', until: nextWindow(today), reason: 'already_sent_today' };
  }
  if (now.getTime() - due.getTime() > ctx.catchupHours * 3_600_000) {
    return { kind: 'defer', until: nextWindow(today), reason: 'too_late' };
  }
  if (inQuietHours(local, ctx.quiet)) {
    return {
      kind: 'defer',
      until: outOfQuietHours(local, ctx.quiet).toJSDate(),
      reason: 'quiet_hours',
    };
  }
  return { kind: 'send', localDay: today };
}

/** A zone name Intl accepts (IANA), e.g. for validating a subscriber's choice. */
export function isValidTimezone(tz: string): boolean {
  return DateTime.local().setZone(tz).isValid;
}
