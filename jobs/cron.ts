// The periodic table. node-cron runs a task in every process that schedules it, so each run first
// takes its slot in Redis (SET NX with the slot's minute in the key): one run per slot across any
// number of processes. Cron only repairs and enqueues; the work itself lives in flows.
import cron, { type ScheduledTask } from 'node-cron';
import type { Deps } from '../src/deps.ts';
import {
  endTimedPauses,
  expirePending,
  purgeOldReplies,
  requeueLost,
  requeueUnreadInbound,
  sendCheckinReminders,
  settleStaleSending,
} from '../src/flows/sweep.ts';
import { programSummary } from '../src/flows/summary.ts';
import { settleOptOutDeadlines } from '../src/flows/optout-queries.ts';
import { purgeWebhookLog, requeueLostDeliveries } from '../src/webhooks/relay.ts';

interface CronEntry {
  name: string;
  expr: string;
  run: (deps: Deps) => Promise<unknown>;
}

/** How stale a row must be before the sweep touches it (defaults: see src/flows/sweep.ts). */
export interface SweepOptions {
  /** `queued` rows and unread replies whose job may be lost (30 s). */
  lostStaleMs?: number;
  /** `sending` rows of program messages, marked unknown (5 min). */
  sendingStaleMs?: number;
  /** `sending` safety messages and opt-out confirmations, sent again (60 s). */
  retryStaleMs?: number;
}

/** One pass of the repairs that make Redis disposable. The cron runs it every 30 s; the chaos
 * harness (tools/chaos) runs it every 2 s with short windows, to compress minutes into seconds. */
export async function sweep(deps: Deps, opts: SweepOptions = {}) {
  return {
    requeued: await requeueLost(deps, { staleMs: opts.lostStaleMs }),
    inbound: await requeueUnreadInbound(deps, { staleMs: opts.lostStaleMs }),
    ...(await settleStaleSending(deps, {
      staleMs: opts.sendingStaleMs,
      retryStaleMs: opts.retryStaleMs,
    })),
  };
}

export const CRON_TABLE: CronEntry[] = [
  { name: 'sweep', expr: '*/30 * * * * *', run: (d) => sweep(d) },
  { name: 'checkin-reminders', expr: '0 * * * * *', run: (d) => sendCheckinReminders(d) },
  { name: 'pauses', expr: '15 * * * * *', run: (d) => endTimedPauses(d) },
  { name: 'expire-pending', expr: '0 */10 * * * *', run: (d) => expirePending(d) },
  { name: 'retention', expr: '0 17 3 * * *', run: (d) => purgeOldReplies(d) },
  // Unclear opt-out replies nobody decided: settled before the 10-business-day limit.
  { name: 'optout-deadlines', expr: '0 5 * * * *', run: (d) => settleOptOutDeadlines(d) },
  // Webhook deliveries whose job Redis lost; the delivery log kept 30 days.
  { name: 'webhook-requeue', expr: '45 * * * * *', run: (d) => requeueLostDeliveries(d) },
  { name: 'webhook-retention', expr: '0 37 3 * * *', run: (d) => purgeWebhookLog(d) },
  {
    name: 'daily-summary',
    expr: '0 0 8 * * *',
    run: async (d) => d.log.info(await programSummary(d), 'daily program summary'),
  },
];

export async function claimSlot(
  deps: Pick<Deps, 'redis' | 'config'>,
  name: string,
  slot: Date,
): Promise<boolean> {
  const key = `${deps.config.redisPrefix}:cron:${name}:${Math.floor(slot.getTime() / 1000)}`;
  return (await deps.redis.set(key, '1', 'EX', 3600, 'NX')) === 'OK';
}

export interface CronOptions {
  /** Run the sweep every this many seconds (1-59, a divisor of 60) instead of every 30 s, with
   * these windows. Meant for SWEEP_INTERVAL_MS-style settings in test fleets. */
  sweepEverySec?: number;
  sweep?: SweepOptions;
}

export function startCron(deps: Deps, opts: CronOptions = {}): { stop(): void } {
  const table = CRON_TABLE.map((e) =>
    e.name !== 'sweep'
      ? e
      : {
          ...e,
          expr: opts.sweepEverySec ? `*/${opts.sweepEverySec} * * * * *` : e.expr,
          run: (d: Deps) => sweep(d, opts.sweep),
        },
  );
  const tasks: ScheduledTask[] = table.map((entry) =>
    cron.schedule(
      entry.expr,
      async (ctx) => {
        const slot = ctx?.triggeredAt ?? new Date();
        slot.setMilliseconds(0);
        try {
          // Inside the try: while Redis is down the slot cannot be taken, and this run is skipped
          // with one log line (the next slot tries again).
          if (!(await claimSlot(deps, entry.name, slot))) return;
          const r = await entry.run(deps);
          if (
            r &&
            typeof r === 'object' &&
            Object.values(r).some((v) => typeof v === 'number' && v > 0)
          )
            deps.log.info({ task: entry.name, ...r }, 'periodic task');
          else if (typeof r === 'number' && r > 0)
            deps.log.info({ task: entry.name, count: r }, 'periodic task');
        } catch (err) {
          deps.log.error({ task: entry.name, err: String(err) }, 'periodic task failed');
        }
      },
      { name: entry.name, noOverlap: true },
    ),
  );
  return { stop: () => tasks.forEach((t) => t.stop()) };
}
