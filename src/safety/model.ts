// Stage 3b of the safety screen: the learned risk model. Four logistic heads over the same hashed
// features (features.ts): for each category, "acts" (current danger: the safety message now) and
// "any concern" (act or ask: past danger, or worrying but unclear). Each head scores the whole
// reply and, for a reply of several sentences, each two-sentence passage: a disclosure in one
// sentence of a long, ordinary email is diluted in the whole but not in its passage. A calibration
// fitted on out-of-fold scores weighs the two (how far to trust a passage out of its context)
// and turns them into a probability.
// A small neural network (mlp.ts, "the MLP") may score the same features beside the heads; the calibration
// then weighs its scores too.
// The model is data: messages/safety/model.json (settings, calibration, thresholds) and
// model.bin (the weights: the heads int16, the MLP int8 by row). Pure: it is loaded once and
// passed in, like the clock.
import type { SafetyCategory } from '../content/types.ts';
import type { Features } from './features.ts';
import { mlpScores, type Mlp } from './mlp.ts';

export const HEADS = ['abuse_act', 'abuse_any', 'self_harm_act', 'self_harm_any'] as const;
export type HeadName = (typeof HEADS)[number];

export interface Head {
  weights: Float32Array;
  bias: number;
  calibration: Calibration;
}

/**
 * p = sigmoid(whole * wholeScore + passage * highestPassageScore + bias), plus the MLP's
 * scores weighed the same way when the model has one (mlpWhole, mlpPassage).
 */
export interface Calibration {
  whole: number;
  passage: number;
  bias: number;
  mlpWhole?: number;
  mlpPassage?: number;
}

export interface BandThresholds {
  /** Calibrated "acts" probability at or above which a category acts. */
  act: Record<SafetyCategory, number>;
  /** Calibrated "any concern" probability at or above which a category is asked about. */
  ask: Record<SafetyCategory, number>;
}

export interface SafetyModel {
  bits: number;
  heads: Record<HeadName, Head>;
  /** The MLP beside the heads (mlp.ts), if the model was trained with one. */
  mlp?: Mlp;
  thresholds: BandThresholds;
  /** Rule labels precise enough on the training data to act on their own. */
  decisiveRules: string[];
  /** Whether any rule hit is at least `ask` (chosen in training; softened self-harm always is). */
  rulesAsk: boolean;
  /**
   * A reply of at most this many words with no rule hit is at most `ask`: five words without a
   * danger phrase ("staying at my sisters") cannot say enough to hold a program (0: off; chosen
   * in training).
   */
  shortAskWords: number;
}

/** What model.json holds besides the weights. */
export interface ModelMeta {
  format: typeof FORMAT | 'steady-safety-model/1';
  bits: number;
  heads: Record<HeadName, { bias: number; calibration: Calibration; scale: number }>;
  /** The MLP's shape; its weights follow the heads' in model.bin. */
  mlp?: { bits: number; hidden: number };
  thresholds: BandThresholds;
  decisiveRules: string[];
  rulesAsk: boolean;
  shortAskWords: number;
  /** How the model was made: data files and counts, seed, settings (for people, not code). */
  training: Record<string, unknown>;
}

const FORMAT = 'steady-safety-model/2';

export const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/** The raw (uncalibrated) score of one head. */
export function headScore(head: Head, f: Features): number {
  let z = head.bias;
  for (let i = 0; i < f.indices.length; i += 1) {
    z += (head.weights[f.indices[i] as number] as number) * (f.values[i] as number);
  }
  return z;
}

export type Risk = Record<HeadName, number>;

/** The calibrated probability from a head's scores (the passage score is the whole's if none). */
export function calibrate(
  c: Calibration,
  whole: number,
  passage: number,
  mlpWhole = 0,
  mlpPassage = 0,
): number {
  return sigmoid(
    c.whole * whole +
      c.passage * passage +
      (c.mlpWhole ?? 0) * mlpWhole +
      (c.mlpPassage ?? 0) * mlpPassage +
      c.bias,
  );
}

/**
 * The four heads' weights side by side (bucket i's at 4i..4i+3), so one pass over a reply's
 * features scores them all from one cache line per bucket. Built on first use and rebuilt when
 * a head or its weights are replaced; a model's weights are not changed in place once it scores.
 */
interface Packed {
  weights: readonly Float32Array[];
  all: Float32Array;
}
const packedWeights = new WeakMap<SafetyModel['heads'], Packed>();
function packed(heads: SafetyModel['heads']): Float32Array {
  const weights = HEADS.map((name) => heads[name].weights);
  const known = packedWeights.get(heads);
  if (known && known.weights.every((w, h) => w === weights[h])) return known.all;
  const size = weights[0]?.length ?? 0;
  const all = new Float32Array(size * HEADS.length);
  weights.forEach((w, h) => {
    for (let i = 0; i < size; i += 1) all[i * HEADS.length + h] = w[i] as number;
  });
  packedWeights.set(heads, { weights, all });
  return all;
}

/** headScore of every head (in HEADS order), added up in the same order: the same numbers. */
function headScores(model: SafetyModel, f: Features): number[] {
  const w = packed(model.heads);
  // Four heads, unrolled: HEADS has four names (a fifth would fail to compile here).
  const [b0, b1, b2, b3] = HEADS.map((name) => model.heads[name].bias) as [
    number,
    number,
    number,
    number,
  ];
  let z0 = b0;
  let z1 = b1;
  let z2 = b2;
  let z3 = b3;
  for (let i = 0; i < f.indices.length; i += 1) {
    const at = (f.indices[i] as number) * 4;
    const v = f.values[i] as number;
    z0 += (w[at] as number) * v;
    z1 += (w[at + 1] as number) * v;
    z2 += (w[at + 2] as number) * v;
    z3 += (w[at + 3] as number) * v;
  }
  return [z0, z1, z2, z3];
}

/** Calibrated probabilities of every head, from the whole reply and its passages. */
export function predict(
  model: SafetyModel,
  whole: Features,
  passages: readonly Features[] = [],
): Risk {
  const mlp = model.mlp;
  const mw = mlp ? mlpScores(mlp, whole) : null;
  const mp = mlp ? passages.map((f) => mlpScores(mlp, f)) : [];
  const ws = headScores(model, whole);
  const ps = passages.map((f) => headScores(model, f));
  const out = {} as Risk;
  for (const [h, name] of HEADS.entries()) {
    const head = model.heads[name];
    const w = ws[h] as number;
    let p = passages.length ? -Infinity : w;
    for (const s of ps) p = Math.max(p, s[h] as number);
    const m = mw ? mw[name] : 0;
    let q = mp.length ? -Infinity : m;
    for (const s of mp) q = Math.max(q, s[name]);
    out[name] = calibrate(head.calibration, w, p, m, q);
  }
  return out;
}

/** The readable features that pushed a head's score up most ("why"), strongest first. */
export function topFeatures(head: Head, f: Features, n: number): string[] {
  if (!f.names) return [];
  const contributions: Array<[string, number]> = [];
  f.indices.forEach((index, i) => {
    const name = f.names?.get(index);
    const c = (head.weights[index] as number) * (f.values[i] as number);
    if (name !== undefined && c > 0) contributions.push([name, c]);
  });
  contributions.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  return contributions.slice(0, n).map(([name]) => name);
}

/** Serialises a model: weights as int16 per head (scaled to the head's largest weight). */
export function encodeModel(
  model: SafetyModel,
  training: Record<string, unknown>,
): { meta: ModelMeta; bin: Buffer } {
  const size = 1 << model.bits;
  const bin = Buffer.alloc(HEADS.length * size * 2 + (model.mlp ? mlpBytes(model.mlp) : 0));
  const heads = {} as ModelMeta['heads'];
  HEADS.forEach((name, h) => {
    const head = model.heads[name];
    let max = 0;
    for (const w of head.weights) max = Math.max(max, Math.abs(w));
    const scale = max > 0 ? max / 32767 : 1;
    for (let i = 0; i < size; i += 1) {
      const q = Math.round((head.weights[i] as number) / scale);
      bin.writeInt16LE(Math.max(-32767, Math.min(32767, q)), (h * size + i) * 2);
    }
    heads[name] = {
      bias: round(head.bias),
      calibration: roundCalibration(head.calibration),
      scale,
    };
  });
  if (model.mlp) encodeMlp(model.mlp, bin, HEADS.length * size * 2);
  return {
    meta: {
      // Heads only keeps format 1, so a model trained as before is the same file as before.
      format: model.mlp ? FORMAT : 'steady-safety-model/1',
      bits: model.bits,
      heads,
      ...(model.mlp ? { mlp: { bits: model.mlp.bits, hidden: model.mlp.hidden } } : {}),
      thresholds: model.thresholds,
      decisiveRules: model.decisiveRules,
      rulesAsk: model.rulesAsk,
      shortAskWords: model.shortAskWords,
      training,
    },
    bin,
  };
}

const round = (x: number) => Math.round(x * 1e6) / 1e6;
const roundCalibration = (c: Calibration): Calibration => ({
  whole: round(c.whole),
  passage: round(c.passage),
  bias: round(c.bias),
  ...(c.mlpWhole === undefined ? {} : { mlpWhole: round(c.mlpWhole) }),
  ...(c.mlpPassage === undefined ? {} : { mlpPassage: round(c.mlpPassage) }),
});

/**
 * The MLP's bytes: per embedding row a float32 scale then `hidden` int8 weights; then the
 * hidden biases, output weights and output biases as float32.
 */
const mlpBytes = (m: { bits: number; hidden: number }) =>
  (1 << m.bits) * (4 + m.hidden) + (m.hidden + HEADS.length * m.hidden + HEADS.length) * 4;

function encodeMlp(m: Mlp, bin: Buffer, offset: number): void {
  const H = m.hidden;
  let at = offset;
  for (let row = 0; row < 1 << m.bits; row += 1) {
    let max = 0;
    for (let j = 0; j < H; j += 1) max = Math.max(max, Math.abs(m.embed[row * H + j] as number));
    const scale = Math.fround(max > 0 ? max / 127 : 1);
    bin.writeFloatLE(scale, at);
    at += 4;
    for (let j = 0; j < H; j += 1) {
      bin.writeInt8(Math.round((m.embed[row * H + j] as number) / scale), at);
      at += 1;
    }
  }
  for (const block of [m.hiddenBias, m.out, m.outBias]) {
    for (const v of block) {
      bin.writeFloatLE(v, at);
      at += 4;
    }
  }
}

function decodeMlp(spec: { bits: number; hidden: number }, view: DataView, offset: number): Mlp {
  const H = spec.hidden;
  const rows = 1 << spec.bits;
  const embed = new Float32Array(rows * H);
  let at = offset;
  for (let row = 0; row < rows; row += 1) {
    const scale = view.getFloat32(at, true);
    at += 4;
    for (let j = 0; j < H; j += 1) {
      embed[row * H + j] = view.getInt8(at) * scale;
      at += 1;
    }
  }
  const floats = (n: number) => {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i += 1) {
      out[i] = view.getFloat32(at, true);
      at += 4;
    }
    return out;
  };
  const hiddenBias = floats(H);
  const out = floats(HEADS.length * H);
  const outBias = floats(HEADS.length);
  return { bits: spec.bits, hidden: H, embed, hiddenBias, out, outBias };
}

/** Rebuilds a model from model.json and model.bin; errors say which file is wrong. */
export function decodeModel(meta: unknown, bin: Uint8Array): SafetyModel {
  const m = meta as Partial<ModelMeta> | null;
  const known = m?.format === FORMAT || m?.format === 'steady-safety-model/1';
  if (!m || !known || typeof m.bits !== 'number' || !Number.isInteger(m.bits) || !m.heads) {
    throw new Error(
      'messages/safety/model.json: not a steady-safety-model/1 (heads) or /2 (heads and MLP) file',
    );
  }
  // Format 2 exactly when there is an MLP: a calibration that weighs MLP scores needs the MLP.
  if ((m.format === FORMAT) !== (m.mlp !== undefined))
    throw new Error(`messages/safety/model.json: ${m.format} ${m.mlp ? 'with' : 'without'} an MLP`);
  if (
    m.mlp &&
    (!(Number.isInteger(m.mlp.bits) && m.mlp.bits >= 8 && m.mlp.bits <= 20) ||
      !(Number.isInteger(m.mlp.hidden) && m.mlp.hidden >= 1 && m.mlp.hidden <= 1024))
  )
    throw new Error('messages/safety/model.json: the MLP needs whole bits (8-20) and hidden units');
  const size = 1 << m.bits;
  const expected = HEADS.length * size * 2 + (m.mlp ? mlpBytes(m.mlp) : 0);
  if (bin.byteLength !== expected) {
    throw new Error(
      `messages/safety/model.bin: ${bin.byteLength} bytes, expected ${expected} for ${m.bits} bits${m.mlp ? ` and a ${m.mlp.hidden}-unit MLP` : ''}`,
    );
  }
  if (!m.thresholds || !Array.isArray(m.decisiveRules))
    throw new Error('messages/safety/model.json: thresholds or decisiveRules missing');
  const view = new DataView(bin.buffer, bin.byteOffset, bin.byteLength);
  const heads = {} as Record<HeadName, Head>;
  HEADS.forEach((name, h) => {
    const spec = m.heads?.[name];
    if (!spec) throw new Error(`messages/safety/model.json: head ${name} missing`);
    const weights = new Float32Array(size);
    for (let i = 0; i < size; i += 1)
      weights[i] = view.getInt16((h * size + i) * 2, true) * spec.scale;
    const c = spec.calibration;
    const numbers: unknown[] = [spec.scale, spec.bias, c?.whole, c?.passage, c?.bias];
    if (m.mlp) numbers.push(c?.mlpWhole, c?.mlpPassage);
    if (!numbers.every((v) => typeof v === 'number' && Number.isFinite(v)))
      throw new Error(
        `messages/safety/model.json: head ${name} has a missing or non-finite number`,
      );
    heads[name] = { weights, bias: spec.bias, calibration: c };
  });
  return {
    bits: m.bits,
    heads,
    ...(m.mlp ? { mlp: decodeMlp(m.mlp, view, HEADS.length * size * 2) } : {}),
    thresholds: m.thresholds,
    decisiveRules: m.decisiveRules,
    rulesAsk: m.rulesAsk !== false,
    shortAskWords: m.shortAskWords ?? 0,
  };
}
