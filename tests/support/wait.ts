// Waiting for an outcome instead of sleeping: integration tests run the real workers, so a send
// or a reply is finished when its effect is visible (a provider request, a row), not at a set time.

export interface WaitOptions {
  /** Give up after this many ms (default 10 s). */
  timeout?: number;
  /** Check this often (default 25 ms). */
  interval?: number;
  /** What the error says when time runs out. */
  message?: string | (() => string);
}

type Truthy<T> = Exclude<T, false | 0 | '' | null | undefined>;

/** Resolves with the predicate's first truthy value; throws once `timeout` ms have passed. */
export async function waitFor<T>(
  predicate: () => T | Promise<T>,
  { timeout = 10_000, interval = 25, message }: WaitOptions = {},
): Promise<Truthy<T>> {
  const deadline = Date.now() + timeout;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await predicate();
      if (v) return v as Truthy<T>;
      lastError = undefined;
    } catch (err) {
      lastError = err; // e.g. a row not there yet for findUniqueOrThrow
    }
    if (Date.now() >= deadline) {
      const what = typeof message === 'function' ? message() : message;
      throw new Error(
        `waitFor: not true within ${timeout} ms` +
          (what ? `: ${what}` : '') +
          (lastError ? ` (last error: ${String(lastError)})` : ''),
      );
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}
