// The scheduler loop: claim due steps, queue them, repeat. A full batch means more are due, so it
// goes again at once; otherwise it waits SCHEDULER_INTERVAL_MS. It claims a little ahead (2 s) and
// queues those sends as short delayed jobs, so messages leave on time without Redis holding one
// delayed job per person per future step.
//
// It also claims no faster than the workers send: while the program queues hold `maxQueued` sends
// or more (10 batches by default), it waits. A burst of 100k due people then stays in PostgreSQL
// (the source of truth) instead of all moving into Redis at once, so Redis holds seconds of work,
// and no message row waits `queued` long enough for the sweep to take it for lost.
import type { Deps } from '../src/deps.ts';
import { claimDueSteps, type TickResult } from '../src/flows/claim-due.ts';
import { metrics } from '../src/metrics.ts';

export interface SchedulerLoop {
  stop(): Promise<void>;
  ticks: number;
}

export function startScheduler(
  deps: Deps,
  opts: {
    intervalMs?: number;
    lookaheadMs?: number;
    maxQueued?: number;
    onTick?: (r: TickResult) => void;
  } = {},
): SchedulerLoop {
  const interval = opts.intervalMs ?? deps.config.schedulerIntervalMs;
  // A sped-up demo clock must not claim "2 s ahead" in program time.
  const lookaheadMs = opts.lookaheadMs ?? (deps.config.programSpeed > 1 ? 0 : 2000);
  const maxQueued = opts.maxQueued ?? deps.config.schedulerBatch * 10;
  let running = true;
  let wake: (() => void) | null = null;
  const state: SchedulerLoop = {
    ticks: 0,
    async stop() {
      running = false;
      wake?.();
      await done;
    },
  };
  const done = (async () => {
    while (running) {
      let full = false;
      let held = false;
      try {
        held = (await queuedSends(deps)) >= maxQueued;
        if (!held) {
          const tickStart = performance.now();
          const r = await claimDueSteps(deps, { lookaheadMs });
          metrics.observe('steady_claim_tick_seconds', (performance.now() - tickStart) / 1000);
          for (const result of ['queued', 'deferred', 'completed'] as const)
            if (r[result]) metrics.inc('steady_scheduler_claims_total', { result }, r[result]);
          state.ticks++;
          opts.onTick?.(r);
          full = r.claimed >= deps.config.schedulerBatch;
          if (r.queued || r.deferred) deps.log.debug(r, 'scheduler tick');
        }
      } catch (err) {
        deps.log.error({ err: String(err) }, 'scheduler tick failed; retrying');
      }
      // Held back: look again soon (the workers drain the queue in well under a second).
      const pause = held ? Math.min(interval, 100) : full ? 0 : interval;
      if (pause > 0 && running)
        await new Promise<void>((r) => ((wake = r), setTimeout(r, pause).unref()));
    }
  })();
  return state;
}

/** Program sends waiting for a worker (claimed ahead, ready, or waiting to retry). */
async function queuedSends(deps: Pick<Deps, 'queues'>): Promise<number> {
  const counts = await Promise.all(
    [deps.queues.sms, deps.queues.email].map((q) =>
      q.getJobCounts('wait', 'delayed', 'prioritized'),
    ),
  );
  return counts.reduce(
    (sum, c) => sum + (c.wait ?? 0) + (c.delayed ?? 0) + (c.prioritized ?? 0),
    0,
  );
}
