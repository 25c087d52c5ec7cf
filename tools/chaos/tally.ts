// The verdict. The fake provider's log is the truth about what went out; PostgreSQL says what the
// service believes. Every message id reaches the fake in its status-callback URL (?m=<id>).
//   delivered  due program messages the provider accepted
//   duplicates extra copies of a program message at the provider (same id, or same person+step)
//   unknown    due messages the provider never got, left `unknown` (a worker died mid-send)
//   lost       due messages neither delivered nor unknown (never created, stuck, failed)
//   safety     disclosers who got their safety message (at least once: copies are counted apart)
import pg from 'pg';
import type { FakeTwilioMessage } from '../../tests/support/fake-twilio.ts';
import { harnessUrl } from './database.ts';

export interface Tally {
  due: number;
  delivered: number;
  duplicates: number;
  lost: number;
  unknown: number;
  safety_sent: number;
  safety_expected: number;
  seconds: number;
  safety_duplicates: number;
  /** Provider messages that name no message row we know (should be 0). */
  strays: number;
  /** Due messages by final status in the database (after the status callbacks). */
  statuses: Record<string, number>;
}

interface Row {
  id: string;
  enrollmentId: string | null;
  subscriberId: string | null;
  step: string | null;
  template: string | null;
  status: string;
}

export function messageIdOf(m: FakeTwilioMessage): string | null {
  const id = m.statusCallback ? new URL(m.statusCallback).searchParams.get('m') : null;
  return id && /^[0-9a-f-]{36}$/.test(id) ? id : null;
}

export async function tally(
  databaseUrl: string,
  fake: FakeTwilioMessage[],
  seeded: { dueEnrollments: string[]; disclosers: { subscriberId: string }[] },
  seconds: number,
): Promise<Tally> {
  const client = new pg.Client({ connectionString: harnessUrl(databaseUrl) });
  await client.connect();
  let rows: Row[];
  try {
    rows = (
      await client.query<Row>(
        `SELECT id, "enrollmentId", "subscriberId", step, template, status::text AS status FROM messages WHERE direction = 'out'`,
      )
    ).rows;
  } finally {
    await client.end();
  }
  const byId = new Map(rows.map((r) => [r.id, r]));
  const due = new Set(seeded.dueEnrollments);
  const disclosers = new Set(seeded.disclosers.map((d) => d.subscriberId));

  const copies = new Map<string, number>();
  const perPersonStep = new Map<string, number>();
  let strays = 0;
  for (const m of fake) {
    const id = messageIdOf(m);
    const row = id ? byId.get(id) : undefined;
    if (!id || !row) {
      strays++;
      continue;
    }
    copies.set(id, (copies.get(id) ?? 0) + 1);
    if (row.step)
      perPersonStep.set(`${m.to}|${row.step}`, (perPersonStep.get(`${m.to}|${row.step}`) ?? 0) + 1);
  }

  const program = rows.filter((r) => r.step && r.enrollmentId && due.has(r.enrollmentId));
  const statuses: Record<string, number> = {};
  let delivered = 0;
  let unknown = 0;
  let duplicateCopies = 0;
  for (const r of program) {
    statuses[r.status] = (statuses[r.status] ?? 0) + 1;
    const n = copies.get(r.id) ?? 0;
    if (n > 0) delivered++;
    else if (r.status === 'unknown') unknown++;
    duplicateCopies += Math.max(0, n - 1);
  }
  const duplicatePeople = [...perPersonStep.values()].reduce((s, n) => s + Math.max(0, n - 1), 0);

  const safetyRows = rows.filter(
    (r) => r.template?.startsWith('safety_') && r.subscriberId && disclosers.has(r.subscriberId),
  );
  const safetyReached = new Set(
    safetyRows.filter((r) => (copies.get(r.id) ?? 0) > 0).map((r) => r.subscriberId),
  );
  const safetyDuplicates = safetyRows.reduce(
    (s, r) => s + Math.max(0, (copies.get(r.id) ?? 0) - 1),
    0,
  );

  return {
    due: due.size,
    delivered,
    duplicates: Math.max(duplicateCopies, duplicatePeople),
    lost: due.size - delivered - unknown,
    unknown,
    safety_sent: safetyReached.size,
    safety_expected: disclosers.size,
    seconds,
    safety_duplicates: safetyDuplicates,
    strays,
    statuses,
  };
}

export function passed(t: Tally): boolean {
  return (
    t.duplicates === 0 &&
    t.lost === 0 &&
    t.unknown < t.due * 0.01 &&
    t.safety_sent === t.safety_expected &&
    t.strays === 0
  );
}
