// Seeding enrolled people straight into the tables, many rows per statement (unnest of arrays):
// the benchmark needs 100k-1M subscribers in seconds, not the enrolment flow once per person.
// Rows look like production's: an active subscriber, an active SMS enrollment at some step of the
// real program, started the right number of days ago for that step to be due today.
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import type { Program } from '../content/types.ts';
import { orderedSteps } from '../core/program.ts';

/** Numbers the benchmark sends to. They only ever reach the local fake provider. */
export const benchPhone = (i: number): string => `+1${2012000000 + i}`;
export const ceilingPhone = benchPhone;

/** Fictional numbers (555-01XX) behind real area codes: they pass the webhook's phone check. */
const AREAS = ['202', '206', '212', '213', '303', '312', '404', '415', '503', '617'];
export function replierPhone(i: number): string {
  const area = AREAS[Math.floor(i / 100) % AREAS.length]!;
  return `+1${area}55501${String(i % 100).padStart(2, '0')}`;
}

// Real zones around the world; a run uses those where it is daytime now (see daytimeZones).
const ZONES = [
  'America/New_York',
  'America/Chicago',
  'America/Denver',
  'America/Phoenix',
  'America/Los_Angeles',
  'America/Anchorage',
  'Pacific/Honolulu',
  'America/Toronto',
  'America/Halifax',
  'America/St_Johns',
  'America/Mexico_City',
  'America/Bogota',
  'America/Sao_Paulo',
  'Atlantic/Azores',
  'Europe/London',
  'Europe/Berlin',
  'Europe/Athens',
  'Europe/Moscow',
  'Africa/Lagos',
  'Africa/Nairobi',
  'Asia/Dubai',
  'Asia/Karachi',
  'Asia/Kolkata',
  'Asia/Dhaka',
  'Asia/Bangkok',
  'Asia/Shanghai',
  'Asia/Manila',
  'Asia/Tokyo',
  'Asia/Seoul',
  'Australia/Perth',
  'Australia/Sydney',
  'Pacific/Auckland',
];

function localHour(now: Date, zone: string): number {
  return Number(
    new Intl.DateTimeFormat('en-US', { timeZone: zone, hour: 'numeric', hourCycle: 'h23' }).format(
      now,
    ),
  );
}

/**
 * Zones where it is daytime now (09:00-17:59 local), so a run is never held back by quiet hours
 * whatever time of day the benchmark starts, and people are spread over several zones as in
 * production. Falls back to a fixed-offset zone in the early afternoon (Etc/GMT-3 is UTC+3).
 */
export function daytimeZones(now: Date): string[] {
  const zones = ZONES.filter((z) => {
    const h = localHour(now, z);
    return h >= 9 && h < 18;
  });
  if (zones.length) return zones;
  let offset = 13 - now.getUTCHours();
  if (offset > 14) offset -= 24;
  if (offset < -12) offset += 24;
  return [offset === 0 ? 'Etc/GMT' : `Etc/GMT${offset > 0 ? '-' : '+'}${Math.abs(offset)}`];
}

export interface SeedPlan {
  /** How many people; person i's phone is benchPhone(i) unless `phones` names them. */
  count: number;
  phones?: readonly string[];
  /** Person i lives in timezones[i mod length]. */
  timezones: readonly string[];
  /** When their next step is due... */
  due: Date;
  /** ...except that only every `every`-th person is: the others are due `spreadHours` hours
   * from `from` (idle people, spread over the weeks ahead). */
  idle?: { every: number; from: Date; spreadHours: number };
}

/**
 * Inserts subscribers and their enrollments, set-based: INSERT ... SELECT over the people's
 * numbers, the phone list as an unnest array, in chunks of `chunk` rows per statement. Ids are
 * random per run but ascending within it, so the primary-key and foreign-key indexes grow at
 * their right edge (random UUIDs made 1M rows take minutes, most of it index page writes).
 * Person i is at step i mod (program steps), started that step's day count before its due time,
 * so the scheduler treats the step as today's.
 */
export async function seedEnrolled(
  pool: pg.Pool,
  program: Program,
  plan: SeedPlan,
  chunk = 100_000,
): Promise<void> {
  const steps = orderedSteps(program);
  const subscriberPrefix = randomBytes(4).toString('hex');
  const enrollmentPrefix = randomBytes(4).toString('hex');
  const now = new Date();
  for (let first = 0; first < plan.count; first += chunk) {
    const size = Math.min(chunk, plan.count - first);
    const phones = Array.from(
      { length: size },
      (_, k) => plan.phones?.[first + k] ?? benchPhone(first + k),
    );
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      // u.i is the person's number; ids are "<run prefix>-0000-4000-8000-<number in hex>".
      await client.query(
        `INSERT INTO subscribers (id, phone, timezone, locale, country, status, "createdAt", "updatedAt")
         SELECT ($3 || '-0000-4000-8000-' || lpad(to_hex(u.i), 12, '0'))::uuid, u.phone,
                ($4::text[])[1 + u.i % cardinality($4::text[])], 'en', 'US', 'active', $5, $5
         FROM (SELECT phone, $2::bigint + ord - 1 AS i FROM unnest($1::text[]) WITH ORDINALITY AS p(phone, ord)) AS u`,
        [phones, first, subscriberPrefix, plan.timezones, now],
      );
      await client.query(
        `INSERT INTO enrollments (id, "subscriberId", program, channel, state, "nextStep", "nextRunAt", "startedAt",
                                  "createdAt", "updatedAt")
         SELECT ($4 || '-0000-4000-8000-' || lpad(to_hex(d.i), 12, '0'))::uuid,
                ($3 || '-0000-4000-8000-' || lpad(to_hex(d.i), 12, '0'))::uuid,
                $5, 'sms', 'active', d.step, d.due, d.due - d.day * interval '1 day', $12, $12
         FROM (SELECT i, ($6::text[])[1 + i % cardinality($6::text[])] AS step,
                      ($7::int[])[1 + i % cardinality($7::int[])] AS day,
                      CASE WHEN $9::int > 0 AND i % $9::int <> 0
                           THEN $10::timestamptz + ((i * 7919) % $11::int) * interval '1 hour'
                           ELSE $8::timestamptz END AS due
               FROM generate_series($1::bigint, $1::bigint + $2::bigint - 1) AS i) AS d`,
        [
          first,
          size,
          subscriberPrefix,
          enrollmentPrefix,
          program.key,
          steps.map((st) => st.key),
          steps.map((st) => st.day),
          plan.due,
          plan.idle?.every ?? 0,
          plan.idle?.from ?? plan.due,
          plan.idle?.spreadHours ?? 1,
          now,
        ],
      );
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }
}
