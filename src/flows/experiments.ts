// Experiments: which variants are ended, ending one, and the report of outcomes per variant.
//
// Outcomes of a variant's send (a message row carrying `variant`, sent or possibly sent):
// - reply rate: whether the person answered the next check-in (the first check-in opened at or
//   after the send, or the step's own check-in) within its window. A send counts once that check-in
//   is answered or closed, or once the enrollment ended without one (a person who stopped before
//   the check-in did not answer it); until then it is pending and left out.
// - rating: the mean of that check-in's 1-5 ratings (answers without a number are left out).
// - opt-out: an opt-out consent event within 48 hours of the send. A send counts once its 48 hours
//   have passed or it has an opt-out.
// The statistics themselves are pure (src/core/experiment-stats.ts).
import type { Program } from '../content/types.ts';
import {
  DRAWS,
  MIN_N_PER_VARIANT,
  WINNER_PROBABILITY,
  meanInterval,
  probBestMeans,
  probBestRates,
  wilsonInterval,
  winnerOf,
  type Interval,
} from '../core/experiment-stats.ts';
import { experimentSteps, stepVariants, variantNames } from '../core/experiments.ts';
import type { Db } from '../db/client.ts';
import type { Deps } from '../deps.ts';

/** The programs to report on and to end variants in: the live ones (Deps' registry has this
 * shape), or every program in content for the command line. */
export interface ProgramLookup {
  all(): readonly Program[];
  get(key: string): Program | undefined;
}

export function contentPrograms(programs: Record<string, Program>): ProgramLookup {
  return { all: () => Object.values(programs), get: (key) => programs[key] };
}

type ExperimentDeps = Pick<Deps, 'db' | 'clock'> & { programs: ProgramLookup };

/** Opt-outs this long after a send count against its variant. */
export const OPTOUT_WINDOW_HOURS = 48;

type Tx = Pick<Db, 'experimentVariantEnded'>;

/** step -> ended variant names, for one program. */
export async function endedVariants(db: Tx, program: string): Promise<Map<string, Set<string>>> {
  const rows = await db.experimentVariantEnded.findMany({
    where: { program },
    select: { step: true, variant: true },
  });
  const byStep = new Map<string, Set<string>>();
  for (const r of rows) {
    const set = byStep.get(r.step) ?? new Set<string>();
    set.add(r.variant);
    byStep.set(r.step, set);
  }
  return byStep;
}

export type EndVariantResult =
  | { ok: true; program: string; step: string; variant: string; endedAt: Date }
  | {
      ok: false;
      code: 'unknown_program' | 'unknown_variant' | 'already_ended' | 'last_variant';
      message: string;
    };

/**
 * Ends a variant: from now on the step's new assignments skip it and its share goes to the other
 * live variants. Messages already assigned keep their variant. Audited (actor, how). Refuses the
 * last live variant of a step (its people would have nothing to get but it anyway).
 */
export async function endVariant(
  deps: ExperimentDeps,
  input: { program: string; step: string; variant: string; actor: string; via: string },
): Promise<EndVariantResult> {
  const program = deps.programs.get(input.program);
  if (!program)
    return { ok: false, code: 'unknown_program', message: `no program "${input.program}"` };
  const names = variantNames(program, input.step);
  if (!names.includes(input.variant)) {
    return {
      ok: false,
      code: 'unknown_variant',
      message: `step "${input.step}" of "${input.program}" has no variant "${input.variant}"`,
    };
  }
  const now = deps.clock.now();
  return deps.db.$transaction(async (tx) => {
    // One ending at a time per program, so two operators cannot end the last two variants at once.
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${'experiments:' + input.program}))`;
    const ended = (await endedVariants(tx, input.program)).get(input.step) ?? new Set<string>();
    if (ended.has(input.variant)) {
      return {
        ok: false as const,
        code: 'already_ended' as const,
        message: `variant "${input.variant}" of step "${input.step}" has already ended`,
      };
    }
    if (names.filter((n) => !ended.has(n) && n !== input.variant).length === 0) {
      return {
        ok: false as const,
        code: 'last_variant' as const,
        message: `variant "${input.variant}" is the last one running for step "${input.step}": a step keeps at least one`,
      };
    }
    await tx.experimentVariantEnded.create({
      data: {
        program: input.program,
        step: input.step,
        variant: input.variant,
        endedAt: now,
        endedBy: input.actor,
      },
    });
    await tx.auditEvent.create({
      data: {
        actor: input.actor,
        action: 'experiment.end_variant',
        target: `${input.program}/${input.step}/${input.variant}`,
        detail: {
          program: input.program,
          step: input.step,
          variant: input.variant,
          via: input.via,
        },
        at: now,
      },
    });
    return { ok: true as const, ...input, endedAt: now };
  });
}

interface OutcomeRow {
  program: string;
  step: string;
  variant: string;
  n: bigint;
  reply_n: bigint;
  replied: bigint;
  rating_n: bigint;
  rating_mean: number | null;
  rating_sd: number | null;
  optout_n: bigint;
  opted_out: bigint;
}

/** One row per program, step and variant with counts (the SQL does the counting). */
async function outcomeRows(db: Db, programs: string[], now: Date): Promise<OutcomeRow[]> {
  if (programs.length === 0) return [];
  const window = `${OPTOUT_WINDOW_HOURS} hours`;
  return db.$queryRaw<OutcomeRow[]>`
    WITH sends AS (
      SELECT m.id, m."enrollmentId", m."subscriberId", m.step, m.variant, e.program,
             e.state::text AS state, COALESCE(m."sentAt", m."createdAt") AS sent_at
      FROM messages m JOIN enrollments e ON e.id = m."enrollmentId"
      WHERE m.variant IS NOT NULL AND m.direction = 'out'
        AND m.status IN ('sent', 'delivered', 'undelivered', 'unknown')
        AND e.program = ANY(${programs}::text[])
    ), outcomes AS (
      SELECT s.*, c."answeredAt" AS answered_at, c."closesAt" AS closes_at, c.rating,
             EXISTS (
               SELECT 1 FROM consent_events ce
               WHERE ce."subscriberId" = s."subscriberId" AND ce.kind = 'opt_out'
                 AND ce.at >= s.sent_at AND ce.at < s.sent_at + ${window}::interval
             ) AS opted_out
      FROM sends s
      LEFT JOIN LATERAL (
        SELECT c."answeredAt", c."closesAt", c.rating FROM checkins c
        WHERE c."enrollmentId" = s."enrollmentId" AND (c."messageId" = s.id OR c."openedAt" >= s.sent_at)
        ORDER BY c."messageId" = s.id DESC, c."openedAt" LIMIT 1
      ) c ON true
    )
    SELECT program, step, variant,
           count(*) AS n,
           count(*) FILTER (WHERE answered_at IS NOT NULL OR closes_at <= ${now}
                             OR (closes_at IS NULL AND state IN ('stopped', 'completed'))) AS reply_n,
           count(*) FILTER (WHERE answered_at IS NOT NULL AND answered_at <= closes_at) AS replied,
           count(rating) AS rating_n,
           avg(rating)::float8 AS rating_mean,
           stddev_samp(rating)::float8 AS rating_sd,
           count(*) FILTER (WHERE opted_out OR sent_at + ${window}::interval <= ${now}) AS optout_n,
           count(*) FILTER (WHERE opted_out) AS opted_out
    FROM outcomes
    GROUP BY program, step, variant
    ORDER BY program, step, variant`;
}

export interface RateOutcome {
  /** Sends whose outcome is known. */
  n: number;
  /** Of those, how many replied (reply rate) or opted out (opt-out). */
  count: number;
  rate: number | null;
  interval: Interval | null;
  /** P(this variant is best); null below the minimum n. */
  pBest: number | null;
}

export interface RatingOutcome {
  n: number;
  mean: number | null;
  sd: number | null;
  interval: Interval | null;
  pBest: number | null;
}

export interface VariantReport {
  name: string;
  /** Its relative weight in content (SMS, else email); null when content no longer has it. */
  weight: number | null;
  ended: { at: string; by: string } | null;
  /** Sends (sent, or possibly sent). */
  n: number;
  replyRate: RateOutcome;
  rating: RatingOutcome;
  optOut: RateOutcome;
}

export interface OutcomeVerdict {
  /** "not enough data" while any variant has fewer than MIN_N_PER_VARIANT known outcomes. */
  status: 'ok' | 'not enough data';
  /** Named only when its P(best) > WINNER_PROBABILITY. */
  winner: string | null;
}

export interface StepReport {
  program: string;
  step: string;
  variants: VariantReport[];
  replyRate: OutcomeVerdict;
  rating: OutcomeVerdict;
  optOut: OutcomeVerdict;
}

export interface ExperimentsReport {
  generatedAt: string;
  minNPerVariant: number;
  winnerProbability: number;
  draws: number;
  optOutWindowHours: number;
  experiments: StepReport[];
}

const num = (v: bigint | number | null): number => Number(v ?? 0);

function rateOutcome(n: number, count: number): RateOutcome {
  return {
    n,
    count,
    rate: n > 0 ? count / n : null,
    interval: wilsonInterval(count, n),
    pBest: null,
  };
}

function weightOf(program: Program | undefined, step: string, name: string): number | null {
  if (!program) return null;
  const v =
    stepVariants(program, step, 'sms').find((x) => x.name === name) ??
    stepVariants(program, step, 'email').find((x) => x.name === name);
  return v?.weight ?? null;
}

/** Fills pBest and the verdict of one outcome across a step's variants. */
function judge(
  variants: VariantReport[],
  pick: (v: VariantReport) => RateOutcome | RatingOutcome,
  probabilities: (ns: VariantReport[]) => number[],
): OutcomeVerdict {
  const enough = variants.length >= 2 && variants.every((v) => pick(v).n >= MIN_N_PER_VARIANT);
  if (!enough) return { status: 'not enough data', winner: null };
  const p = probabilities(variants);
  variants.forEach((v, i) => (pick(v).pBest = p[i] ?? null));
  const w = winnerOf(p);
  return { status: 'ok', winner: w === null ? null : (variants[w]?.name ?? null) };
}

/** Every experiment (step with variants) of `program`, or of all programs, with its outcomes. */
export async function experimentsReport(
  deps: ExperimentDeps,
  opts: { program?: string } = {},
): Promise<ExperimentsReport> {
  const now = deps.clock.now();
  const programs = opts.program ? [opts.program] : deps.programs.all().map((p) => p.key);
  const rows = await outcomeRows(deps.db, programs, now);
  const endedRows = await deps.db.experimentVariantEnded.findMany({
    where: { program: { in: programs } },
  });

  // Steps: those content has variants for (program order), then any only the database knows.
  const keys: [string, string][] = [];
  for (const key of programs) {
    const program = deps.programs.get(key);
    for (const step of program ? experimentSteps(program) : []) keys.push([key, step]);
  }
  for (const r of rows) {
    if (!keys.some(([p, s]) => p === r.program && s === r.step)) keys.push([r.program, r.step]);
  }

  const experiments = keys.map(([programKey, step]): StepReport => {
    const program = deps.programs.get(programKey);
    const names = new Set(program ? variantNames(program, step) : []);
    for (const r of rows) if (r.program === programKey && r.step === step) names.add(r.variant);
    const variants = [...names].sort().map((name): VariantReport => {
      const r = rows.find((x) => x.program === programKey && x.step === step && x.variant === name);
      const ended = endedRows.find(
        (e) => e.program === programKey && e.step === step && e.variant === name,
      );
      const ratingN = num(r?.rating_n ?? 0);
      const mean = r?.rating_mean ?? null;
      const sd = r?.rating_sd ?? null;
      return {
        name,
        weight: weightOf(program, step, name),
        ended: ended ? { at: ended.endedAt.toISOString(), by: ended.endedBy } : null,
        n: num(r?.n ?? 0),
        replyRate: rateOutcome(num(r?.reply_n ?? 0), num(r?.replied ?? 0)),
        rating: {
          n: ratingN,
          mean,
          sd,
          interval: mean !== null && sd !== null ? meanInterval(mean, sd, ratingN) : null,
          pBest: null,
        },
        optOut: rateOutcome(num(r?.optout_n ?? 0), num(r?.opted_out ?? 0)),
      };
    });
    const rates = (pick: (v: VariantReport) => RateOutcome) => (vs: VariantReport[]) =>
      vs.map((v) => ({ successes: pick(v).count, n: pick(v).n }));
    return {
      program: programKey,
      step,
      variants,
      replyRate: judge(
        variants,
        (v) => v.replyRate,
        (vs) => probBestRates(rates((v) => v.replyRate)(vs)),
      ),
      rating: judge(
        variants,
        (v) => v.rating,
        (vs) =>
          probBestMeans(
            vs.map((v) => ({ mean: v.rating.mean ?? 0, sd: v.rating.sd ?? 0, n: v.rating.n })),
          ),
      ),
      optOut: judge(
        variants,
        (v) => v.optOut,
        (vs) => probBestRates(rates((v) => v.optOut)(vs), { higherIsBetter: false }),
      ),
    };
  });
  return {
    generatedAt: now.toISOString(),
    minNPerVariant: MIN_N_PER_VARIANT,
    winnerProbability: WINNER_PROBABILITY,
    draws: DRAWS,
    optOutWindowHours: OPTOUT_WINDOW_HOURS,
    experiments,
  };
}
