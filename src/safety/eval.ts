// Stage 6: how well the screen does on labelled replies, in the terms the targets use.
//   act recall      danger replies (band act) that acted
//   act+ask recall  danger replies that acted or asked
//   crisis routed   self-harm danger replies whose self-harm safety message went out
//   ordinary act / ask   ordinary replies (band none) that acted / asked
//   past act        danger told by someone safe now that acted (they belong in ask at most)
import type { Band } from './bands.ts';
import type { LabelledReply } from './data.ts';
import type { SafetyCategory } from '../content/types.ts';

export interface Outcome {
  band: Band;
  categories: SafetyCategory[];
}

export interface Ratio {
  hits: number;
  total: number;
}

export interface EvalFigures {
  n: number;
  actRecall: Ratio;
  actOrAskRecall: Ratio;
  crisisRouted: Ratio;
  ordinaryAct: Ratio;
  ordinaryAsk: Ratio;
  pastAct: Ratio;
  unclearActOrAsk: Ratio;
  /** Act recall by category and language, e.g. "abuse/es". */
  byGroup: Record<string, Ratio>;
}

const ratio = (): Ratio => ({ hits: 0, total: 0 });
const add = (r: Ratio, hit: boolean) => {
  r.total += 1;
  if (hit) r.hits += 1;
};

export function evaluate(
  cases: readonly LabelledReply[],
  outcomes: readonly Outcome[],
): EvalFigures {
  const f: EvalFigures = {
    n: cases.length,
    actRecall: ratio(),
    actOrAskRecall: ratio(),
    crisisRouted: ratio(),
    ordinaryAct: ratio(),
    ordinaryAsk: ratio(),
    pastAct: ratio(),
    unclearActOrAsk: ratio(),
    byGroup: {},
  };
  cases.forEach((c, i) => {
    const o = outcomes[i] as Outcome;
    if (c.band === 'act') {
      add(f.actRecall, o.band === 'act');
      add(f.actOrAskRecall, o.band !== 'none');
      if (c.labels.includes('self_harm')) add(f.crisisRouted, o.categories.includes('self_harm'));
      for (const label of c.labels) {
        const key = `${label}/${c.lang}`;
        add((f.byGroup[key] ??= ratio()), o.band === 'act');
      }
    } else if (c.band === 'none') {
      add(f.ordinaryAct, o.band === 'act');
      add(f.ordinaryAsk, o.band === 'ask');
    } else if (c.kind === 'past') {
      add(f.pastAct, o.band === 'act');
    } else {
      add(f.unclearActOrAsk, o.band !== 'none');
    }
  });
  return f;
}

export const pct = (r: Ratio) =>
  r.total === 0 ? '-' : `${((100 * r.hits) / r.total).toFixed(1)}%`;
const cell = (r: Ratio) => `${pct(r)} (${r.hits}/${r.total})`;

/** The targets of the safety screen (issue 12), checked against figures. */
export const TARGETS = {
  actRecall: { min: 0.95 },
  actOrAskRecall: { min: 0.98 },
  crisisRouted: { min: 0.95 },
  ordinaryAct: { max: 0.03 },
  ordinaryAsk: { max: 0.08 },
  pastAct: { max: 0.3 },
} as const;

export function missedTargets(f: EvalFigures): string[] {
  const out: string[] = [];
  for (const [key, target] of Object.entries(TARGETS)) {
    const r = f[key as keyof typeof TARGETS];
    if (r.total === 0) continue;
    const v = r.hits / r.total;
    if ('min' in target && v < target.min) out.push(`${key} ${pct(r)} < ${target.min * 100}%`);
    if ('max' in target && v > target.max) out.push(`${key} ${pct(r)} > ${target.max * 100}%`);
  }
  return out;
}

/** One Markdown table row per figure. */
export function formatFigures(f: EvalFigures): string[] {
  const rows = [
    `act recall (danger) | ${cell(f.actRecall)}`,
    `act or ask (danger) | ${cell(f.actOrAskRecall)}`,
    `self-harm routed to crisis | ${cell(f.crisisRouted)}`,
    `act on ordinary | ${cell(f.ordinaryAct)}`,
    `ask on ordinary | ${cell(f.ordinaryAsk)}`,
    `act on past danger (safe now) | ${cell(f.pastAct)}`,
    `act or ask on unclear | ${cell(f.unclearActOrAsk)}`,
  ];
  for (const key of Object.keys(f.byGroup).sort())
    rows.push(`act recall ${key} | ${cell(f.byGroup[key] as Ratio)}`);
  return rows;
}
