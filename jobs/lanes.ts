// One process runs every lane (`dev`, or `work` without --queues): its event loop and database
// pool are shared, so a backlog of nudges would slow the answer to a person who just wrote in even
// though their job sits in its own queue. While an inbound or priority job runs, program sends do
// not start new work (for at most `maxHoldMs`, so replies arriving all day cannot stall the
// program); those already running finish.

export interface Lanes {
  /** Runs urgent work (inbound, priority), holding program sends while it runs. */
  urgent<T>(work: () => Promise<T>): Promise<T>;
  /** Resolves when no urgent work is running, or after `maxHoldMs`. */
  yieldToUrgent(): Promise<void>;
}

export function lanes(maxHoldMs = 500): Lanes {
  let running = 0;
  let waiting: (() => void)[] = [];
  const release = () => {
    const w = waiting;
    waiting = [];
    for (const resolve of w) resolve();
  };
  return {
    async urgent(work) {
      running++;
      try {
        return await work();
      } finally {
        if (--running === 0) release();
      }
    },
    yieldToUrgent() {
      if (running === 0) return Promise.resolve();
      return new Promise<void>((resolve) => {
        waiting.push(resolve);
        setTimeout(resolve, maxHoldMs).unref();
      });
    },
  };
}
