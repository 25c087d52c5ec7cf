// Small statistics for the benchmark: percentiles by nearest rank, medians of repeated runs, and
// the busiest window of a series of timestamps (how bursty a rate limit really is).

/** Nearest-rank percentile (p in 0..100) of unsorted values; null for an empty list. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] ?? null;
}

export const median = (values: readonly number[]): number | null => percentile(values, 50);

/** Most timestamps (ms) that fall in any window of `windowMs`, a sliding window over sorted input. */
export function busiestWindow(timestamps: readonly number[], windowMs: number): number {
  const t = [...timestamps].sort((a, b) => a - b);
  let best = 0;
  let lo = 0;
  for (let hi = 0; hi < t.length; hi++) {
    while ((t[hi] ?? 0) - (t[lo] ?? 0) >= windowMs) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}

/** Rounds for printing and JSON: figures, not float noise. */
export function round(value: number | null, digits = 0): number | null {
  if (value === null || !Number.isFinite(value)) return null;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
