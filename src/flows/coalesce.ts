// Many callers, one query. A send worker runs dozens of deliveries at once, each needing the same
// few statements for its own row; asked one by one, every statement pays a round trip and the ORM's
// per-query cost. A coalescer gathers the keys asked for while the previous batch is at the
// database (or in the same turn of the event loop) and runs them as one statement. Idle, a call
// goes out at once; under load, batches grow by themselves.

export interface CoalesceOptions {
  /** Most keys per statement. */
  maxBatch?: number;
  /** Statements in flight at once (each holds a pool connection). */
  maxInFlight?: number;
}

interface Waiter<K, V> {
  key: K;
  resolve: (value: V) => void;
  reject: (err: unknown) => void;
}

/** `run` gets the keys of one batch and returns one result per key, in the same order. */
export function coalesce<K, V>(
  run: (keys: K[]) => Promise<V[]>,
  opts: CoalesceOptions = {},
): (key: K) => Promise<V> {
  const maxBatch = opts.maxBatch ?? 500;
  const maxInFlight = opts.maxInFlight ?? 2;
  let waiting: Waiter<K, V>[] = [];
  let inFlight = 0;
  let scheduled = false;

  const flush = () => {
    scheduled = false;
    while (waiting.length > 0 && inFlight < maxInFlight) {
      const batch = waiting.slice(0, maxBatch);
      waiting = waiting.slice(maxBatch);
      inFlight++;
      run(batch.map((w) => w.key))
        .then(
          (results) => batch.forEach((w, i) => w.resolve(results[i] as V)),
          (err: unknown) => batch.forEach((w) => w.reject(err)),
        )
        .finally(() => {
          inFlight--;
          schedule();
        });
    }
  };
  const schedule = () => {
    if (scheduled || waiting.length === 0 || inFlight >= maxInFlight) return;
    scheduled = true;
    // Keys asked for in this turn of the event loop (jobs fetched together) share the statement.
    setImmediate(flush);
  };
  return (key: K) =>
    new Promise<V>((resolve, reject) => {
      waiting.push({ key, resolve, reject });
      schedule();
    });
}
