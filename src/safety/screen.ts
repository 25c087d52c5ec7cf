// The safety screen as one pipeline: which text is read (normalize.ts) -> phrase rules
// (rules.ts) -> features and the learned model (features.ts, model.ts) -> bands (bands.ts).
// Pure: the rules and the model come in, like the clock; the same text always gives the same
// verdict. `matched` and `why` may be stored with a flag: `matched` names rules only; `why` holds
// the words that drove the score, so it is kept encrypted and shown only to operators.
import type { SafetyCategory } from '../content/types.ts';
import { decideBand, maxBand, type BandDecision, type CategoryRisk } from './bands.ts';
import { extractFeatures, replyFeatures } from './features.ts';
import { predict, topFeatures, type SafetyModel } from './model.ts';
import { screenForms } from '../core/normalize.ts';
import { screeningText, wordsIn, type ScreeningText } from './normalize.ts';
import { matchRules, type CompiledRules } from './rules.ts';

export interface SafetyScreener {
  rules: CompiledRules;
  model: SafetyModel;
}

export interface SafetyVerdict extends BandDecision {
  /** Calibrated probability that the reply discloses current danger, per category. */
  risk: Record<SafetyCategory, number>;
  /** Calibrated probability of any concern (act or ask), per category. */
  concernRisk: Record<SafetyCategory, number>;
  /** Rule labels that fired ("abuse:threat"); softened self-harm labels end in "~lol". */
  matched: string[];
  /** With `explain`: the features that raised the score most (may quote the person's words). */
  why: string[];
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** Screens one text (already chosen by screeningText). */
export interface ScreenOptions {
  /** Keep the features that drove the score ("why"). */
  explain?: boolean;
  /**
   * Rules only: for a reply that is a whole keyword or a bare number ("PAUSE", "TIME 7pm", "1"),
   * where a model of free text has nothing to read and would only guess.
   */
  rulesOnly?: boolean;
}

const NO_RISK = { abuse: { act: 0, any: 0 }, self_harm: { act: 0, any: 0 } };

export function screenText(
  text: string,
  screener: SafetyScreener,
  opts: ScreenOptions = {},
): SafetyVerdict {
  const { rules, model } = screener;
  const forms = screenForms(text, rules.aliases);
  const hits = matchRules(text, rules, forms);
  let risk: CategoryRisk = NO_RISK;
  if (!opts.rulesOnly) {
    const { whole, passages } = replyFeatures(forms[0] ?? '', hits, { bits: model.bits });
    const p = predict(model, whole, passages);
    risk = {
      abuse: { act: p.abuse_act, any: Math.max(p.abuse_any, p.abuse_act) },
      self_harm: { act: p.self_harm_act, any: Math.max(p.self_harm_any, p.self_harm_act) },
    };
  }
  const decision = decideBand(hits, risk, model, wordsIn(text));
  // "why" names the features of a flagged reply only: ordinary replies skip the naming.
  const focus = decision.categories[0] ?? decision.concern[0];
  const why =
    opts.explain && focus && !opts.rulesOnly
      ? topFeatures(
          model.heads[`${focus}_act`],
          extractFeatures(text, hits, {
            bits: model.bits,
            canonical: forms[0] ?? '',
            explain: true,
          }),
          6,
        )
      : [];
  return {
    ...decision,
    risk: { abuse: round3(risk.abuse.act), self_harm: round3(risk.self_harm.act) },
    concernRisk: { abuse: round3(risk.abuse.any), self_harm: round3(risk.self_harm.any) },
    matched: [...hits.matched, ...hits.softened.map((m) => `${m}~lol`)],
    why,
  };
}

/** Screens a reply as it arrived on its channel (email: quoted text out, footers in). */
export function screenReply(
  text: string,
  channel: 'sms' | 'email',
  screener: SafetyScreener,
  opts: ScreenOptions = {},
): SafetyVerdict {
  return screenChosen(screeningText(text, channel), screener, opts);
}

/** Screens the text(s) screeningText chose: the primary, then the capped second pass if any. */
export function screenChosen(
  { primary, fallback }: ScreeningText,
  screener: SafetyScreener,
  opts: ScreenOptions = {},
): SafetyVerdict {
  const first = screenText(primary, screener, opts);
  if (fallback === null || first.band !== 'none') return first;
  const second = screenText(fallback, screener, opts);
  if (second.band === 'none') return first;
  // Capped at ask: the second pass may be reading our own quoted words.
  const concern = [...new Set([...second.concern, ...second.categories])];
  return {
    ...second,
    band: maxBand(first.band, 'ask'),
    categories: [],
    concern,
  };
}
