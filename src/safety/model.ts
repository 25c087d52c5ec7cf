// Stage 3b of the safety screen: the learned risk model. Four logistic heads over the same hashed
// features (features.ts): for each category, "acts" (current danger: the safety message now) and
// "any concern" (act or ask: past danger, or worrying but unclear). Each head's score is
// calibrated (Platt scaling fitted on out-of-fold scores), so its output reads as a probability.
// The model is data: messages/safety/model.json (settings, calibration, thresholds) and
// model.bin (the weights, int16). Pure: it is loaded once and passed in, like the clock.
import type { SafetyCategory } from '../content/types.ts';
import type { Features } from './features.ts';

export const HEADS = ['abuse_act', 'abuse_any', 'self_harm_act', 'self_harm_any'] as const;
export type HeadName = (typeof HEADS)[number];

export interface Head {
  weights: Float32Array;
  bias: number;
  /** Platt scaling: p = sigmoid(a * score + b). */
  platt: { a: number; b: number };
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
  thresholds: BandThresholds;
  /** Rule labels precise enough on the training data to act on their own. */
  decisiveRules: string[];
  /** Whether any rule hit is at least `ask` (chosen in training; softened self-harm always is). */
  rulesAsk: boolean;
}

/** What model.json holds besides the weights. */
export interface ModelMeta {
  format: 'steady-safety-model/1';
  bits: number;
  heads: Record<HeadName, { bias: number; platt: { a: number; b: number }; scale: number }>;
  thresholds: BandThresholds;
  decisiveRules: string[];
  rulesAsk: boolean;
  /** How the model was made: data files and counts, seed, settings (for people, not code). */
  training: Record<string, unknown>;
}

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

/** Calibrated probabilities of every head. */
export function predict(model: SafetyModel, f: Features): Risk {
  const out = {} as Risk;
  for (const name of HEADS) {
    const head = model.heads[name];
    out[name] = sigmoid(head.platt.a * headScore(head, f) + head.platt.b);
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
  const bin = Buffer.alloc(HEADS.length * size * 2);
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
    heads[name] = { bias: round(head.bias), platt: roundPlatt(head.platt), scale };
  });
  return {
    meta: {
      format: 'steady-safety-model/1',
      bits: model.bits,
      heads,
      thresholds: model.thresholds,
      decisiveRules: model.decisiveRules,
      rulesAsk: model.rulesAsk,
      training,
    },
    bin,
  };
}

const round = (x: number) => Math.round(x * 1e6) / 1e6;
const roundPlatt = (p: { a: number; b: number }) => ({ a: round(p.a), b: round(p.b) });

/** Rebuilds a model from model.json and model.bin; errors say which file is wrong. */
export function decodeModel(meta: unknown, bin: Uint8Array): SafetyModel {
  const m = meta as Partial<ModelMeta> | null;
  if (!m || m.format !== 'steady-safety-model/1' || typeof m.bits !== 'number' || !m.heads) {
    throw new Error('messages/safety/model.json: not a steady-safety-model/1 file');
  }
  const size = 1 << m.bits;
  if (bin.byteLength !== HEADS.length * size * 2) {
    throw new Error(
      `messages/safety/model.bin: ${bin.byteLength} bytes, expected ${HEADS.length * size * 2} for ${m.bits} bits`,
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
    for (let i = 0; i < size; i += 1) weights[i] = view.getInt16((h * size + i) * 2, true) * spec.scale;
    heads[name] = { weights, bias: spec.bias, platt: spec.platt };
  });
  return {
    bits: m.bits,
    heads,
    thresholds: m.thresholds,
    decisiveRules: m.decisiveRules,
    rulesAsk: m.rulesAsk !== false,
  };
}
