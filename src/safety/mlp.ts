// Stage 3c of the safety screen: a small neural network (MLP) beside the logistic heads (model.ts). It
// reads the same hashed features (features.ts), folded into its own 2^bits buckets, through one hidden
// layer shared by the four heads: a bag of feature embeddings, then ReLU units, then one output
// per head. The hidden layer lets the heads share what they learn ("the car", "the baby" and
// "till he's asleep" count together) and score combinations a linear head only adds up.
// Its scores do not decide on their own: the calibration (model.ts) weighs them with the
// logistic heads' scores, fitted on out-of-fold data, so it is trusted as far as it helped there.
// Pure: trained in train.ts, loaded with the model, passed in like the clock.
import { prng } from '../core/random.ts';
import type { Features } from './features.ts';
import { HEADS, sigmoid, type HeadName } from './model.ts';

export interface Mlp {
  /** Buckets of the embedding table: 2^bits (a feature's index is folded with a mask). */
  bits: number;
  hidden: number;
  /** 2^bits rows of `hidden` weights. */
  embed: Float32Array;
  hiddenBias: Float32Array;
  /** One row of `hidden` weights per head, in HEADS order. */
  out: Float32Array;
  outBias: Float32Array;
}

export interface MlpOptions {
  bits: number;
  hidden: number;
  epochs: number;
  learningRate: number;
  l2: number;
}

export const DEFAULT_MLP_OPTIONS: MlpOptions = {
  bits: 16,
  hidden: 32,
  epochs: 8,
  learningRate: 0.05,
  l2: 1e-6,
};

/** The hidden layer's activations for one reply (ReLU). */
function hiddenOf(m: Mlp, f: Features, into: Float32Array): Float32Array {
  const mask = (1 << m.bits) - 1;
  const H = m.hidden;
  into.set(m.hiddenBias);
  for (let i = 0; i < f.indices.length; i += 1) {
    const row = ((f.indices[i] as number) & mask) * H;
    const v = f.values[i] as number;
    for (let j = 0; j < H; j += 1) into[j] = (into[j] as number) + v * (m.embed[row + j] as number);
  }
  for (let j = 0; j < H; j += 1) if ((into[j] as number) < 0) into[j] = 0;
  return into;
}

/** Raw (uncalibrated) scores of every head for one reply. */
export function mlpScores(m: Mlp, f: Features): Record<HeadName, number> {
  const h = hiddenOf(m, f, new Float32Array(m.hidden));
  const out = {} as Record<HeadName, number>;
  HEADS.forEach((name, k) => {
    let z = m.outBias[k] as number;
    for (let j = 0; j < m.hidden; j += 1)
      z += (m.out[k * m.hidden + j] as number) * (h[j] as number);
    out[name] = z;
  });
  return out;
}

/**
 * Trains the MLP (cross-entropy per head, AdaGrad, sparse updates of the embedding rows a
 * reply touches). Seeded: the same data and seed give the same weights.
 */
export function trainMlp(
  data: ReadonlyArray<{ features: Features; targets: Record<HeadName, number> }>,
  o: MlpOptions,
  seed: number,
): Mlp {
  const H = o.hidden;
  const size = 1 << o.bits;
  const mask = size - 1;
  const random = prng(seed);
  const uniform = (a: number) => (random() * 2 - 1) * a;
  const m: Mlp = {
    bits: o.bits,
    hidden: H,
    embed: new Float32Array(size * H).map(() => uniform(0.1)),
    hiddenBias: new Float32Array(H).fill(0.1),
    out: new Float32Array(HEADS.length * H).map(() => uniform(1 / Math.sqrt(H))),
    outBias: new Float32Array(HEADS.length),
  };
  const gEmbed = new Float32Array(size * H);
  const gHiddenBias = new Float32Array(H);
  const gOut = new Float32Array(HEADS.length * H);
  const gOutBias = new Float32Array(HEADS.length);
  const h = new Float32Array(H);
  const dh = new Float32Array(H);
  const lr = o.learningRate;
  const step = (w: Float32Array, g2: Float32Array, i: number, grad: number) => {
    const acc = (g2[i] as number) + grad * grad;
    g2[i] = acc;
    w[i] = (w[i] as number) - (lr * grad) / Math.sqrt(acc + 1e-8);
  };
  const order = data.map((_, i) => i);
  for (let epoch = 0; epoch < o.epochs; epoch += 1) {
    for (let i = order.length - 1; i > 0; i -= 1) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j] as number, order[i] as number];
    }
    for (const k of order) {
      const { features: f, targets } = data[k] as (typeof data)[number];
      hiddenOf(m, f, h);
      dh.fill(0);
      HEADS.forEach((name, c) => {
        let z = m.outBias[c] as number;
        for (let j = 0; j < H; j += 1) z += (m.out[c * H + j] as number) * (h[j] as number);
        const g = sigmoid(z) - targets[name];
        for (let j = 0; j < H; j += 1) {
          const idx = c * H + j;
          dh[j] = (dh[j] as number) + g * (m.out[idx] as number);
          step(m.out, gOut, idx, g * (h[j] as number) + o.l2 * (m.out[idx] as number));
        }
        step(m.outBias, gOutBias, c, g);
      });
      for (let j = 0; j < H; j += 1) {
        if ((h[j] as number) <= 0) dh[j] = 0;
        else step(m.hiddenBias, gHiddenBias, j, dh[j] as number);
      }
      for (let i = 0; i < f.indices.length; i += 1) {
        const row = ((f.indices[i] as number) & mask) * H;
        const v = f.values[i] as number;
        for (let j = 0; j < H; j += 1) {
          const d = dh[j] as number;
          if (d === 0) continue;
          step(m.embed, gEmbed, row + j, d * v + o.l2 * (m.embed[row + j] as number));
        }
      }
    }
  }
  return m;
}
