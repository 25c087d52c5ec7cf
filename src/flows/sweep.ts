// Periodic repairs that make Redis disposable and keep promises with time in them:
// - messages whose job was lost (Redis flushed, a crash between commit and enqueue) are queued again;
// - inbound replies recorded but never read (their job was lost) are queued again;
// - a message left `sending` by a dead worker is marked `unknown` (program messages: at most once)
//   or queued again (safety messages and opt-out confirmations: at least once);
// - pending sign-ups expire after 48 hours; timed pauses end; check-in reminders go out.
import { DateTime } from 'luxon';
import type { Deps } from '../deps.ts';
import { outOfQuietHours } from '../core/schedule.ts';
import { INBOUND_JOB_OPTIONS, inboundJobId, sendJobId, type QueueName } from '../queues.ts';
import { AT_LEAST_ONCE_TEMPLATES } from './deliver.ts';
import { createOutbound, enqueueSends, queueFor, type QueuedSend } from './outbound.ts';
import { resumeEnrollment } from './apply-actions.ts';
import { reconcileSending } from './reconcile.ts';
import { RETRY_FROM } from '../core/message-status.ts';

type SweepDeps = Pick<Deps, 'db' | 'queues' | 'clock' | 'config' | 'log' | 'programs'>;

/**
 * Limits a sweep to one program and/or one subscriber. The cron jobs pass none (every enrollment
 * in the database is theirs); `simulate` passes its scratch program and subscriber, so a run
 * against a real database with its clock weeks ahead never reminds or resumes real people.
 */
export interface SweepScope {
  program?: string;
  subscriberId?: string;
}

/** The enrollment filter for a scope (undefined fields are ignored by Prisma). */
const inScope = (scope: SweepScope) => ({
  program: scope.program,
  subscriberId: scope.subscriberId,
});

/** Each deployment (and each test) sweeps its own programs' messages, plus answers to strangers. */
const ownMessages = (deps: Pick<Deps, 'programs'>) => ({
  OR: [
    { enrollmentId: null },
    { enrollment: { program: { in: deps.programs.all().map((p) => p.key) } } },
  ],
});

// Staleness compares `updatedAt`, which Prisma writes from the system clock, so it is measured on
// the system clock too (a test's or simulation's program clock may be months away). Program time
// (`dueAt`) is compared with the injected clock.
const wallNow = () => new Date();

/**
 * BullMQ ignores an add whose jobId still exists, and a job that failed for good stays in the
 * failed set for days (e.g. it stalled twice because workers kept dying under it). Re-adding such a
 * job would silently do nothing and its row would wait forever, so failed jobs for rows that are
 * still waiting to be processed are removed first. Returns how many were revived.
 */
async function clearFailedJobs(
  deps: Pick<Deps, 'queues'>,
  name: QueueName,
  jobIds: string[],
): Promise<number> {
  if (jobIds.length === 0) return 0;
  const queue = deps.queues[name];
  // Issued together, so ioredis sends them back to back in one round trip's time.
  const states = await Promise.all(jobIds.map((id) => queue.getJobState(id)));
  const failed = jobIds.filter((_, i) => states[i] === 'failed');
  for (const id of failed) await queue.remove(id).catch(() => 0);
  return failed.length;
}

export async function requeueLost(
  deps: SweepDeps,
  opts: { staleMs?: number; limit?: number } = {},
): Promise<number> {
  const now = deps.clock.now();
  const stale = new Date(wallNow().getTime() - (opts.staleMs ?? 30_000));
  const rows = await deps.db.message.findMany({
    where: {
      direction: 'out',
      status: 'queued',
      updatedAt: { lt: stale },
      // Not before its time: a check-in reminder waiting out quiet hours, or a program message
      // the worker held at send time for quiet hours (deliver.ts moved its dueAt to their end).
      AND: [{ OR: [{ dueAt: null }, { dueAt: { lte: now } }] }, ownMessages(deps)],
    },
    select: { id: true, channel: true, lane: true },
    take: opts.limit ?? 5000,
  });
  if (rows.length === 0) return 0;
  const sends: QueuedSend[] = rows.map((r) => ({
    messageId: r.id,
    channel: r.channel,
    lane: r.lane === 'priority' ? 'priority' : 'program',
  }));
  let revived = 0;
  for (const name of new Set(sends.map((s) => queueFor(s.channel, s.lane))))
    revived += await clearFailedJobs(
      deps,
      name,
      sends.filter((s) => queueFor(s.channel, s.lane) === name).map((s) => sendJobId(s.messageId)),
    );
  if (revived)
    deps.log.warn(
      { count: revived },
      'send jobs that had failed for good queued again (their messages were still queued)',
    );
  // A job that still exists keeps its id and BullMQ ignores the duplicate; the worker's status
  // check stops a second send if one slips through.
  await enqueueSends(deps.queues, sends, now);
  await deps.db.message.updateMany({
    where: { id: { in: rows.map((r) => r.id) }, status: 'queued' },
    data: { updatedAt: wallNow() },
  });
  return rows.length;
}

/**
 * Inbound replies are recorded first and read on the `inbound` queue. A reply whose job was lost
 * (Redis restarted, or the enqueue failed after the row was written) would never be read, and a
 * disclosure never answered: queue it again. Rows older than a week are left alone.
 */
export async function requeueUnreadInbound(
  deps: SweepDeps,
  opts: { staleMs?: number; limit?: number } = {},
): Promise<number> {
  const wall = wallNow().getTime();
  const rows = await deps.db.message.findMany({
    where: {
      direction: 'in',
      processedAt: null,
      bodyEnc: { not: null },
      ...ownMessages(deps),
      updatedAt: {
        lt: new Date(wall - (opts.staleMs ?? 30_000)),
        gt: new Date(wall - 7 * 86400_000),
      },
    },
    select: { id: true },
    take: opts.limit ?? 5000,
  });
  if (rows.length === 0) return 0;
  const revived = await clearFailedJobs(
    deps,
    'inbound',
    rows.map((r) => inboundJobId(r.id)),
  );
  if (revived)
    deps.log.warn({ count: revived }, 'inbound jobs that had failed for good queued again');
  await deps.queues.inbound.addBulk(
    rows.map((r) => ({
      name: 'inbound',
      data: { messageId: r.id },
      opts: { ...INBOUND_JOB_OPTIONS, jobId: inboundJobId(r.id) },
    })),
  );
  await deps.db.message.updateMany({
    where: { id: { in: rows.map((r) => r.id) }, processedAt: null },
    data: { updatedAt: wallNow() },
  });
  return rows.length;
}

/**
 * A `sending` row whose worker died. Safety messages and opt-out confirmations are queued again
 * after `retryStaleMs` (default 60 s: longer than a provider call can take, so the worker is gone,
 * and short, because the person is waiting for it); other messages are marked `unknown` after
 * `staleMs` (default 5 minutes) and never resent.
 */
export async function settleStaleSending(
  deps: SweepDeps & Partial<Pick<Deps, 'sms' | 'content'>>,
  opts: { staleMs?: number; retryStaleMs?: number } = {},
): Promise<{ unknown: number; retried: number; reconciled: number; resent: number }> {
  const stale = new Date(wallNow().getTime() - (opts.staleMs ?? 5 * 60_000));
  const retryStale = new Date(
    wallNow().getTime() - (opts.retryStaleMs ?? Math.min(60_000, opts.staleMs ?? 60_000)),
  );
  // First ask the provider, where it can tell us (Twilio's message list): a row it has becomes
  // `sent`, a row it never got is sent now. Only what it cannot answer falls to the rules below.
  let reconciled = 0;
  let resent = 0;
  if (deps.sms?.recentTo && deps.content) {
    const full = deps as SweepDeps & Pick<Deps, 'sms' | 'content'>;
    const rows = await deps.db.message.findMany({
      where: {
        direction: 'out',
        status: 'sending',
        channel: 'sms',
        updatedAt: { lt: retryStale },
        ...ownMessages(deps),
      },
      select: { id: true },
      take: 500,
    });
    for (const r of rows) {
      const outcome = await reconcileSending(full, r.id);
      if (outcome === 'sent') reconciled++;
      if (outcome === 'requeued') resent++;
    }
    if (resent) await requeueLost(deps, { staleMs: 0 });
  }
  const retried = await deps.db.message.updateMany({
    where: {
      direction: 'out',
      status: RETRY_FROM,
      updatedAt: { lt: retryStale },
      template: { in: [...AT_LEAST_ONCE_TEMPLATES] },
      ...ownMessages(deps),
    },
    data: { status: 'queued', updatedAt: new Date(0) },
  });
  const unknown = await deps.db.message.updateMany({
    where: {
      direction: 'out',
      status: 'sending',
      updatedAt: { lt: stale },
      AND: [
        { OR: [{ template: null }, { template: { notIn: [...AT_LEAST_ONCE_TEMPLATES] } }] },
        ownMessages(deps),
      ],
    },
    data: { status: 'unknown', error: 'worker stopped during the provider call' },
  });
  if (retried.count) await requeueLost(deps, { staleMs: 0 });
  if (unknown.count)
    deps.log.warn({ count: unknown.count }, 'messages left in sending marked unknown (not resent)');
  return { unknown: unknown.count, retried: retried.count, reconciled, resent };
}

export async function expirePending(deps: SweepDeps): Promise<number> {
  const cutoff = new Date(deps.clock.now().getTime() - 48 * 3600_000);
  const subs = await deps.db.subscriber.findMany({
    // Pending for 48 hours since their last opt-in request (a JOIN after STOP asks again).
    where: {
      status: 'pending',
      createdAt: { lt: cutoff },
      consents: { none: { kind: 'opt_in', at: { gte: cutoff } } },
    },
    select: { id: true },
  });
  if (subs.length === 0) return 0;
  const ids = subs.map((s) => s.id);
  await deps.db.$transaction([
    deps.db.subscriber.updateMany({
      where: { id: { in: ids }, status: 'pending' },
      data: { status: 'expired' },
    }),
    deps.db.enrollment.updateMany({
      where: { subscriberId: { in: ids }, state: 'pending' },
      data: { state: 'stopped' },
    }),
  ]);
  return ids.length;
}

export async function endTimedPauses(deps: SweepDeps, scope: SweepScope = {}): Promise<number> {
  const now = deps.clock.now();
  const due = await deps.db.enrollment.findMany({
    where: { state: 'paused', pausedUntil: { lte: now }, ...inScope(scope) },
    select: { id: true, subscriber: { select: { timezone: true } } },
    take: 1000,
  });
  for (const e of due)
    await deps.db.$transaction((tx) => resumeEnrollment(tx, e.id, e.subscriber.timezone, now));
  return due.length;
}

export async function sendCheckinReminders(
  deps: SweepDeps,
  scope: SweepScope = {},
): Promise<number> {
  const now = deps.clock.now();
  const due = await deps.db.checkin.findMany({
    where: {
      answeredAt: null,
      reminderSentAt: null,
      reminderDueAt: { lte: now },
      closesAt: { gt: now },
      enrollment: { state: 'active', ...inScope(scope) },
    },
    select: {
      id: true,
      enrollment: {
        select: {
          id: true,
          channel: true,
          subscriberId: true,
          subscriber: { select: { timezone: true } },
        },
      },
    },
    take: 1000,
  });
  const sends: QueuedSend[] = [];
  for (const c of due) {
    const local = outOfQuietHours(
      DateTime.fromJSDate(now, { zone: c.enrollment.subscriber.timezone }),
      deps.config.quietHours,
    );
    const s = await deps.db.$transaction(async (tx) => {
      const took = await tx.checkin.updateMany({
        where: { id: c.id, reminderSentAt: null },
        data: { reminderSentAt: now },
      });
      if (!took.count) return null;
      return createOutbound(
        tx,
        {
          subscriberId: c.enrollment.subscriberId,
          enrollmentId: c.enrollment.id,
          channel: c.enrollment.channel,
          kind: 'system',
          template: 'checkin_reminder',
          lane: 'program',
          dueAt: local.toJSDate(),
          dedupeKey: `reminder-${c.id}`,
        },
        now,
      );
    });
    if (s) sends.push(s);
  }
  await enqueueSends(deps.queues, sends, now);
  return sends.length;
}

/** Reply text is kept only as long as it is useful: older text is removed, the rest of the row stays. */
export async function purgeOldReplies(deps: SweepDeps): Promise<number> {
  const cutoff = new Date(deps.clock.now().getTime() - deps.config.retentionDays * 86400_000);
  const r = await deps.db.message.updateMany({
    where: { direction: 'in', createdAt: { lt: cutoff }, bodyEnc: { not: null } },
    data: { bodyEnc: null },
  });
  await deps.db.outboxItem.deleteMany({ where: { createdAt: { lt: cutoff } } });
  // What drove a flag's score may quote the reply: it goes with the reply text.
  await deps.db.safetyFlag.updateMany({
    where: { createdAt: { lt: cutoff }, whyEnc: { not: null } },
    data: { whyEnc: null },
  });
  return r.count;
}
