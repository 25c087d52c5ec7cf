// The scheduler's tick: claim enrollments whose next step is due, write each step's message row,
// advance the enrollment to its next step, all in one transaction, then enqueue the sends.
//
// Rows are claimed with FOR UPDATE SKIP LOCKED, so any number of schedulers can run at once: each
// row is claimed by one of them, and the message row is unique per (enrollment, step) besides.
// Three queries per batch whatever its size: claim, insert messages, update enrollments.
import { DateTime } from 'luxon';
import type { Program, ProgramStep } from '../content/types.ts';
import { assignVariant, experimentSteps, stepVariants } from '../core/experiments.ts';
import { findStep, stepAfter } from '../core/program.ts';
import { decideClaim, localDay, plannedAt, type SendContext } from '../core/schedule.ts';
import type { Deps } from '../deps.ts';
import { emitEvents } from '../webhooks/events.ts';
import { Prisma, type Channel, type MessageKind } from '../db/client.ts';
import { endedVariants } from './experiments.ts';
import { enqueueSends, type QueuedSend } from './outbound.ts';

/** Pseudo-step after the last one: sends the program_complete message, then ends the enrollment. */
export const COMPLETE_STEP = 'complete';

interface DueRow {
  id: string;
  subscriberId: string;
  channel: 'sms' | 'email';
  nextStep: string | null;
  nextRunAt: Date;
  startedAt: Date | null;
  lastSentDay: string | null;
  extraSteps: string[];
  timezone: string;
  preferredHour: number | null;
}

interface Update {
  id: string;
  nextStep: string | null;
  nextRunAt: string | null;
  lastSentDay: string | null;
  popExtra: boolean;
  state: 'active' | 'completed';
}

/** A step's message row, written `queued` (outbound, created now) by the tick. */
interface StepMessage {
  subscriberId: string;
  enrollmentId: string;
  channel: Channel;
  kind: MessageKind;
  template: string;
  step: string;
  dueAt: Date;
  /** The experiment variant chosen for this row (src/core/experiments.ts), or null. */
  variant: string | null;
}

export interface ClaimOptions {
  batch?: number;
  lookaheadMs?: number;
  /** What an experiment's assignment hashes instead of the enrollment id (simulate: its own
   * inputs, so the same run shows the same variants). */
  assignmentId?: (enrollmentId: string) => string;
}

export interface TickResult {
  claimed: number;
  queued: number;
  deferred: number;
  completed: number;
}

export function completeStep(last: ProgramStep): ProgramStep {
  return { key: COMPLETE_STEP, week: last.week, day: last.day + 1, at: last.at, kind: 'nudge' };
}

/** The claim itself (the benchmark EXPLAINs this exact query). Its WHERE matches the partial index
 * enrollments_due_idx, so it reads only due rows however many people are enrolled. */
export function claimDueQuery(horizon: Date, batch: number, programKey: string): Prisma.Sql {
  return Prisma.sql`
      SELECT e.id, e."subscriberId", e.channel::text AS channel, e."nextStep", e."nextRunAt", e."startedAt",
             e."lastSentDay", e."extraSteps", s.timezone, s."preferredHour"
      FROM enrollments e JOIN subscribers s ON s.id = e."subscriberId"
      WHERE e.state = 'active' AND e."nextRunAt" IS NOT NULL AND e."nextRunAt" <= ${horizon}
        AND e.program = ${programKey}
      ORDER BY e."nextRunAt"
      LIMIT ${batch}
      FOR UPDATE OF e SKIP LOCKED`;
}

type ClaimDeps = Pick<Deps, 'db' | 'queues' | 'clock' | 'config' | 'programs' | 'log'>;

/** One tick for every live program: each program's due rows are claimed by its own query (the
 * claim reads one program's steps), a batch per program. */
export async function claimDueSteps(deps: ClaimDeps, opts: ClaimOptions = {}): Promise<TickResult> {
  const total: TickResult = { claimed: 0, queued: 0, deferred: 0, completed: 0 };
  for (const program of deps.programs.all()) {
    const r = await claimDueStepsOf(deps, program, opts);
    total.claimed += r.claimed;
    total.queued += r.queued;
    total.deferred += r.deferred;
    total.completed += r.completed;
  }
  return total;
}

/** Claims one program's due enrollments (one batch). */
export async function claimDueStepsOf(
  deps: Omit<ClaimDeps, 'programs'>,
  program: Program,
  opts: ClaimOptions = {},
): Promise<TickResult> {
  const { db, clock, config } = deps;
  const batch = opts.batch ?? config.schedulerBatch;
  const now = clock.now();
  const horizon = new Date(now.getTime() + (opts.lookaheadMs ?? 0));
  const steps = [...program.steps].sort((a, b) => a.day - b.day || a.at.localeCompare(b.at));
  const last = steps[steps.length - 1];
  const stepByKey = (key: string): ProgramStep | undefined =>
    key === COMPLETE_STEP && last ? completeStep(last) : findStep(program, key);

  const result: TickResult = { claimed: 0, queued: 0, deferred: 0, completed: 0 };
  const schedule = scheduleMemo();
  const sends: QueuedSend[] = await db.$transaction(async (tx) => {
    const rows = await tx.$queryRaw<DueRow[]>(claimDueQuery(horizon, batch, program.key));
    result.claimed = rows.length;
    if (rows.length === 0) return [];

    // Experiments: variants ended by an operator are skipped by new assignments.
    const ended = experimentSteps(program).length
      ? await endedVariants(tx, program.key)
      : new Map<string, Set<string>>();
    const messages: StepMessage[] = [];
    const updates: Update[] = [];
    for (const r of rows) {
      const extra = r.extraSteps[0];
      const key = extra ?? r.nextStep ?? '';
      const step = stepByKey(key);
      const ctx: SendContext & { catchupHours: number } = {
        timezone: r.timezone,
        startDay: schedule.localDay(r.startedAt ?? r.nextRunAt, r.timezone),
        preferredHour: r.preferredHour,
        quiet: config.quietHours,
        lastSentDay: r.lastSentDay,
        catchupHours: config.catchupHours,
      };
      if (!step) {
        // The program changed under a running enrollment: end it rather than guess.
        deps.log.error(
          { enrollmentId: r.id, step: key },
          'enrollment points at a step the program no longer has',
        );
        updates.push({
          id: r.id,
          nextStep: null,
          nextRunAt: null,
          lastSentDay: null,
          popExtra: false,
          state: 'completed',
        });
        result.completed++;
        continue;
      }
      // Rows claimed ahead of time (lookahead) are judged at their due time.
      const at = r.nextRunAt > now ? r.nextRunAt : now;
      const decision = schedule.decideClaim(step, r.nextRunAt, at, ctx);
      if (decision.kind === 'defer') {
        updates.push({
          id: r.id,
          nextStep: r.nextStep,
          nextRunAt: decision.until.toISOString(),
          lastSentDay: null,
          popExtra: false,
          state: 'active',
        });
        result.deferred++;
        continue;
      }
      messages.push({
        subscriberId: r.subscriberId,
        enrollmentId: r.id,
        channel: r.channel,
        kind: key === COMPLETE_STEP ? 'system' : step.kind,
        template: key === COMPLETE_STEP ? 'program_complete' : step.key,
        step: step.key,
        dueAt: r.nextRunAt,
        variant:
          key === COMPLETE_STEP
            ? null
            : assignVariant(
                opts.assignmentId ? opts.assignmentId(r.id) : r.id,
                step.key,
                stepVariants(program, step.key, r.channel),
                ended.get(step.key),
              ),
      });
      if (key === COMPLETE_STEP) {
        updates.push({
          id: r.id,
          nextStep: null,
          nextRunAt: null,
          lastSentDay: decision.localDay,
          popExtra: false,
          state: 'completed',
        });
        result.completed++;
        continue;
      }
      // Next: the regular step after this one (skipping steps already sent early), or the end.
      const sentEarly = extra ? [] : r.extraSteps;
      const nextKey = extra
        ? r.nextStep
        : (stepAfter(program, step.key, sentEarly)?.key ?? (last ? COMPLETE_STEP : null));
      const next = nextKey ? stepByKey(nextKey) : undefined;
      const nextRunAt = next
        ? schedule.plannedAt(next, { ...ctx, lastSentDay: decision.localDay })
        : null;
      updates.push({
        id: r.id,
        nextStep: nextKey ?? null,
        nextRunAt: nextRunAt?.toISOString() ?? null,
        lastSentDay: decision.localDay,
        popExtra: Boolean(extra),
        state: next ? 'active' : 'completed',
      });
    }

    // One INSERT for the batch. Prisma's createManyAndReturn cost ~0.35 ms of CPU per row here (the
    // whole batch passes through its query compiler), more than the rest of the tick together.
    // ON CONFLICT DO NOTHING is its skipDuplicates: a step already written is not written twice.
    const created = messages.length
      ? await tx.$queryRaw<{ id: string; channel: Channel; dueAt: Date | null }[]>`
          INSERT INTO messages (id, "subscriberId", "enrollmentId", channel, direction, kind, template, step, status,
                                "dueAt", variant, "createdAt", "updatedAt")
          SELECT gen_random_uuid(), u.subscriber_id, u.enrollment_id, u.channel::"Channel", 'out', u.kind::"MessageKind",
                 u.template, u.step, 'queued', u.due_at::timestamptz, u.variant, ${now}, ${new Date()}
          FROM unnest(${messages.map((m) => m.subscriberId)}::uuid[], ${messages.map((m) => m.enrollmentId)}::uuid[],
                      ${messages.map((m) => m.channel)}::text[], ${messages.map((m) => m.kind)}::text[],
                      ${messages.map((m) => m.template)}::text[], ${messages.map((m) => m.step)}::text[],
                      ${messages.map((m) => m.dueAt.toISOString())}::text[],
                      ${messages.map((m) => m.variant)}::text[])
               AS u(subscriber_id, enrollment_id, channel, kind, template, step, due_at, variant)
          ON CONFLICT DO NOTHING
          RETURNING id, channel::text AS channel, "dueAt"`
      : [];
    await tx.$executeRaw`
      UPDATE enrollments e SET
        "nextStep" = u.next_step,
        "nextRunAt" = u.next_run_at::timestamptz,
        "lastSentDay" = COALESCE(u.last_sent_day, e."lastSentDay"),
        "extraSteps" = CASE WHEN u.pop_extra THEN e."extraSteps"[2:] ELSE e."extraSteps" END,
        state = u.state::"EnrollmentState",
        "completedAt" = CASE WHEN u.state = 'completed' THEN ${now} ELSE e."completedAt" END,
        "updatedAt" = ${now}
      FROM unnest(${updates.map((u) => u.id)}::uuid[], ${updates.map((u) => u.nextStep)}::text[],
                  ${updates.map((u) => u.nextRunAt)}::text[], ${updates.map((u) => u.lastSentDay)}::text[],
                  ${updates.map((u) => u.popExtra)}::boolean[], ${updates.map((u) => u.state)}::text[])
           AS u(id, next_step, next_run_at, last_sent_day, pop_extra, state)
      WHERE e.id = u.id`;
    // Webhook events for the enrollments that ended here, in this transaction (src/webhooks/).
    const endedHere = new Set(updates.filter((u) => u.state === 'completed').map((u) => u.id));
    if (endedHere.size)
      await emitEvents(
        tx,
        rows
          .filter((r) => endedHere.has(r.id))
          .map((r) => ({
            type: 'enrollment.completed' as const,
            subscriberId: r.subscriberId,
            at: now,
            data: {
              subscriberId: r.subscriberId,
              enrollmentId: r.id,
              program: program.key,
              channel: r.channel,
              at: now.toISOString(),
            },
          })),
      );
    return created.map((c) => ({
      messageId: c.id,
      channel: c.channel,
      lane: 'program' as const,
      dueAt: c.dueAt ?? undefined,
    }));
  });
  result.queued = sends.length;
  if (sends.length) await enqueueSends(deps.queues, sends, now);
  return result;
}

/**
 * The schedule's pure functions, remembered across ticks. People due together mostly share a zone,
 * a step and a start day, and luxon's zone arithmetic (a formatToParts per offset) was most of a
 * tick's CPU. Every input is part of the key; the cache is emptied when it grows large.
 */
const scheduleCache = new Map<string, unknown>();
const SCHEDULE_CACHE_MAX = 50_000;

function scheduleMemo() {
  const remember = <T>(key: string, compute: () => T): T => {
    if (scheduleCache.has(key)) return scheduleCache.get(key) as T;
    const value = compute();
    if (scheduleCache.size >= SCHEDULE_CACHE_MAX) scheduleCache.clear();
    scheduleCache.set(key, value);
    return value;
  };
  const stepKey = (s: ProgramStep) => `${s.key}|${s.day}|${s.at}`;
  const ctxKey = (c: SendContext) =>
    `${c.timezone}|${c.startDay}|${c.preferredHour ?? ''}|${c.lastSentDay ?? ''}|${c.quiet.start}-${c.quiet.end}`;
  return {
    localDay: (at: Date, timezone: string) =>
      remember(`l|${at.getTime()}|${timezone}`, () => localDay(at, timezone)),
    decideClaim: (
      step: ProgramStep,
      due: Date,
      at: Date,
      ctx: SendContext & { catchupHours: number },
    ) =>
      remember(
        `d|${stepKey(step)}|${due.getTime()}|${at.getTime()}|${ctxKey(ctx)}|${ctx.catchupHours}`,
        () => decideClaim(step, due, at, ctx),
      ),
    plannedAt: (step: ProgramStep, ctx: SendContext) =>
      remember(`p|${stepKey(step)}|${ctxKey(ctx)}`, () => plannedAt(step, ctx)),
  };
}

/**
 * Where a newly started enrollment begins: the first step today at its local time, or tomorrow when
 * that time has passed (so joining in the evening does not bring the welcome and a nudge together).
 * `startedAt` is that first send, and every later step counts its day from it.
 */
export function firstRun(
  program: Program,
  now: Date,
  sub: { timezone: string; preferredHour: number | null },
  quiet: SendContext['quiet'],
): { nextStep: string; nextRunAt: Date; startedAt: Date } {
  const steps = [...program.steps].sort((a, b) => a.day - b.day || a.at.localeCompare(b.at));
  const first = steps[0];
  if (!first) throw new Error(`program "${program.key}" has no steps`);
  const today = DateTime.fromJSDate(now, { zone: sub.timezone });
  const ctx = (day: DateTime) => ({
    timezone: sub.timezone,
    startDay: day.toISODate() ?? '',
    preferredHour: sub.preferredHour,
    quiet,
  });
  // Day 0 is today. Only when the first step itself is on day 0 and its time has passed does the
  // program start tomorrow (the welcome goes out now either way).
  let start = today;
  if (first.day === 0 && plannedAt(first, ctx(start)) <= now) start = today.plus({ days: 1 });
  return {
    nextStep: first.key,
    nextRunAt: plannedAt(first, ctx(start)),
    // An instant on the start day (its local day is what later steps count from).
    startedAt: plannedAt({ ...first, day: 0 }, ctx(start)),
  };
}
