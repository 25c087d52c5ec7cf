// The numbers behind the dashboard, each one query. Windows are in wall-clock time because most of
// these rows are stamped by PostgreSQL's now(), not by the (possibly sped-up) program clock.
import type { Program } from '../../content/types.ts';
import type { Deps } from '../../deps.ts';
import { QUEUE_NAMES } from '../../queues.ts';

const DAY = 86400_000;
const dayKey = (d: Date) => d.toISOString().slice(0, 10);

/** The last `n` UTC days (or Monday-starting weeks), oldest first, as YYYY-MM-DD. */
export function calendar(now: Date, n: number, unit: 'day' | 'week'): string[] {
  const start = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  if (unit === 'week') start.setUTCDate(start.getUTCDate() - ((start.getUTCDay() + 6) % 7));
  const stride = unit === 'week' ? 7 * DAY : DAY;
  return Array.from({ length: n }, (_, i) =>
    dayKey(new Date(start.getTime() - (n - 1 - i) * stride)),
  );
}

export interface EnrollmentsByDay {
  days: string[];
  sms: number[];
  email: number[];
}

export async function enrollmentsByDay(
  deps: Pick<Deps, 'db'>,
  now: Date,
  days = 30,
): Promise<EnrollmentsByDay> {
  const labels = calendar(now, days, 'day');
  const since = new Date(`${labels[0]}T00:00:00Z`);
  const rows = await deps.db.$queryRaw<{ d: string; channel: string; n: number }[]>`
    SELECT to_char(date_trunc('day', "createdAt" AT TIME ZONE 'UTC'), 'YYYY-MM-DD') AS d, channel::text AS channel, count(*)::int AS n
    FROM enrollments WHERE "createdAt" >= ${since} GROUP BY 1, 2`;
  const pick = (ch: string) =>
    labels.map((d) => rows.find((r) => r.d === d && r.channel === ch)?.n ?? 0);
  return { days: labels, sms: pick('sms'), email: pick('email') };
}

export interface StepOutcome {
  step: string;
  week: number | null;
  kind: string;
  sent: number;
  delivered: number;
  failed: number;
  /** Opt-outs whose last program message before leaving was this step. */
  optOuts: number;
}

/** One program's steps (default: the default program): its messages, and the opt-outs of people
 * whose last program message before leaving was one of its steps. */
export async function stepOutcomes(
  deps: Pick<Deps, 'db' | 'programs'>,
  now: Date,
  days = 90,
  program: Program = deps.programs.default,
): Promise<StepOutcome[]> {
  const since = new Date(now.getTime() - days * DAY);
  const [sends, leaves] = await Promise.all([
    deps.db.$queryRaw<{ step: string; sent: number; delivered: number; failed: number }[]>`
      SELECT m.step,
        count(*) FILTER (WHERE m."sentAt" IS NOT NULL)::int AS sent,
        count(*) FILTER (WHERE m.status = 'delivered')::int AS delivered,
        count(*) FILTER (WHERE m.status IN ('failed', 'undelivered'))::int AS failed
      FROM messages m JOIN enrollments e ON e.id = m."enrollmentId"
      WHERE m.direction = 'out' AND m.step IS NOT NULL AND m."createdAt" >= ${since}
        AND e.program = ${program.key}
      GROUP BY m.step`,
    // The message a person saw last before they left: the one that may have made them leave.
    deps.db.$queryRaw<{ step: string | null; n: number }[]>`
      SELECT last.step, count(*)::int AS n
      FROM consent_events c
      LEFT JOIN LATERAL (
        SELECT m.step, e.program FROM messages m JOIN enrollments e ON e.id = m."enrollmentId"
        WHERE m."subscriberId" = c."subscriberId" AND m.direction = 'out' AND m.step IS NOT NULL
          AND m."sentAt" IS NOT NULL AND m."sentAt" <= c.at
        ORDER BY m."sentAt" DESC LIMIT 1) last ON true
      WHERE c.kind = 'opt_out' AND c.at >= ${since}
        AND (last.program = ${program.key}
             OR (last.program IS NULL AND EXISTS (SELECT 1 FROM enrollments x
                 WHERE x."subscriberId" = c."subscriberId" AND x.program = ${program.key})))
      GROUP BY 1`,
  ]);
  const known = new Map(program.steps.map((s) => [s.key, s]));
  const keys = [
    ...program.steps.map((s) => s.key),
    ...sends.map((r) => r.step).filter((k) => !known.has(k)),
  ];
  const out: StepOutcome[] = keys.map((key) => {
    const r = sends.find((x) => x.step === key);
    return {
      step: key,
      week: known.get(key)?.week ?? null,
      kind: known.get(key)?.kind ?? 'extra',
      sent: r?.sent ?? 0,
      delivered: r?.delivered ?? 0,
      failed: r?.failed ?? 0,
      optOuts: leaves.find((x) => x.step === key)?.n ?? 0,
    };
  });
  const before = leaves.find((x) => x.step === null)?.n ?? 0;
  if (before)
    out.unshift({
      step: '(before any program message)',
      week: null,
      kind: '',
      sent: 0,
      delivered: 0,
      failed: 0,
      optOuts: before,
    });
  return out;
}

/** Each live program's figures, named by its key and name (the dashboard's first table and the
 * admin API's /stats). */
export interface ProgramFigures {
  program: string;
  name: string;
  /** Enrollments by state (every state listed, 0 when none). */
  enrollments: Record<
    'pending' | 'active' | 'paused' | 'safety_hold' | 'completed' | 'stopped',
    number
  >;
  /** Program messages (steps) sent, delivered and failed in the window. */
  sent: number;
  delivered: number;
  failed: number;
  /** Check-ins closed or answered: asked, answered, and the mean rating. */
  checkinsAsked: number;
  checkinsAnswered: number;
  meanRating: number | null;
}

const STATES = ['pending', 'active', 'paused', 'safety_hold', 'completed', 'stopped'] as const;

export async function programFigures(
  deps: Pick<Deps, 'db' | 'programs'>,
  now: Date,
  programNow: Date,
  days = 90,
): Promise<ProgramFigures[]> {
  const keys = deps.programs.all().map((p) => p.key);
  const since = new Date(now.getTime() - days * DAY);
  const [states, sends, checkins] = await Promise.all([
    deps.db.$queryRaw<{ program: string; state: string; n: number }[]>`
      SELECT program, state::text AS state, count(*)::int AS n FROM enrollments
      WHERE program = ANY(${keys}::text[]) GROUP BY 1, 2`,
    deps.db.$queryRaw<{ program: string; sent: number; delivered: number; failed: number }[]>`
      SELECT e.program,
        count(*) FILTER (WHERE m."sentAt" IS NOT NULL)::int AS sent,
        count(*) FILTER (WHERE m.status = 'delivered')::int AS delivered,
        count(*) FILTER (WHERE m.status IN ('failed', 'undelivered'))::int AS failed
      FROM messages m JOIN enrollments e ON e.id = m."enrollmentId"
      WHERE m.direction = 'out' AND m.step IS NOT NULL AND m."createdAt" >= ${since}
        AND e.program = ANY(${keys}::text[])
      GROUP BY 1`,
    deps.db.$queryRaw<{ program: string; asked: number; answered: number; mean: number | null }[]>`
      SELECT e.program, count(*)::int AS asked, count(c."answeredAt")::int AS answered,
             avg(c.rating)::float8 AS mean
      FROM checkins c JOIN enrollments e ON e.id = c."enrollmentId"
      WHERE (c."closesAt" <= ${programNow} OR c."answeredAt" IS NOT NULL)
        AND e.program = ANY(${keys}::text[])
      GROUP BY 1`,
  ]);
  return deps.programs.all().map((p) => {
    const send = sends.find((r) => r.program === p.key);
    const c = checkins.find((r) => r.program === p.key);
    return {
      program: p.key,
      name: p.name,
      enrollments: Object.fromEntries(
        STATES.map((st) => [st, states.find((r) => r.program === p.key && r.state === st)?.n ?? 0]),
      ) as ProgramFigures['enrollments'],
      sent: send?.sent ?? 0,
      delivered: send?.delivered ?? 0,
      failed: send?.failed ?? 0,
      checkinsAsked: c?.asked ?? 0,
      checkinsAnswered: c?.answered ?? 0,
      meanRating: c?.mean == null ? null : Math.round(c.mean * 10) / 10,
    };
  });
}

export interface CheckinWeek {
  week: number;
  asked: number;
  answered: number;
  replyRate: number | null;
  meanRating: number | null;
}

export async function checkinsByWeek(
  deps: Pick<Deps, 'db'>,
  programNow: Date,
): Promise<CheckinWeek[]> {
  // Open check-ins are left out, so a week that is still running does not look ignored.
  const rows = await deps.db.$queryRaw<
    { week: number; asked: number; answered: number; mean: number | null }[]
  >`
    SELECT week, count(*)::int AS asked, count("answeredAt")::int AS answered, avg(rating)::float8 AS mean
    FROM checkins WHERE "closesAt" <= ${programNow} OR "answeredAt" IS NOT NULL
    GROUP BY week ORDER BY week`;
  return rows.map((r) => ({
    week: r.week,
    asked: r.asked,
    answered: r.answered,
    replyRate: r.asked ? r.answered / r.asked : null,
    meanRating: r.mean === null ? null : Math.round(r.mean * 10) / 10,
  }));
}

export interface FlagsByWeek {
  weeks: string[];
  abuse: number[];
  self_harm: number[];
}

export async function flagsByWeek(
  deps: Pick<Deps, 'db'>,
  now: Date,
  weeks = 12,
): Promise<FlagsByWeek> {
  const labels = calendar(now, weeks, 'week');
  const rows = await deps.db.$queryRaw<{ w: string; category: string; n: number }[]>`
    SELECT to_char(date_trunc('week', "createdAt" AT TIME ZONE 'UTC'), 'YYYY-MM-DD') AS w, category::text AS category, count(*)::int AS n
    FROM safety_flags WHERE "createdAt" >= ${new Date(`${labels[0]}T00:00:00Z`)} GROUP BY 1, 2`;
  const pick = (c: string) =>
    labels.map((w) => rows.find((r) => r.w === w && r.category === c)?.n ?? 0);
  return { weeks: labels, abuse: pick('abuse'), self_harm: pick('self_harm') };
}

export const QUEUE_STATES = ['waiting', 'prioritized', 'delayed', 'active', 'failed'] as const;
export type QueueCounts = {
  queue: string;
  counts: Record<(typeof QUEUE_STATES)[number], number> | null;
}[];

export async function queueCounts(deps: Pick<Deps, 'queues'>): Promise<QueueCounts> {
  return Promise.all(
    QUEUE_NAMES.map(async (name) => {
      const counts = await deps.queues[name].getJobCounts(...QUEUE_STATES).catch(() => null);
      return {
        queue: name,
        counts: counts as Record<(typeof QUEUE_STATES)[number], number> | null,
      };
    }),
  );
}
