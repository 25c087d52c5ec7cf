// Stage 4 of the safety screen: three bands from the rules and the model.
//   act   the safety message now, advice held, an operator alerted (what a flag always did)
//   ask   a discreet check-in now ("reply SAFE for private support options") and an item in
//         the operator's review queue; no hold
//   none  an ordinary reply
// A category acts when its calibrated "acts" probability reaches the act threshold, or when a
// rule that was decisive on the training data fired. It is asked about when its "any concern"
// probability reaches the ask threshold, or when a self-harm phrase was only softened by
// laughter ("i want to die lol" is at least ask, whatever the model says), or, when the model
// says so (`rulesAsk`, chosen in training), when any of its rules fired. A very short reply with
// no rule hit is at most ask (`shortAskWords`): it cannot say enough to hold a program. Thresholds come with the model (chosen on
// out-of-fold scores, see train.ts) and are passed in, like the clock.
import type { SafetyCategory } from '../content/types.ts';
import type { SafetyModel } from './model.ts';
import type { RuleHits } from './rules.ts';
import { SAFETY_CATEGORIES } from './rules.ts';

export type Band = 'act' | 'ask' | 'none';
export const BAND_RANK: Record<Band, number> = { none: 0, ask: 1, act: 2 };

/** Calibrated probabilities per category: "acts" (current danger) and "any" (act or ask). */
export type CategoryRisk = Record<SafetyCategory, { act: number; any: number }>;

export interface BandDecision {
  band: Band;
  /** Categories that act: each gets its safety message. */
  categories: SafetyCategory[];
  /** Categories at the ask level (behind an `ask` band; informative when the band is act). */
  concern: SafetyCategory[];
}

export function decideBand(
  hits: RuleHits,
  risk: CategoryRisk,
  model: Pick<SafetyModel, 'thresholds' | 'decisiveRules' | 'rulesAsk' | 'shortAskWords'>,
  words = Infinity,
): BandDecision {
  const categories: SafetyCategory[] = [];
  const concern: SafetyCategory[] = [];
  const short = words <= model.shortAskWords && hits.matched.length === 0;
  for (const c of SAFETY_CATEGORIES) {
    const prefix = `${c}:`;
    const fired = hits.matched.filter((m) => m.startsWith(prefix));
    const softened = hits.softened.some((m) => m.startsWith(prefix));
    const decisive = fired.some((m) => model.decisiveRules.includes(m));
    if (decisive || (risk[c].act >= model.thresholds.act[c] && !short)) categories.push(c);
    else if (
      risk[c].any >= model.thresholds.ask[c] ||
      risk[c].act >= model.thresholds.act[c] ||
      softened ||
      (model.rulesAsk && fired.length > 0)
    )
      concern.push(c);
  }
  const band: Band = categories.length > 0 ? 'act' : concern.length > 0 ? 'ask' : 'none';
  return { band, categories, concern };
}

/**
 * A second reader's probabilities can raise a category (to ask or act, by the same thresholds),
 * never lower one.
 */
export function raiseBand(
  decision: BandDecision,
  reader: Partial<Record<SafetyCategory, number>>,
  thresholds: SafetyModel['thresholds'],
): BandDecision {
  const categories = [...decision.categories];
  const concern = [...decision.concern];
  for (const c of SAFETY_CATEGORIES) {
    const p = reader[c];
    if (p === undefined || categories.includes(c)) continue;
    if (p >= thresholds.act[c]) {
      categories.push(c);
      const i = concern.indexOf(c);
      if (i >= 0) concern.splice(i, 1);
    } else if (p >= thresholds.ask[c] && !concern.includes(c)) concern.push(c);
  }
  const order = (list: SafetyCategory[]) => SAFETY_CATEGORIES.filter((c) => list.includes(c));
  const band: Band = categories.length > 0 ? 'act' : concern.length > 0 ? 'ask' : 'none';
  return { band, categories: order(categories), concern: order(concern) };
}

/** The higher of two bands. */
export const maxBand = (a: Band, b: Band): Band => (BAND_RANK[a] >= BAND_RANK[b] ? a : b);
