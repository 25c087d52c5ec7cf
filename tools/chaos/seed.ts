// Seeds the chaos database directly with multi-row inserts: `n` active subscribers whose first
// program step is due now, and the people who will write in with a disclosure (enrolled, their
// next step tomorrow, so the only thing they can receive during the run is a safety message).
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { Program } from '../../src/content/types.ts';
import { harnessUrl } from './database.ts';

export interface Seeded {
  dueEnrollments: string[];
  disclosers: { subscriberId: string; phone: string }[];
  /** Time zone whose local time is around midday now, so no step falls in quiet hours. */
  timezone: string;
  step: string;
}

// Real area codes with the fictional 555-01XX lines: valid numbers that reach no one.
const AREAS = [
  '202',
  '206',
  '212',
  '213',
  '214',
  '303',
  '305',
  '312',
  '313',
  '404',
  '407',
  '412',
  '415',
  '503',
  '512',
];

export function disclosurePhone(i: number): string {
  const area = AREAS[Math.floor(i / 100) % AREAS.length] ?? '202';
  return `+1${area}55501${String(i % 100).padStart(2, '0')}`;
}

/** An Etc/GMT zone where it is about 13:00 now (Etc/GMT-9 is UTC+9: the sign is inverted). */
export function middayZone(now: Date): string {
  let offset = 13 - now.getUTCHours();
  if (offset > 14) offset -= 24;
  if (offset < -12) offset += 24;
  return offset === 0 ? 'Etc/GMT' : `Etc/GMT${offset > 0 ? '-' : '+'}${Math.abs(offset)}`;
}

async function insertRows(
  client: pg.Client,
  table: string,
  columns: string[],
  rows: unknown[][],
): Promise<void> {
  const quoted = columns.map((c) => `"${c}"`).join(', ');
  for (let start = 0; start < rows.length; start += 1000) {
    const chunk = rows.slice(start, start + 1000);
    const params: unknown[] = [];
    const tuples = chunk.map(
      (row) => `(${row.map((v) => (params.push(v), `$${params.length}`)).join(', ')})`,
    );
    await client.query(`INSERT INTO ${table} (${quoted}) VALUES ${tuples.join(', ')}`, params);
  }
}

export async function seed(
  databaseUrl: string,
  program: Program,
  n: number,
  disclosures: number,
  now = new Date(),
): Promise<Seeded> {
  const first = [...program.steps].sort((a, b) => a.day - b.day || a.at.localeCompare(b.at))[0];
  if (!first) throw new Error(`program ${program.key} has no steps`);
  const timezone = middayZone(now);
  const started = new Date(now.getTime() - 86400_000);
  const dueAt = new Date(now.getTime() - 1000);
  const tomorrow = new Date(now.getTime() + 86400_000);
  const subscribers: unknown[][] = [];
  const enrollments: unknown[][] = [];
  const dueEnrollments: string[] = [];
  const disclosers: Seeded['disclosers'] = [];
  for (let i = 0; i < n + disclosures; i++) {
    const due = i < n;
    const subId = randomUUID();
    const enrId = randomUUID();
    // Due subscribers only ever receive; their numbers need to be unique, not valid.
    const phone = due ? `+1303${String(2000000 + i).padStart(7, '0')}` : disclosurePhone(i - n);
    subscribers.push([subId, phone, timezone, 'en', 'US', 'active', now, now]);
    enrollments.push([
      enrId,
      subId,
      program.key,
      'sms',
      'active',
      first.key,
      due ? dueAt : tomorrow,
      started,
      now,
      now,
    ]);
    if (due) dueEnrollments.push(enrId);
    else disclosers.push({ subscriberId: subId, phone });
  }
  const client = new pg.Client({ connectionString: harnessUrl(databaseUrl) });
  await client.connect();
  try {
    await insertRows(
      client,
      'subscribers',
      ['id', 'phone', 'timezone', 'locale', 'country', 'status', 'createdAt', 'updatedAt'],
      subscribers,
    );
    await insertRows(
      client,
      'enrollments',
      [
        'id',
        'subscriberId',
        'program',
        'channel',
        'state',
        'nextStep',
        'nextRunAt',
        'startedAt',
        'createdAt',
        'updatedAt',
      ],
      enrollments,
    );
  } finally {
    await client.end();
  }
  return { dueEnrollments, disclosers, timezone, step: first.key };
}
