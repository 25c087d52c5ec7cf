// The scheduler loop: claim due steps, queue them, repeat. A full batch means more are due, so it
// goes again at once; otherwise it waits SCHEDULER_INTERVAL_MS. It claims a little ahead (2 s) and
// queues those sends as short delayed jobs, so messages leave on time without Redis holding one
// delayed job per person per future step.
import type { Deps } from '../src/deps.ts';
import { claimDueSteps, type TickResult } from '../src/flows/claim-due.ts';

export interface SchedulerLoop {
  stop(): Promise<void>;
  ticks: number;
}

export function startScheduler(
  deps: Deps,
  opts: { intervalMs?: number; lookaheadMs?: number; onTick?: (r: TickResult) => void } = {},
): SchedulerLoop {
  const interval = opts.intervalMs ?? deps.config.schedulerIntervalMs;
  // A sped-up demo clock must not claim "2 s ahead" in program time.
  const lookaheadMs = opts.lookaheadMs ?? (deps.config.programSpeed > 1 ? 0 : 2000);
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
      try {
        const r = await claimDueSteps(deps, { lookaheadMs });
        state.ticks++;
        opts.onTick?.(r);
        full = r.claimed >= deps.config.schedulerBatch;
        if (r.queued || r.deferred) deps.log.debug(r, 'scheduler tick');
      } catch (err) {
        deps.log.error({ err: String(err) }, 'scheduler tick failed; retrying');
      }
      if (!full && running)
        await new Promise<void>((r) => ((wake = r), setTimeout(r, interval).unref()));
    }
  })();
  return state;
}
