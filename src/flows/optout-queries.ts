// The operator queue of replies that may have asked to stop, but not clearly ("I'm done", "how do I
// cancel?"). Each person got one clarification (optout_clarify: "Reply STOP to stop all messages");
// an operator reads the reply and decides. The rule allows 10 business days to honour a revocation
// (47 CFR 64.1200(a)(10)), so nothing waits that long: at DEADLINE_BUSINESS_DAYS an undecided query
// is settled by itself: `kept` when the person has written to us since (a rating, a YES, anything
// that was not itself a stop or another unclear reply: they are still taking part), otherwise as
// an opt-out, whose confirmation goes out in their daytime (09:00-20:00 local), never at night.
// A person with an open safety flag or on a safety hold waits for an operator (the log and a
// metric say so every hour) until the day before the legal limit, then is settled the same way.
// Every decision is audited.
import type { Deps } from '../deps.ts';
import { DateTime } from 'luxon';
import { addBusinessDays, businessDaysBetween } from '../core/business-days.ts';
import { recordOptOut } from './consent.ts';
import { createOutbound, enqueueSends, type QueuedSend } from './outbound.ts';
import { metrics } from '../metrics.ts';

/** The law's limit, and the day Steady settles an undecided query (two days to spare). */
export const LEGAL_LIMIT_BUSINESS_DAYS = 10;
export const DEADLINE_BUSINESS_DAYS = 8;

export type OptOutResolution = 'opted_out' | 'kept';

export class OptOutQueryError extends Error {
  constructor(
    public readonly status: number,
    public readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface OptOutQueryView {
  id: string;
  subscriberId: string;
  messageId: string;
  channel: 'sms' | 'email';
  rule: string;
  createdAt: Date;
  ageBusinessDays: number;
  /** When Steady settles it by itself if nobody has. */
  settleBy: Date;
  /** The legal limit (10 business days). */
  dueBy: Date;
  resolution: string | null;
  resolvedAt: Date | null;
  resolvedBy: string | null;
  subscriber: { phone: string | null; email: string | null; status: string };
}

export async function listOptOutQueries(
  deps: Pick<Deps, 'db' | 'clock'>,
  opts: { open: boolean; take?: number },
): Promise<OptOutQueryView[]> {
  const now = deps.clock.now();
  const rows = await deps.db.optOutQuery.findMany({
    where: opts.open ? { resolvedAt: null } : { resolvedAt: { not: null } },
    // Open ones oldest first: the nearest deadline on top.
    orderBy: opts.open ? { createdAt: 'asc' } : { resolvedAt: 'desc' },
    take: opts.take ?? 200,
    include: { subscriber: { select: { phone: true, email: true, status: true } } },
  });
  return rows.map((q) => ({
    id: q.id,
    subscriberId: q.subscriberId,
    messageId: q.messageId,
    channel: q.channel,
    rule: q.rule,
    createdAt: q.createdAt,
    ageBusinessDays: businessDaysBetween(q.createdAt, now),
    settleBy: addBusinessDays(q.createdAt, DEADLINE_BUSINESS_DAYS),
    dueBy: addBusinessDays(q.createdAt, LEGAL_LIMIT_BUSINESS_DAYS),
    resolution: q.resolution,
    resolvedAt: q.resolvedAt,
    resolvedBy: q.resolvedBy,
    subscriber: q.subscriber,
  }));
}

/**
 * Settles one query. `opted_out` stops the person (as STOP would: every queued message suppressed)
 * and sends the opt-out confirmation; `kept` leaves them in the program. Answers 409 when the
 * query was already settled (by another operator, a later STOP or the deadline).
 */
export async function resolveOptOutQuery(
  deps: Pick<Deps, 'db' | 'clock' | 'queues' | 'log'>,
  id: string,
  resolution: OptOutResolution,
  actor: string,
): Promise<{ resolution: OptOutResolution }> {
  if (!/^[0-9a-f-]{36}$/.test(id))
    throw new OptOutQueryError(404, 'not_found', 'No opt-out question with that id');
  const now = deps.clock.now();
  const sends = await deps.db.$transaction(async (tx) => {
    const q = await tx.optOutQuery.findUnique({ where: { id } });
    if (!q) throw new OptOutQueryError(404, 'not_found', 'No opt-out question with that id');
    const taken = await tx.optOutQuery.updateMany({
      where: { id, resolvedAt: null },
      data: { resolution, resolvedAt: now, resolvedBy: actor },
    });
    if (taken.count === 0)
      throw new OptOutQueryError(409, 'already_resolved', 'That question is already settled');
    const queued: QueuedSend[] = [];
    if (resolution === 'opted_out') {
      const evidence = { source: 'operator', actor, optOutQuery: q.id, messageId: q.messageId };
      const changed = await recordOptOut(tx, q.subscriberId, q.channel, evidence, now);
      if (changed) {
        const s = await createOutbound(
          tx,
          {
            subscriberId: q.subscriberId,
            channel: q.channel,
            kind: 'system',
            template: 'stop_confirm',
            lane: 'priority',
            dedupeKey: `optout-query-${q.id}`,
          },
          now,
        );
        if (s) queued.push(s);
      }
    }
    await tx.auditEvent.create({
      data: {
        actor,
        action: `optout_query.${resolution}`,
        target: q.subscriberId,
        detail: { optOutQuery: q.id, messageId: q.messageId, rule: q.rule },
      },
    });
    return queued;
  });
  await enqueueSends(deps.queues, sends, now);
  metrics.inc('steady_optout_queries_resolved_total', { resolution, by: actorKind(actor) });
  deps.log.info({ optOutQuery: id, resolution, actor }, 'opt-out question settled');
  return { resolution };
}

function actorKind(actor: string): string {
  return actor.startsWith('deadline') ? 'deadline' : 'operator';
}

/** Settled automatically only in the person's daytime, so a confirmation never lands at night. */
const DAY_START = 9;
const DAY_END = 20;

/**
 * The cron's pass over questions undecided at DEADLINE_BUSINESS_DAYS (see the top of the file).
 * Returns how many were settled each way and how many wait for an operator.
 */
export async function settleOptOutDeadlines(
  deps: Pick<Deps, 'db' | 'clock' | 'queues' | 'log'>,
): Promise<{ optedOut: number; kept: number; needOperator: number }> {
  const now = deps.clock.now();
  // Eight business days are at least eight calendar days: only those old enough are read, so a
  // backlog of young questions never hides an old one.
  const open = await deps.db.optOutQuery.findMany({
    where: { resolvedAt: null, createdAt: { lte: new Date(now.getTime() - 8 * 86400_000) } },
    select: {
      id: true,
      subscriberId: true,
      createdAt: true,
      subscriber: {
        select: {
          timezone: true,
          flags: { where: { status: 'open' }, select: { id: true }, take: 1 },
          enrollments: { where: { state: 'safety_hold' }, select: { id: true }, take: 1 },
        },
      },
    },
    orderBy: { createdAt: 'asc' },
    take: 1000,
  });
  let optedOut = 0;
  let kept = 0;
  let needOperator = 0;
  for (const q of open) {
    const age = businessDaysBetween(q.createdAt, now);
    if (age < DEADLINE_BUSINESS_DAYS) continue;
    // An open safety flag or hold waits for an operator, but never past the day before the
    // legal limit: a possible revocation is honoured in time whatever else is open.
    const flagged = q.subscriber.flags.length > 0 || q.subscriber.enrollments.length > 0;
    if (flagged && age < LEGAL_LIMIT_BUSINESS_DAYS - 1) {
      needOperator += 1;
      continue;
    }
    const hour = DateTime.fromJSDate(now, { zone: q.subscriber.timezone }).hour;
    if (!(hour >= DAY_START && hour < DAY_END)) continue; // the next daytime run settles it
    // Anything they wrote since that was not itself another unclear reply (a stop would already
    // have settled this question).
    const since = await deps.db.message.count({
      where: {
        subscriberId: q.subscriberId,
        direction: 'in',
        createdAt: { gt: q.createdAt },
        id: { notIn: await questionMessages(deps, q.subscriberId) },
      },
    });
    const resolution: OptOutResolution = since > 0 ? 'kept' : 'opted_out';
    try {
      await resolveOptOutQuery(deps, q.id, resolution, 'deadline');
      if (resolution === 'kept') kept += 1;
      else optedOut += 1;
    } catch (err) {
      if (!(err instanceof OptOutQueryError)) throw err; // settled meanwhile: fine
    }
  }
  if (needOperator > 0) {
    metrics.inc('steady_optout_queries_need_operator_total', {}, needOperator);
    deps.log.warn(
      { needOperator },
      'opt-out questions past their deadline wait for an operator: the person has an open safety flag or hold',
    );
  }
  if (optedOut + kept > 0)
    deps.log.warn(
      { optedOut, kept },
      'opt-out questions reached their deadline undecided and were settled automatically',
    );
  return { optedOut, kept, needOperator };
}

async function questionMessages(deps: Pick<Deps, 'db'>, subscriberId: string): Promise<string[]> {
  const rows = await deps.db.optOutQuery.findMany({
    where: { subscriberId },
    select: { messageId: true },
  });
  return rows.map((r) => r.messageId);
}
