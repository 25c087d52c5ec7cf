// Seeding enrolled people straight into the tables, many rows per statement (unnest of arrays):
// the benchmark needs 100k-1M subscribers in seconds, not the enrolment flow once per person.
// Rows look like production's: an active subscriber, an active SMS enrollment at some step of the
// real program, started the right number of days ago for that step to be due today.
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { Program } from '../content/types.ts';
import { orderedSteps } from '../core/program.ts';

const DAY = 86_400_000;

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
  /** How many people, numbered from `first` (their phone is benchPhone(first + i)). */
  count: number;
  first?: number;
  phone?: (i: number) => string;
  /** Person i lives in timezones[i mod length]. */
  timezones: readonly string[];
  /** When person i's next step is due. */
  dueAt: (i: number) => Date;
}

/**
 * Inserts subscribers and their enrollments. Person i is at step i mod (program steps), started
 * that step's day count before its due time, so the scheduler treats the step as today's.
 * Returns the subscriber ids.
 */
export async function seedEnrolled(
  pool: pg.Pool,
  program: Program,
  plan: SeedPlan,
  chunk = 25_000,
): Promise<string[]> {
  const steps = orderedSteps(program);
  const first = plan.first ?? 0;
  const phoneOf = plan.phone ?? ((i: number) => benchPhone(first + i));
  const now = new Date();
  const all: string[] = [];
  for (let from = 0; from < plan.count; from += chunk) {
    const size = Math.min(chunk, plan.count - from);
    const ids: string[] = [];
    const phones: string[] = [];
    const zones: string[] = [];
    const stepKeys: string[] = [];
    const due: Date[] = [];
    const started: Date[] = [];
    for (let k = 0; k < size; k++) {
      const i = from + k;
      const step = steps[i % steps.length]!;
      const at = plan.dueAt(i);
      ids.push(randomUUID());
      phones.push(phoneOf(i));
      zones.push(plan.timezones[i % plan.timezones.length]!);
      stepKeys.push(step.key);
      due.push(at);
      // An instant on the start day: step.day days before the due day (fixed-offset zones).
      started.push(new Date(at.getTime() - step.day * DAY));
    }
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(
        `INSERT INTO subscribers (id, phone, timezone, locale, country, status, "createdAt", "updatedAt")
         SELECT id, phone, zone, 'en', 'US', 'active', $4, $4 FROM unnest($1::uuid[], $2::text[], $3::text[]) AS u(id, phone, zone)`,
        [ids, phones, zones, now],
      );
      await client.query(
        `INSERT INTO enrollments (id, "subscriberId", program, channel, state, "nextStep", "nextRunAt", "startedAt", "createdAt", "updatedAt")
         SELECT gen_random_uuid(), sid, $2, 'sms', 'active', step, run_at, started, $6, $6
         FROM unnest($1::uuid[], $3::text[], $4::timestamptz[], $5::timestamptz[]) AS u(sid, step, run_at, started)`,
        [ids, program.key, stepKeys, due, started, now],
      );
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
    all.push(...ids);
  }
  return all;
}
