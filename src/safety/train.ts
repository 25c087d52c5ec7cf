// Training the learned risk model: seeded, so the same data gives the same model byte for byte.
//   1. each reply is read as the screen reads it (screeningText, rules, features)
//   2. four logistic heads (L2, AdaGrad) are trained 5 times on 4/5 of the data, scoring the
//      fifth they did not see: every reply gets an out-of-fold score
//   3. Platt scaling is fitted on those scores (calibration), and the band thresholds are chosen
//      on them with the real band logic (bands.ts), rules included
//   4. rules precise enough on the data act on their own ("decisive")
//   5. the final heads are trained on all the data
// Cross-validated figures are a check, not the headline: the blind sets (eval/) are.
import type { SafetyCategory } from '../content/types.ts';
import { decideBand, type CategoryRisk } from './bands.ts';
import type { LabelledReply } from './data.ts';
import { evaluate, type EvalFigures, type Outcome } from './eval.ts';
import { extractFeatures, type Features } from './features.ts';
import {
  HEADS,
  headScore,
  sigmoid,
  type BandThresholds,
  type Head,
  type HeadName,
  type SafetyModel,
} from './model.ts';
import { screeningText } from './normalize.ts';
import { matchRules, SAFETY_CATEGORIES, type CompiledRules, type RuleHits } from './rules.ts';

export interface TrainOptions {
  seed: number;
  bits: number;
  epochs: number;
  learningRate: number;
  l2: number;
  folds: number;
  /** Optional progress lines ("fold 2/5"). */
  progress?: (line: string) => void;
}

export const DEFAULT_TRAIN_OPTIONS: TrainOptions = {
  seed: 20261206,
  bits: 18,
  epochs: 12,
  learningRate: 0.25,
  l2: 1e-6,
  folds: 5,
};

interface Prepared {
  reply: LabelledReply;
  hits: RuleHits;
  features: Features;

  targets: Record<HeadName, number>;
}

/** mulberry32: small, seeded, and the same on every machine. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

function targetsOf(r: LabelledReply): Record<HeadName, number> {
  const has = (c: SafetyCategory) => r.labels.includes(c);
  return {
    abuse_act: r.band === 'act' && has('abuse') ? 1 : 0,
    abuse_any: r.band !== 'none' && has('abuse') ? 1 : 0,
    self_harm_act: r.band === 'act' && has('self_harm') ? 1 : 0,
    self_harm_any: r.band !== 'none' && has('self_harm') ? 1 : 0,
  };
}

export function prepare(replies: readonly LabelledReply[], rules: CompiledRules, bits: number) {
  return replies.map((reply): Prepared => {
    const text = screeningText(reply.text, reply.channel).primary;
    const hits = matchRules(text, rules);
    const settings = { bits, aliases: rules.aliases };
    return {
      reply,
      hits,
      features: extractFeatures(text, hits, settings),
      targets: targetsOf(reply),
    };
  });
}

function trainHeads(data: readonly Prepared[], o: TrainOptions, seed: number) {
  const size = 1 << o.bits;
  const heads = Object.fromEntries(
    HEADS.map((name) => [name, { weights: new Float32Array(size), bias: 0 }]),
  ) as Record<HeadName, { weights: Float32Array; bias: number }>;
  const sq = Object.fromEntries(HEADS.map((name) => [name, new Float32Array(size)])) as Record<
    HeadName,
    Float32Array
  >;
  const biasSq = Object.fromEntries(HEADS.map((name) => [name, 0])) as Record<HeadName, number>;
  const random = rng(seed);
  let order = data.map((_, i) => i);
  for (let epoch = 0; epoch < o.epochs; epoch += 1) {
    order = shuffled(order, random);
    for (const k of order) {
      const { features: f, targets } = data[k] as Prepared;
      for (const name of HEADS) {
        const head = heads[name];
        const g2 = sq[name];
        let z = head.bias;
        for (let i = 0; i < f.indices.length; i += 1)
          z += (head.weights[f.indices[i] as number] as number) * (f.values[i] as number);
        const g = sigmoid(z) - targets[name];
        for (let i = 0; i < f.indices.length; i += 1) {
          const idx = f.indices[i] as number;
          const w = head.weights[idx] as number;
          const grad = g * (f.values[i] as number) + o.l2 * w;
          const acc = (g2[idx] as number) + grad * grad;
          g2[idx] = acc;
          head.weights[idx] = w - (o.learningRate * grad) / Math.sqrt(acc + 1e-8);
        }
        biasSq[name] += g * g;
        head.bias -= (o.learningRate * g) / Math.sqrt(biasSq[name] + 1e-8);
      }
    }
  }
  return heads;
}

/** Platt scaling by Newton's method on log loss, with the usual target smoothing. */
export function fitPlatt(scores: readonly number[], targets: readonly number[]) {
  const pos = targets.filter((t) => t === 1).length;
  const neg = targets.length - pos;
  const hi = (pos + 1) / (pos + 2);
  const lo = 1 / (neg + 2);
  const y = targets.map((t) => (t === 1 ? hi : lo));
  let a = 1;
  let b = 0;
  for (let iter = 0; iter < 100; iter += 1) {
    let ga = 0;
    let gb = 0;
    let haa = 1e-9;
    let hab = 0;
    let hbb = 1e-9;
    scores.forEach((s, i) => {
      const p = sigmoid(a * s + b);
      const d = p - (y[i] as number);
      const w = p * (1 - p);
      ga += d * s;
      gb += d;
      haa += w * s * s;
      hab += w * s;
      hbb += w;
    });
    const det = haa * hbb - hab * hab;
    if (Math.abs(det) < 1e-12) break;
    const da = (hbb * ga - hab * gb) / det;
    const db = (haa * gb - hab * ga) / det;
    a -= da;
    b -= db;
    if (Math.abs(da) < 1e-9 && Math.abs(db) < 1e-9) break;
  }
  return { a, b };
}

const riskFrom = (p: Record<HeadName, number>): CategoryRisk => ({
  abuse: { act: p.abuse_act, any: Math.max(p.abuse_any, p.abuse_act) },
  self_harm: { act: p.self_harm_act, any: Math.max(p.self_harm_any, p.self_harm_act) },
});

/** Rule labels that, on the data, almost always mean current danger of their category. */
function decisiveRulesOf(data: readonly Prepared[]): string[] {
  const seen = new Map<string, { n: number; act: number }>();
  for (const d of data) {
    for (const label of d.hits.matched) {
      const c = label.split(':')[0] as SafetyCategory;
      const s = seen.get(label) ?? { n: 0, act: 0 };
      s.n += 1;
      if (d.targets[`${c}_act`] === 1) s.act += 1;
      seen.set(label, s);
    }
  }
  return [...seen]
    .filter(([, s]) => s.n >= 8 && s.act / s.n >= 0.98)
    .map(([label]) => label)
    .sort();
}

/**
 * Chooses band thresholds on out-of-fold risks: best recall within the false-alarm limits. The
 * search evaluates the band logic of bands.ts in a flat form (it is called ~10^4 times); the
 * chosen thresholds are then checked with decideBand itself.
 */
function chooseThresholds(
  data: readonly Prepared[],
  risks: readonly CategoryRisk[],
  decisiveRules: string[],
  rulesAsk: boolean,
): { thresholds: BandThresholds; figures: EvalFigures; value: number } {
  const grid: number[] = [];
  for (let t = 2; t <= 96; t += 2) grid.push(t / 100);
  const cats = SAFETY_CATEGORIES;
  // Per reply and category: decisive rule, any rule (or softened), act and any probabilities.
  const rows = data.map((d, i) => {
    const risk = risks[i] as CategoryRisk;
    return cats.map((c) => {
      const fired = d.hits.matched.filter((m) => m.startsWith(`${c}:`));
      return {
        decisive: fired.some((m) => decisiveRules.includes(m)),
        ruled:
          (rulesAsk && fired.length > 0) || d.hits.softened.some((m) => m.startsWith(`${c}:`)),
        act: risk[c].act,
        any: risk[c].any,
      };
    });
  });
  const group = data.map((d) =>
    d.reply.band === 'act' ? 'danger' : d.reply.band === 'none' ? 'none' : d.reply.kind,
  );
  const selfHarm = data.map((d) => d.reply.band === 'act' && d.reply.labels.includes('self_harm'));
  const count = (g: string) => group.filter((x) => x === g).length || 1;
  const nDanger = count('danger');
  const nNone = count('none');
  const nPast = count('past');
  const nSelf = selfHarm.filter(Boolean).length || 1;
  const score = (ta: number[], tq: number[]) => {
    let act = 0;
    let actAsk = 0;
    let crisis = 0;
    let noneAct = 0;
    let noneAsk = 0;
    let pastAct = 0;
    rows.forEach((row, i) => {
      let acts = false;
      let asks = false;
      let selfActs = false;
      row.forEach((r, k) => {
        if (r.decisive || r.act >= (ta[k] as number)) {
          acts = true;
          if (k === 1) selfActs = true;
        } else if (r.any >= (tq[k] as number) || r.ruled) asks = true;
      });
      const g = group[i];
      if (g === 'danger') {
        if (acts) act += 1;
        if (acts || asks) actAsk += 1;
        if (selfHarm[i] && selfActs) crisis += 1;
      } else if (g === 'none') {
        if (acts) noneAct += 1;
        else if (asks) noneAsk += 1;
      } else if (g === 'past' && acts) pastAct += 1;
    });
    // Margins below the targets (3% / 8% / 30%): the blind sets are harder than these.
    const over =
      Math.max(0, noneAct / nNone - 0.02) * 20 +
      Math.max(0, noneAsk / nNone - 0.06) * 10 +
      Math.max(0, pastAct / nPast - 0.25) * 5;
    return (act / nDanger) * 2 + actAsk / nDanger + crisis / nSelf - over;
  };
  let best = { ta: [0.5, 0.5], tq: [0.2, 0.2], value: -Infinity };
  for (const a of grid) {
    for (const q of grid) {
      if (q > a) break;
      const value = score([a, a], [q, q]);
      if (value > best.value) best = { ta: [a, a], tq: [q, q], value };
    }
  }
  // Then each category on its own, the other held.
  for (let k = 0; k < cats.length; k += 1) {
    for (const a of grid) {
      for (const q of grid) {
        if (q > a) break;
        const ta = [...best.ta];
        const tq = [...best.tq];
        ta[k] = a;
        tq[k] = q;
        const value = score(ta, tq);
        if (value > best.value) best = { ta, tq, value };
      }
    }
  }
  const pick = (t: number[]) =>
    Object.fromEntries(cats.map((c, k) => [c, t[k] as number])) as Record<SafetyCategory, number>;
  const thresholds = { act: pick(best.ta), ask: pick(best.tq) };
  const outcomes: Outcome[] = data.map((d, i) =>
    decideBand(d.hits, risks[i] as CategoryRisk, { thresholds, decisiveRules, rulesAsk }),
  );
  return { thresholds, figures: evaluate(data.map((d) => d.reply), outcomes), value: best.value };
}

type Chosen = ReturnType<typeof chooseThresholds> & { rulesAsk: boolean };

export interface TrainResult {
  model: SafetyModel;
  /** Out-of-fold figures at the chosen thresholds. */
  crossValidated: EvalFigures;
  counts: Record<string, number>;
  /** Calibrated out-of-fold risks, one per reply (for error analysis). */
  outOfFold: CategoryRisk[];
}

export function trainModel(
  replies: readonly LabelledReply[],
  rules: CompiledRules,
  options: Partial<TrainOptions> = {},
): TrainResult {
  const o = { ...DEFAULT_TRAIN_OPTIONS, ...options };
  const log = o.progress ?? (() => {});
  log(`reading ${replies.length} replies`);
  const data = prepare(replies, rules, o.bits);
  const random = rng(o.seed);
  const fold = shuffled(
    data.map((_, i) => i % o.folds),
    random,
  );
  const oof = data.map(() => ({}) as Record<HeadName, number>);
  for (let k = 0; k < o.folds; k += 1) {
    log(`fold ${k + 1}/${o.folds}`);
    const heads = trainHeads(
      data.filter((_, i) => fold[i] !== k),
      o,
      o.seed + k + 1,
    );
    data.forEach((d, i) => {
      if (fold[i] !== k) return;
      for (const name of HEADS) {
        oof[i]![name] = headScore({ ...heads[name], platt: { a: 1, b: 0 } }, d.features);
      }
    });
  }
  const platt = Object.fromEntries(
    HEADS.map((name) => [
      name,
      fitPlatt(
        oof.map((s) => s[name]),
        data.map((d) => d.targets[name]),
      ),
    ]),
  ) as Record<HeadName, { a: number; b: number }>;
  const risks = oof.map((s) =>
    riskFrom(
      Object.fromEntries(
        HEADS.map((name) => [name, sigmoid(platt[name].a * s[name] + platt[name].b)]),
      ) as Record<HeadName, number>,
    ),
  );
  const decisiveRules = decisiveRulesOf(data);
  log(`choosing thresholds (${decisiveRules.length} decisive rules)`);
  // With and without "any rule hit is at least ask": whichever serves the targets better.
  const [withRules, withoutRules] = [true, false].map((rulesAsk) => ({
    rulesAsk,
    ...chooseThresholds(data, risks, decisiveRules, rulesAsk),
  })) as [Chosen, Chosen];
  const { thresholds, figures, rulesAsk } =
    withRules.value >= withoutRules.value ? withRules : withoutRules;
  log(`rule hits ask: ${rulesAsk} (objective ${withRules.value.toFixed(3)} vs ${withoutRules.value.toFixed(3)})`);
  log('final training on all data');
  const finalHeads = trainHeads(data, o, o.seed);
  const heads = Object.fromEntries(
    HEADS.map((name) => [name, { ...finalHeads[name], platt: platt[name] } satisfies Head]),
  ) as Record<HeadName, Head>;
  const counts: Record<string, number> = {};
  for (const r of replies) {
    for (const key of [`band ${r.band}`, `kind ${r.kind}`, `lang ${r.lang}`, `channel ${r.channel}`])
      counts[key] = (counts[key] ?? 0) + 1;
  }
  return {
    model: { bits: o.bits, heads, thresholds, decisiveRules, rulesAsk },
    crossValidated: figures,
    counts,
    outOfFold: risks,
  };
}
