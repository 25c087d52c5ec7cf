// Seeds an experiment's outcomes as rows (people, their variant's message, their next check-in),
// for the statistics tests: fast, and with exactly known counts.
import { randomUUID } from 'node:crypto';
import type { Db } from '../../src/db/client.ts';

export interface SeedArm {
  variant: string;
  people: number;
  /** How many of them answered the next check-in within its window. */
  replied: number;
  /** The rating each who answered gave. */
  rating?: number;
  /** How many opted out within 48 h of the send. */
  optedOut?: number;
}

/** A send at `sentAt`, a check-in opened 6 days later and closed 2 days after that. */
export async function seedExperiment(
  db: Db,
  opts: { program: string; step: string; sentAt: Date; arms: SeedArm[] },
): Promise<void> {
  const day = 86_400_000;
  const rows = opts.arms.flatMap((arm) =>
    Array.from({ length: arm.people }, (_, i) => ({
      sub: randomUUID(),
      enr: randomUUID(),
      msg: randomUUID(),
      chk: randomUUID(),
      email: `exp-${randomUUID()}@example.com`,
      variant: arm.variant,
      answered: i < arm.replied,
      rating: i < arm.replied ? (arm.rating ?? 4) : null,
      optedOut: i >= arm.people - (arm.optedOut ?? 0),
    })),
  );
  const sent = opts.sentAt;
  const opened = new Date(sent.getTime() + 6 * day);
  const closes = new Date(opened.getTime() + 2 * day);
  const answered = new Date(opened.getTime() + 2 * 3600_000);
  await db.$transaction(async (tx) => {
    await tx.$executeRaw`
      INSERT INTO subscribers (id, email, timezone, status, "createdAt", "updatedAt")
      SELECT s, e, 'America/New_York', 'active', ${sent}, ${sent}
      FROM unnest(${rows.map((r) => r.sub)}::uuid[], ${rows.map((r) => r.email)}::text[]) AS u(s, e)`;
    await tx.$executeRaw`
      INSERT INTO enrollments (id, "subscriberId", program, channel, state, "startedAt", "createdAt", "updatedAt")
      SELECT e, s, ${opts.program}, 'email', 'active', ${sent}, ${sent}, ${sent}
      FROM unnest(${rows.map((r) => r.enr)}::uuid[], ${rows.map((r) => r.sub)}::uuid[]) AS u(e, s)`;
    await tx.$executeRaw`
      INSERT INTO messages (id, "subscriberId", "enrollmentId", channel, direction, kind, step, template,
                            status, variant, "sentAt", "createdAt", "updatedAt")
      SELECT m, s, e, 'email', 'out', 'nudge', ${opts.step}, ${opts.step}, 'delivered', v, ${sent}, ${sent}, ${sent}
      FROM unnest(${rows.map((r) => r.msg)}::uuid[], ${rows.map((r) => r.sub)}::uuid[],
                  ${rows.map((r) => r.enr)}::uuid[], ${rows.map((r) => r.variant)}::text[]) AS u(m, s, e, v)`;
    await tx.$executeRaw`
      INSERT INTO checkins (id, "enrollmentId", "messageId", step, week, "openedAt", "closesAt", "answeredAt", rating)
      SELECT gen_random_uuid(), e, c, 'checkin', 1, ${opened}, ${closes},
             CASE WHEN a THEN ${answered}::timestamptz END, r
      FROM unnest(${rows.map((r) => r.enr)}::uuid[], ${rows.map((r) => r.chk)}::uuid[],
                  ${rows.map((r) => r.answered)}::boolean[], ${rows.map((r) => r.rating)}::int[]) AS u(e, c, a, r)`;
    const out = rows.filter((r) => r.optedOut);
    if (out.length)
      await tx.$executeRaw`
        INSERT INTO consent_events (id, "subscriberId", channel, kind, source, evidence, at)
        SELECT gen_random_uuid(), s, 'email', 'opt_out', 'test', '{}'::jsonb, ${new Date(sent.getTime() + 3600_000)}
        FROM unnest(${out.map((r) => r.sub)}::uuid[]) AS u(s)`;
  });
}
