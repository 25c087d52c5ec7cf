// Training the learned risk model: seeded, so the same data gives the same model byte for byte.
//   1. each reply is read as the screen reads it (screeningText, rules, features)
//   2. four logistic heads (L2, AdaGrad), and with --mlp an MLP beside them (mlp.ts), are
//      trained 5 times on 4/5 of the data, scoring the fifth they did not see: every reply gets
//      out-of-fold scores
//   3. a calibration (a logistic fit on the whole reply's score and its highest passage's, from
//      the heads and from the MLP) is fitted on those scores, and the band thresholds are
//      chosen on them with the real band logic (bands.ts), rules included
//   4. rules precise enough on the data act on their own ("decisive")
//   5. the final heads (and MLP) are trained on all the data
// Cross-validated figures are a check, not the headline: the blind sets (eval/) are.
import type { SafetyCategory } from '../content/types.ts';
import { screenForms } from '../core/normalize.ts';
import { prng } from '../core/random.ts';
import { decideBand, type CategoryRisk } from './bands.ts';
import type { LabelledReply } from './data.ts';
import { evaluate, type EvalFigures, type Outcome } from './eval.ts';
import { replyFeatures, type Features } from './features.ts';
import { mlpScores, trainMlp, type Mlp, type MlpOptions } from './mlp.ts';
import {
  calibrate,
  HEADS,
  headScore,
  sigmoid,
  type BandThresholds,
  type Calibration,
  type Head,
  type HeadName,
  type SafetyModel,
} from './model.ts';
import { screeningText, wordsIn } from './normalize.ts';
import { matchRules, SAFETY_CATEGORIES, type CompiledRules, type RuleHits } from './rules.ts';

export interface TrainOptions {
  seed: number;
  bits: number;
  epochs: number;
  learningRate: number;
  l2: number;
  folds: number;
  /** Weight of a positive example in training (a missed disclosure costs more than a false one). */
  positiveWeight: number;
  /**
   * False-alarm limits applied to the out-of-fold scores when choosing thresholds: ordinary
   * replies acted on / asked about, past danger acted on. Out-of-fold figures on the training
   * data run higher than on blind sets (the training data is packed with hard negatives), so
   * the limits are set by the development blind set's figures (see eval/LEDGER.md).
   */
  limits: { ordinaryAct: number; ordinaryAsk: number; pastAct: number };
  /**
   * An MLP beside the heads (mlp.ts), or null: heads only. Off by default: v9, the one model
   * trained with it, bought one disclosure for five false alarms on its first look (LEDGER.md).
   */
  mlp: MlpOptions | null;
  /**
   * What the act heads learn (and are calibrated on) for an `unclear` reply of their category.
   * v6 had 0 (an unclear reply is not acting), which pushed down every disclosure that reads
   * like one; from v12 on it is 0.25 (LEDGER.md). The targets of the bands do not change.
   */
  unclearTarget: number;
  /**
   * The least short-reply cap the search may choose (0: any of SHORT_ASK_WORDS). A short reply
   * that acts is not read as an opt-out, so a cap under 7 words can keep a person from stopping
   * the messages ("cut it out with the texts already", LEDGER.md v11).
   */
  minShortAskWords: number;
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
  positiveWeight: 1,
  limits: { ordinaryAct: 0.04, ordinaryAsk: 0.08, pastAct: 0.3 },
  mlp: null,
  unclearTarget: 0.25,
  minShortAskWords: 7,
};

interface Prepared {
  reply: LabelledReply;
  hits: RuleHits;
  features: Features;
  /** The reply's passages (features.ts replyFeatures): scored, not trained on. */
  passages: Features[];
  words: number;
  /** The labels, per head. */
  targets: Record<HeadName, number>;
  /** What each head learns: the labels, but unclearTarget on the act head of an unclear reply. */
  fit: Record<HeadName, number>;
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

function fitOf(
  r: LabelledReply,
  targets: Record<HeadName, number>,
  unclearTarget: number,
): Record<HeadName, number> {
  if (r.kind !== 'unclear') return targets;
  const soft = (c: SafetyCategory) =>
    targets[`${c}_act`] === 0 && targets[`${c}_any`] === 1 ? unclearTarget : targets[`${c}_act`];
  return { ...targets, abuse_act: soft('abuse'), self_harm_act: soft('self_harm') };
}

export function prepare(
  replies: readonly LabelledReply[],
  rules: CompiledRules,
  bits: number,
  unclearTarget = 0,
) {
  return replies.map((reply): Prepared => {
    const text = screeningText(reply.text, reply.channel).primary;
    const targets = targetsOf(reply);
    const forms = screenForms(text, rules.aliases);
    const hits = matchRules(text, rules, forms);
    const { whole, passages } = replyFeatures(forms[0] ?? '', hits, { bits });
    return {
      reply,
      hits,
      features: whole,
      passages,
      words: wordsIn(text),
      targets,
      fit: fitOf(reply, targets, unclearTarget),
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
  const random = prng(seed);
  let order = data.map((_, i) => i);
  for (let epoch = 0; epoch < o.epochs; epoch += 1) {
    order = shuffled(order, random);
    for (const k of order) {
      const { features: f, fit } = data[k] as Prepared;
      for (const name of HEADS) {
        const head = heads[name];
        const g2 = sq[name];
        let z = head.bias;
        for (let i = 0; i < f.indices.length; i += 1)
          z += (head.weights[f.indices[i] as number] as number) * (f.values[i] as number);
        const y = fit[name];
        const g = (sigmoid(z) - y) * (y === 1 ? o.positiveWeight : 1);
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

/**
 * The calibration of one head: logistic regression of the target on the whole reply's score and
 * its highest passage's score, and the MLP's two when there is one (Newton's method on Platt's
 * smoothed targets; a step that would raise the loss is halved until it does not, and a step
 * that gives no finite loss ends the fit).
 */
export function fitCalibration(
  whole: readonly number[],
  passage: readonly number[],
  targets: readonly number[],
  mlp?: { whole: readonly number[]; passage: readonly number[] },
): Calibration {
  const columns = mlp ? [whole, passage, mlp.whole, mlp.passage] : [whole, passage];
  const n = columns.length + 1; // + bias
  const pos = targets.filter((t) => t === 1).length;
  const neg = targets.length - pos;
  const hi = (pos + 1) / (pos + 2);
  const lo = 1 / (neg + 2);
  // Platt's smoothed target; a soft target (unclearTarget) lies between the two.
  const smoothed = (t: number) => (t === 1 ? hi : t === 0 ? lo : lo + t * (hi - lo));
  // With the MLP, four correlated scores: a little ridge keeps the weights small and the system
  // well conditioned. Heads only: no ridge, and on the shipped data the same fit as before the
  // step halving (v6 rebuilds byte for byte; a fit that used to diverge now converges instead).
  const ridge = mlp ? 1e-4 * targets.length : 0;
  const x = (i: number, r: number) => (r < columns.length ? (columns[r]![i] as number) : 1);
  const loss = (w: number[]) => {
    let l = 0;
    targets.forEach((t, i) => {
      let z = 0;
      for (let r = 0; r < n; r += 1) z += w[r]! * x(i, r);
      const y = smoothed(t);
      l += Math.log1p(Math.exp(-Math.abs(z))) + Math.max(z, 0) - y * z;
    });
    for (let r = 0; r < n - 1; r += 1) l += 0.5 * ridge * w[r]! * w[r]!;
    return l;
  };
  let w = new Array<number>(n).fill(0);
  w[0] = 1;
  let current = loss(w);
  for (let iter = 0; iter < 100; iter += 1) {
    const g = w.map((v, r) => (r < n - 1 ? ridge * v : 0));
    const h = w.map((_, r) => w.map((__, c) => (r === c ? (r < n - 1 ? ridge : 0) + 1e-9 : 0)));
    targets.forEach((t, i) => {
      let z = 0;
      for (let r = 0; r < n; r += 1) z += w[r]! * x(i, r);
      const p = sigmoid(z);
      const d = p - smoothed(t);
      const v = p * (1 - p);
      for (let r = 0; r < n; r += 1) {
        g[r]! += d * x(i, r);
        for (let c = 0; c < n; c += 1) h[r]![c]! += v * x(i, r) * x(i, c);
      }
    });
    const step = solve(h, g);
    if (step === null) break;
    let scale = 1;
    let next = w.map((v, k) => v - step[k]!);
    let value = loss(next);
    // `!(value <= current)`: a NaN loss counts as worse, never as better.
    while (!(value <= current) && scale > 1e-6) {
      scale /= 2;
      next = w.map((v, k) => v - scale * step[k]!);
      value = loss(next);
    }
    if (!(value <= current)) break;
    w = next;
    current = value;
    if (step.every((s) => Math.abs(s * scale) < 1e-9)) break;
  }
  return mlp
    ? { whole: w[0]!, passage: w[1]!, mlpWhole: w[2]!, mlpPassage: w[3]!, bias: w[4]! }
    : { whole: w[0]!, passage: w[1]!, bias: w[2]! };
}

/** Solves h x = g (Gaussian elimination with partial pivoting); null when singular. */
function solve(h: number[][], g: number[]): number[] | null {
  const n = g.length;
  const a = h.map((row, r) => [...row, g[r]!]);
  for (let c = 0; c < n; c += 1) {
    let p = c;
    for (let r = c + 1; r < n; r += 1) if (Math.abs(a[r]![c]!) > Math.abs(a[p]![c]!)) p = r;
    if (Math.abs(a[p]![c]!) < 1e-12) return null;
    [a[c], a[p]] = [a[p]!, a[c]!];
    for (let r = 0; r < n; r += 1) {
      if (r === c) continue;
      const f = a[r]![c]! / a[c]![c]!;
      for (let k = c; k <= n; k += 1) a[r]![k]! -= f * a[c]![k]!;
    }
  }
  return a.map((row, r) => row[n]! / row[r]!);
}

interface RawScores {
  whole: number;
  passage: number;
  mlpWhole: number;
  mlpPassage: number;
}

/** A reply's raw scores from trained heads (and MLP): the whole text, its highest passage. */
function rawScores(
  d: Prepared,
  heads: Record<HeadName, { weights: Float32Array; bias: number }>,
  mlp: Mlp | null,
): Record<HeadName, RawScores> {
  const mw = mlp ? mlpScores(mlp, d.features) : null;
  const mp = mlp ? d.passages.map((p) => mlpScores(mlp, p)) : [];
  const out = {} as Record<HeadName, RawScores>;
  for (const name of HEADS) {
    const head = { ...heads[name], calibration: { whole: 1, passage: 0, bias: 0 } };
    const whole = headScore(head, d.features);
    const passage = d.passages.length
      ? Math.max(...d.passages.map((p) => headScore(head, p)))
      : whole;
    const mlpWhole = mw ? mw[name] : 0;
    const mlpPassage = mp.length ? Math.max(...mp.map((s) => s[name])) : mlpWhole;
    out[name] = { whole, passage, mlpWhole, mlpPassage };
  }
  return out;
}

const riskFrom = (p: Record<HeadName, number>): CategoryRisk => ({
  abuse: { act: p.abuse_act, any: Math.max(p.abuse_any, p.abuse_act) },
  self_harm: { act: p.self_harm_act, any: Math.max(p.self_harm_any, p.self_harm_act) },
});

/** How often a rule must fire, and how often on current danger, to act on its own. */
export const DECISIVE = Object.freeze({ minHits: 8, precision: 0.98 });

/** Rule labels that, on the data, almost always mean current danger of their category. */
export function decisiveRulesOf(data: readonly Prepared[]): string[] {
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
    .filter(([, s]) => s.n >= DECISIVE.minHits && s.act / s.n >= DECISIVE.precision)
    .map(([label]) => label)
    .sort();
}

/**
 * Chooses band thresholds on out-of-fold risks: best recall within the false-alarm limits. The
 * search evaluates the band logic of bands.ts in a flat form (it is called ~10^4 times); the
 * chosen thresholds are then checked with decideBand itself.
 */
export function chooseThresholds(
  data: readonly Prepared[],
  risks: readonly CategoryRisk[],
  decisiveRules: string[],
  rulesAsk: boolean,
  limits: TrainOptions['limits'],
  shortAskWords = 0,
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
        ruled: (rulesAsk && fired.length > 0) || d.hits.softened.some((m) => m.startsWith(`${c}:`)),
        act: risk[c].act,
        any: risk[c].any,
      };
    });
  });
  const short = data.map((d) => d.words <= shortAskWords && d.hits.matched.length === 0);
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
        const over = r.act >= (ta[k] as number);
        if (r.decisive || (over && !short[i])) {
          acts = true;
          if (k === 1) selfActs = true;
        } else if (over || r.any >= (tq[k] as number) || r.ruled) asks = true;
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
    const over =
      Math.max(0, noneAct / nNone - limits.ordinaryAct) * 20 +
      Math.max(0, noneAsk / nNone - limits.ordinaryAsk) * 10 +
      Math.max(0, pastAct / nPast - limits.pastAct) * 5;
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
    decideBand(
      d.hits,
      risks[i] as CategoryRisk,
      { thresholds, decisiveRules, rulesAsk, shortAskWords },
      d.words,
    ),
  );
  return {
    thresholds,
    figures: evaluate(
      data.map((d) => d.reply),
      outcomes,
    ),
    value: best.value,
  };
}

type Chosen = ReturnType<typeof chooseThresholds> & { rulesAsk: boolean; shortAskWords: number };
const SHORT_ASK_WORDS = [0, 3, 5, 7];

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
  const caps = SHORT_ASK_WORDS.filter((n) => n >= o.minShortAskWords);
  if (caps.length === 0)
    throw new Error(
      `minShortAskWords ${o.minShortAskWords} leaves no short-reply cap to choose (${SHORT_ASK_WORDS.join(', ')})`,
    );
  log(`reading ${replies.length} replies`);
  const data = prepare(replies, rules, o.bits, o.unclearTarget);
  const random = prng(o.seed);
  const fold = shuffled(
    data.map((_, i) => i % o.folds),
    random,
  );
  // Out-of-fold raw scores per reply and head: the heads' whole and passage, the MLP's two.
  const oof = data.map(() => ({}) as Record<HeadName, RawScores>);
  for (let k = 0; k < o.folds; k += 1) {
    log(`fold ${k + 1}/${o.folds}`);
    const train = data.filter((_, i) => fold[i] !== k);
    const heads = trainHeads(train, o, o.seed + k + 1);
    const mlp = o.mlp ? trainMlp(train, o.mlp, o.seed + k + 1) : null;
    data.forEach((d, i) => {
      if (fold[i] === k) oof[i] = rawScores(d, heads, mlp);
    });
  }
  const column = (name: HeadName, k: keyof RawScores) => oof.map((s) => s[name][k]);
  const calibration = Object.fromEntries(
    HEADS.map((name) => [
      name,
      fitCalibration(
        column(name, 'whole'),
        column(name, 'passage'),
        data.map((d) => d.fit[name]),
        o.mlp
          ? { whole: column(name, 'mlpWhole'), passage: column(name, 'mlpPassage') }
          : undefined,
      ),
    ]),
  ) as Record<HeadName, Calibration>;
  const risks = oof.map((s) =>
    riskFrom(
      Object.fromEntries(
        HEADS.map((name) => {
          const r = s[name];
          return [name, calibrate(calibration[name], r.whole, r.passage, r.mlpWhole, r.mlpPassage)];
        }),
      ) as Record<HeadName, number>,
    ),
  );
  const decisiveRules = decisiveRulesOf(data);
  log(`choosing thresholds (${decisiveRules.length} decisive rules)`);
  // With and without "any rule hit is at least ask", and with short replies capped at ask or
  // not: whichever serves the targets better on the out-of-fold scores.
  let chosen: Chosen | null = null;
  for (const rulesAsk of [true, false]) {
    for (const shortAskWords of caps) {
      const c = {
        rulesAsk,
        shortAskWords,
        ...chooseThresholds(data, risks, decisiveRules, rulesAsk, o.limits, shortAskWords),
      };
      log(`rules ask ${rulesAsk}, short replies ${shortAskWords}: objective ${c.value.toFixed(4)}`);
      if (chosen === null || c.value > chosen.value) chosen = c;
    }
  }
  const { thresholds, figures, rulesAsk, shortAskWords } = chosen as Chosen;
  log('final training on all data');
  const finalHeads = trainHeads(data, o, o.seed);
  const finalMlp = o.mlp ? trainMlp(data, o.mlp, o.seed) : null;
  const heads = Object.fromEntries(
    HEADS.map((name) => [
      name,
      { ...finalHeads[name], calibration: calibration[name] } satisfies Head,
    ]),
  ) as Record<HeadName, Head>;
  const counts: Record<string, number> = {};
  for (const r of replies) {
    for (const key of [
      `band ${r.band}`,
      `kind ${r.kind}`,
      `lang ${r.lang}`,
      `channel ${r.channel}`,
    ])
      counts[key] = (counts[key] ?? 0) + 1;
  }
  return {
    model: {
      bits: o.bits,
      heads,
      ...(finalMlp ? { mlp: finalMlp } : {}),
      thresholds,
      decisiveRules,
      rulesAsk,
      shortAskWords,
    },
    crossValidated: figures,
    counts,
    outOfFold: risks,
  };
}
