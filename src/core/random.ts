// A small seeded random number generator (mulberry32): the same sequence on every machine and
// Node version, so training, fuzzing and chaos runs can be replayed from their seed.

export type Rng = () => number;

/** Numbers in [0, 1), determined by `seed`. */
export function prng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
