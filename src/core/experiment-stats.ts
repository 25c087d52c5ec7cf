// The statistics of the experiments report. Pure and deterministic: the Monte Carlo draws come
// from a seeded generator, so the same data always give the same figures.
//
// - Rates (replied to the next check-in, opted out within 48 h): Wilson 95% intervals, and the
//   probability that each variant is best from Beta(1 + successes, 1 + failures) posteriors (a
//   uniform prior), estimated with DRAWS joint draws.
// - Ratings (1-5): a t interval for the mean, and the probability of being best from a normal
//   approximation of each mean (mean, standard error), by the same seeded draws.
// - Below MIN_N_PER_VARIANT observations in any variant of a step, no probability is given ("not
//   enough data"); a winner is named only when its probability of being best exceeds
//   WINNER_PROBABILITY.
import { prng, type Rng } from './random.ts';

/** Fewest observations per variant (for each outcome) before P(best) and a winner are reported. */
export const MIN_N_PER_VARIANT = 30;
/** A variant is named the winner only above this probability of being best. */
export const WINNER_PROBABILITY = 0.95;
/** Monte Carlo draws for P(best). 20,000 keeps its standard error under 0.004. */
export const DRAWS = 20_000;
/** The generator's seed: fixed, so a report is the same for the same data. */
export const SEED = 20261207;

const Z95 = 1.959963984540054;

export interface Interval {
  low: number;
  high: number;
}

/** Wilson score interval for k successes in n trials (null when n = 0). */
export function wilsonInterval(k: number, n: number, z = Z95): Interval | null {
  if (n <= 0) return null;
  const p = k / n;
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

// Lanczos approximation (g = 7, n = 9): about 15 significant digits for x > 0.
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
  -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
  1.5056327351493116e-7,
];

export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const y = x - 1;
  let a = LANCZOS[0] ?? 1;
  const t = y + 7.5;
  for (let i = 1; i < 9; i++) a += (LANCZOS[i] ?? 0) / (y + i);
  return 0.5 * Math.log(2 * Math.PI) + (y + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction for the incomplete beta function (modified Lentz). */
function betaContinuedFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const step = d * c;
    h *= step;
    if (Math.abs(step - 1) < 1e-15) break;
  }
  return h;
}

/** The regularized incomplete beta function I_x(a, b): the Beta(a, b) distribution function. */
export function betaCdf(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(
    logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x),
  );
  return x < (a + 1) / (a + b + 2)
    ? (front * betaContinuedFraction(x, a, b)) / a
    : 1 - (front * betaContinuedFraction(1 - x, b, a)) / b;
}

/** Inverts an increasing function on [lo, hi] by bisection (to ~1e-12). */
function invert(f: (x: number) => number, target: number, lo: number, hi: number): number {
  for (let i = 0; i < 200 && hi - lo > 1e-12; i++) {
    const mid = (lo + hi) / 2;
    if (f(mid) < target) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** Quantile of Beta(a, b). */
export function betaQuantile(p: number, a: number, b: number): number {
  return invert((x) => betaCdf(x, a, b), p, 0, 1);
}

/** Equal-tailed 95% interval of the Beta(1 + k, 1 + n - k) posterior (uniform prior). */
export function betaInterval(k: number, n: number): Interval {
  return {
    low: betaQuantile(0.025, 1 + k, 1 + n - k),
    high: betaQuantile(0.975, 1 + k, 1 + n - k),
  };
}

/** Student's t distribution function with `df` degrees of freedom. */
export function tCdf(t: number, df: number): number {
  const tail = 0.5 * betaCdf(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/** Quantile of Student's t with `df` degrees of freedom. */
export function tQuantile(p: number, df: number): number {
  let hi = 10;
  while (tCdf(hi, df) < p) hi *= 2;
  let lo = -10;
  while (tCdf(lo, df) > p) lo *= 2;
  return invert((t) => tCdf(t, df), p, lo, hi);
}

/** 95% t interval for a mean from n values with sample standard deviation sd (null below 2). */
export function meanInterval(mean: number, sd: number, n: number): Interval | null {
  if (n < 2) return null;
  const half = tQuantile(0.975, n - 1) * (sd / Math.sqrt(n));
  return { low: mean - half, high: mean + half };
}

/** Standard normal draws (Box-Muller). */
function normalSampler(rng: Rng): () => number {
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    let u = 0;
    while (u === 0) u = rng();
    const v = rng();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}

/** Gamma(shape, 1) draws for shape >= 1 (Marsaglia and Tsang, 2000). */
function gammaDraw(shape: number, rng: Rng, normal: () => number): number {
  if (shape < 1) {
    // Boost: Gamma(a) = Gamma(a + 1) * U^(1/a). Not needed with a uniform prior, kept for safety.
    let u = 0;
    while (u === 0) u = rng();
    return gammaDraw(shape + 1, rng, normal) * Math.pow(u, 1 / shape);
  }
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = normal();
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = rng();
    if (u < 1 - 0.0331 * x * x * x * x) return d * v;
    if (u > 0 && Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

export interface RateGroup {
  successes: number;
  n: number;
}

export interface DrawOptions {
  draws?: number;
  seed?: number;
  /** true: the highest value is best (reply rate); false: the lowest (opt-outs). */
  higherIsBetter?: boolean;
}

/** Share of joint draws in which each column is best; ties (equal draws) split evenly. */
function shareBest(
  groups: number,
  draws: number,
  draw: (g: number) => number,
  higherIsBetter: boolean,
): number[] {
  const wins = new Array<number>(groups).fill(0);
  const values = new Array<number>(groups).fill(0);
  for (let i = 0; i < draws; i++) {
    let best = higherIsBetter ? -Infinity : Infinity;
    for (let g = 0; g < groups; g++) {
      const v = draw(g);
      values[g] = v;
      if (higherIsBetter ? v > best : v < best) best = v;
    }
    const top = values.filter((v) => v === best).length;
    for (let g = 0; g < groups; g++) if (values[g] === best) wins[g] = (wins[g] ?? 0) + 1 / top;
  }
  return wins.map((w) => w / draws);
}

/** P(each group's rate is the best) under Beta(1 + k, 1 + n - k) posteriors. */
export function probBestRates(groups: readonly RateGroup[], opts: DrawOptions = {}): number[] {
  const rng = prng(opts.seed ?? SEED);
  const normal = normalSampler(rng);
  return shareBest(
    groups.length,
    opts.draws ?? DRAWS,
    (g) => {
      const { successes, n } = groups[g] ?? { successes: 0, n: 0 };
      const x = gammaDraw(1 + successes, rng, normal);
      const y = gammaDraw(1 + n - successes, rng, normal);
      return x / (x + y);
    },
    opts.higherIsBetter ?? true,
  );
}

export interface MeanGroup {
  mean: number;
  sd: number;
  n: number;
}

/** P(each group's mean is the best) with each mean ~ Normal(mean, sd / sqrt(n)). */
export function probBestMeans(groups: readonly MeanGroup[], opts: DrawOptions = {}): number[] {
  const normal = normalSampler(prng(opts.seed ?? SEED));
  return shareBest(
    groups.length,
    opts.draws ?? DRAWS,
    (g) => {
      const { mean, sd, n } = groups[g] ?? { mean: 0, sd: 0, n: 1 };
      return mean + normal() * (sd / Math.sqrt(Math.max(1, n)));
    },
    opts.higherIsBetter ?? true,
  );
}

/** The index of the variant whose P(best) exceeds WINNER_PROBABILITY, or null. */
export function winnerOf(probabilities: readonly number[]): number | null {
  const i = probabilities.findIndex((p) => p > WINNER_PROBABILITY);
  return i === -1 ? null : i;
}
