// Business days for the FCC's revocation deadline (47 CFR 64.1200(a)(10): honour a revocation
// within 10 business days). Counted in US Eastern time, Monday to Friday. Federal holidays are not
// subtracted: counting them as business days only makes the deadline come sooner, never later.
// Pure: the caller passes both instants.
import { DateTime } from 'luxon';

const ZONE = 'America/New_York';

/** Whole business days from `from` to `to` (0 on the same day, 1 on the next weekday, ...). */
export function businessDaysBetween(from: Date, to: Date): number {
  let day = DateTime.fromJSDate(from, { zone: ZONE }).startOf('day');
  const end = DateTime.fromJSDate(to, { zone: ZONE }).startOf('day');
  let count = 0;
  while (day < end) {
    day = day.plus({ days: 1 });
    if (day.weekday <= 5) count += 1;
  }
  return count;
}

/** The end of the business day `days` business days after `from`. */
export function addBusinessDays(from: Date, days: number): Date {
  let day = DateTime.fromJSDate(from, { zone: ZONE }).startOf('day');
  let left = days;
  while (left > 0) {
    day = day.plus({ days: 1 });
    if (day.weekday <= 5) left -= 1;
  }
  return day.endOf('day').toJSDate();
}
