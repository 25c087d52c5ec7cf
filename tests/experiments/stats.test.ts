// The experiments report's statistics, against values known in closed form or from the
// literature, and the properties the report relies on: symmetric, deterministic, decisive only
// when the data are.
import { describe, expect, it } from 'vitest';
import {
  betaCdf,
  betaInterval,
  betaQuantile,
  meanInterval,
  probBestMeans,
  probBestRates,
  tQuantile,
  wilsonInterval,
  winnerOf,
} from '../../src/core/experiment-stats.ts';

describe('intervals', () => {
  it.each([
    // k, n, low, high (Wilson score, 95%; Newcombe 1998 and common tables)
    [50, 100, 0.4038, 0.5962],
    [0, 10, 0, 0.2775],
    [10, 10, 0.7225, 1],
    [81, 263, 0.2553, 0.3662],
  ])('Wilson %i of %i is [%f, %f]', (k, n, low, high) => {
    const i = wilsonInterval(k, n)!;
    expect(i.low).toBeCloseTo(low, 4);
    expect(i.high).toBeCloseTo(high, 4);
  });

  it('has no Wilson interval without data', () => {
    expect(wilsonInterval(0, 0)).toBeNull();
  });

  it('computes Beta distribution functions and quantiles exactly where closed forms exist', () => {
    // Beta(1, 1) is uniform; Beta(2, 1) has CDF x^2; Beta(1, b) has CDF 1 - (1 - x)^b.
    expect(betaCdf(0.3, 1, 1)).toBeCloseTo(0.3, 10);
    expect(betaCdf(0.5, 2, 1)).toBeCloseTo(0.25, 10);
    expect(betaQuantile(0.25, 2, 1)).toBeCloseTo(0.5, 8);
    expect(betaCdf(0.2, 1, 11)).toBeCloseTo(1 - 0.8 ** 11, 10);
    // Symmetry: I_x(a, b) = 1 - I_{1-x}(b, a).
    expect(betaCdf(0.37, 7.5, 3.2) + betaCdf(0.63, 3.2, 7.5)).toBeCloseTo(1, 10);
    // Posterior of 0 of 10 with a uniform prior: Beta(1, 11).
    const i = betaInterval(0, 10);
    expect(i.low).toBeCloseTo(1 - 0.975 ** (1 / 11), 8);
    expect(i.high).toBeCloseTo(1 - 0.025 ** (1 / 11), 8);
  });

  it.each([
    [1, 12.7062],
    [2, 4.3027],
    [10, 2.2281],
    [29, 2.0452],
    [1000, 1.9623],
  ])('t quantile 0.975 with %i degrees of freedom is %f', (df, q) => {
    expect(tQuantile(0.975, df)).toBeCloseTo(q, 3);
    expect(tQuantile(0.025, df)).toBeCloseTo(-q, 3);
  });

  it('gives a t interval for a mean', () => {
    const i = meanInterval(3.5, 1.2, 30)!;
    const half = 2.0452 * (1.2 / Math.sqrt(30));
    expect(i.low).toBeCloseTo(3.5 - half, 3);
    expect(i.high).toBeCloseTo(3.5 + half, 3);
    expect(meanInterval(4, 0, 1)).toBeNull();
  });
});

describe('probability of being best', () => {
  it('is symmetric for equal data and sums to 1', () => {
    const p = probBestRates([
      { successes: 100, n: 200 },
      { successes: 100, n: 200 },
    ]);
    expect(p[0]! + p[1]!).toBeCloseTo(1, 10);
    expect(Math.abs(p[0]! - p[1]!)).toBeLessThan(0.03);
    const three = probBestRates([
      { successes: 30, n: 90 },
      { successes: 30, n: 90 },
      { successes: 30, n: 90 },
    ]);
    for (const x of three) expect(x).toBeGreaterThan(0.3);
    for (const x of three) expect(x).toBeLessThan(0.37);
  });

  it('is deterministic for a fixed seed, and the seed matters', () => {
    const data = [
      { successes: 52, n: 100 },
      { successes: 47, n: 100 },
    ];
    expect(probBestRates(data)).toEqual(probBestRates(data));
    expect(probBestRates(data, { seed: 1 })).toEqual(probBestRates(data, { seed: 1 }));
    expect(probBestRates(data, { seed: 1 })).not.toEqual(probBestRates(data, { seed: 2 }));
    const means = [
      { mean: 3.6, sd: 1.1, n: 40 },
      { mean: 3.4, sd: 1.0, n: 45 },
    ];
    expect(probBestMeans(means)).toEqual(probBestMeans(means));
  });

  it('agrees with the normal approximation for two large groups', () => {
    // 60% of 200 against 40% of 200: z = 0.2 / sqrt(2 * 0.24 / 200) = 4.08, P ~ 0.99998.
    const [a, b] = probBestRates([
      { successes: 120, n: 200 },
      { successes: 80, n: 200 },
    ]);
    expect(a).toBeGreaterThan(0.999);
    expect(b).toBeLessThan(0.001);
    // 55 of 100 against 50 of 100: z = 0.05 / 0.0704 = 0.71, P = 0.761; the Beta posteriors
    // with a uniform prior give about the same.
    const [c] = probBestRates([
      { successes: 55, n: 100 },
      { successes: 50, n: 100 },
    ]);
    expect(c).toBeGreaterThan(0.73);
    expect(c).toBeLessThan(0.79);
    // Means: 3.8 (sd 1, n 50) against 3.5 (sd 1, n 50): z = 0.3 / 0.2 = 1.5, P = 0.933.
    const [m] = probBestMeans([
      { mean: 3.8, sd: 1, n: 50 },
      { mean: 3.5, sd: 1, n: 50 },
    ]);
    expect(m).toBeGreaterThan(0.92);
    expect(m).toBeLessThan(0.945);
  });

  it('ranks the lowest rate best when lower is better (opt-outs)', () => {
    const [a, b] = probBestRates(
      [
        { successes: 2, n: 200 },
        { successes: 20, n: 200 },
      ],
      { higherIsBetter: false },
    );
    expect(a).toBeGreaterThan(0.99);
    expect(b).toBeLessThan(0.01);
  });

  it('names a winner only above 0.95', () => {
    expect(winnerOf([0.96, 0.04])).toBe(0);
    expect(winnerOf([0.95, 0.05])).toBeNull();
    expect(winnerOf([0.5, 0.5])).toBeNull();
  });
});
