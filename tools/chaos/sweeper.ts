// The sweep, in chaos time. In production the schedulers' cron runs it every 30 s and it waits
// 30 s before re-queueing a lost job and 5 minutes before giving up on a `sending` row; a chaos
// run lasts about a minute, so the harness runs the same function (jobs/cron.ts `sweep`) every
// second with short windows. The schedulers' own cron keeps running at its normal pace beside it.
import { sweep, type SweepOptions } from '../../jobs/cron.ts';
import type { Deps } from '../../src/deps.ts';

export const CHAOS_SWEEP: SweepOptions = {
  lostStaleMs: 3_000,
  // Longer than the Twilio client's 10 s timeout: by then the worker holding the row is gone.
  sendingStaleMs: 12_000,
  retryStaleMs: 12_000,
};

export function startSweeper(deps: Deps, everyMs = 1000, opts: SweepOptions = CHAOS_SWEEP) {
  let running = true;
  const totals = {
    requeued: 0,
    inbound: 0,
    unknown: 0,
    retried: 0,
    reconciled: 0,
    resent: 0,
    errors: 0,
  };
  const done = (async () => {
    while (running) {
      try {
        const r = await sweep(deps, opts);
        totals.requeued += r.requeued;
        totals.inbound += r.inbound;
        totals.unknown += r.unknown;
        totals.retried += r.retried;
        totals.reconciled += r.reconciled;
        totals.resent += r.resent;
      } catch {
        totals.errors++; // Redis or PostgreSQL is down for a moment: the next pass tries again
      }
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    totals,
    async stop() {
      running = false;
      await done;
    },
  };
}
