// Stage 2 of the safety screen: the phrase rules. Phrases are data (messages/safety.yaml, per
// locale and category); this file validates and compiles them, and matches a reply against every
// locale, since people write in whichever language they like. The rules' labels are also
// features of the learned model (model.ts), and bands.ts decides what a hit means.
import { z } from 'zod';
import type { SafetyCategory } from '../content/types.ts';
import { CLAUSE_BREAK, SENTENCE_BREAK, screenForms, spellingKey } from '../core/normalize.ts';
import {
  buildAnchorIndex,
  compilePattern,
  indexText,
  matchesOf,
  mayMatch,
  scan,
  type IndexedText,
  PatternError,
  type AnchorIndex,
  type CompiledPattern,
  type PatternMatch,
} from './patterns.ts';

export const SAFETY_CATEGORIES: readonly SafetyCategory[] = ['abuse', 'self_harm'];

const words = z.array(z.string().min(1));
const ruleSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9-]+$/, 'ids are lower-case words joined by "-"'),
  any: words.min(1),
  /** A match is dropped when one of these matches text overlapping it ("hit me up"). */
  unless: words.optional(),
  /** The rule is silent when one of these matches anywhere in the reply ("lol"). */
  unlessMessage: words.optional(),
  /** The rule fires only when one of these also matches somewhere in the reply. */
  with: words.optional(),
  /** False when a negation nearby does not cancel the match. Default true. */
  negatable: z.boolean().optional(),
  /** The rule reads only replies of at most this many words ("scared", "not safe"). */
  maxWords: z.number().int().min(1).max(20).optional(),
});
// A score adds the weights of the cue groups found in one sentence ("he" + "reads" + "my
// journal" + "every night"); the sentence flags when the sum reaches the threshold. Each group
// counts once; negated cues do not count; negative weights mark ordinary contexts ("we both").
const cueGroupSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9-]+$/, 'names are lower-case words joined by "-"'),
  weight: z.number().int().min(-10).max(10),
  any: words.min(1),
  /** False when a negation nearby does not cancel the cue. Default true. */
  negatable: z.boolean().optional(),
});
const scoreSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9-]+$/, 'ids are lower-case words joined by "-"'),
  category: z.enum(['abuse', 'self_harm']),
  threshold: z.number().int().min(1).max(30),
  /** Names of groups that must be found in the sentence for it to count at all. */
  require: z.array(z.string()).optional(),
  /** The score is silent when one of these matches anywhere in the reply ("lol"). */
  unlessMessage: words.optional(),
  groups: z.array(cueGroupSchema).min(2),
});
const localeSchema = z.strictObject({
  negation: z.strictObject({
    /** Negations inside a `~N` gap cancel the match: "he has never hit me". */
    words: words,
    /** Negations just before the match cancel it: "i am not scared of him". */
    before: words,
    /** Words that may stand between such a negation and the match ("not even", "no me"). */
    filler: words,
  }),
  families: z.record(z.string().regex(/^[a-z_]+$/), words.min(1)),
  /**
   * Replies that place the danger in the past and say the present is safe ("my ex was abusive,
   * this relationship is different"): they silence every abuse rule and score of the locale.
   */
  calm: words.optional(),
  abuse: z.array(ruleSchema),
  self_harm: z.array(ruleSchema),
  scores: z.array(scoreSchema).optional(),
});
const GSM7 =
  /^[@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&'()*+,\-./0-9:;<=>?¡A-ZÄÖÑÜ§¿a-zäöñüà^{}\\[~\]|€]*$/;
const smsLine = z.string().min(1).regex(GSM7, 'must use GSM-7 characters only (no curly quotes)');
const resourcesSchema = z.strictObject({
  abuse: z.array(smsLine).min(1),
  self_harm: z.array(smsLine).min(1),
  emergency: smsLine,
  /** The same lines worded for readers of one locale (see safety/resources.ts). */
  locales: z
    .record(
      z.string(),
      z.strictObject({
        abuse: z.array(smsLine).min(1),
        self_harm: z.array(smsLine).min(1),
        emergency: smsLine.optional(),
      }),
    )
    .optional(),
});
// The loader may pass the whole file or only the phrases (it also reads `resources` itself into
// Content.resources), so `resources` is validated when present and not required.
const safetySchema = z.strictObject({
  aliases: z.record(z.string(), z.string()).optional(),
  locales: z.record(z.string(), localeSchema),
  resources: z.record(z.string(), resourcesSchema).optional(),
});

interface CompiledRule {
  label: string;
  category: SafetyCategory;
  any: CompiledPattern[];
  unless: CompiledPattern[];
  unlessMessage: CompiledPattern[];
  with: CompiledPattern[];
  negatable: boolean;
  maxWords: number;
  negation: { words: Set<string>; before: Set<string>; filler: Set<string> };
}

interface CompiledCueGroup {
  name: string;
  weight: number;
  any: CompiledPattern[];
  negatable: boolean;
}

interface CompiledScore {
  label: string;
  category: SafetyCategory;
  threshold: number;
  require: string[];
  unlessMessage: CompiledPattern[];
  groups: CompiledCueGroup[];
  negation: CompiledRule['negation'];
}

export interface CompiledRules {
  rules: readonly CompiledRule[];
  scores: readonly CompiledScore[];
  aliases: ReadonlyMap<string, string>;
  /**
   * The index compileRules builds over the patterns above, so a reply is offered only the rules
   * it may match (patterns.ts). Absent (a rule set put together by hand): every rule is tried,
   * each pattern with its own anchor test; the verdicts are the same, only slower.
   */
  index?: {
    /** The patterns tried on a whole reply, by their anchor words. */
    anchors: AnchorIndex;
    /** The scores' cue patterns, tried sentence by sentence. */
    cues: AnchorIndex;
    /** For each `any` pattern, the rules (by position in `rules`) that list it. */
    ruleOwners: ReadonlyMap<CompiledPattern, readonly number[]>;
  };
}

export interface RuleHits {
  /** Labels of the rules that fired, e.g. "abuse:threat": never the person's words. */
  matched: string[];
  /**
   * Self-harm labels that fired only once laughter was ignored ("i want to die lol"). Laughter
   * never cancels self-harm; it may lower the band from act to ask (bands.ts).
   */
  softened: string[];
}

/** Validates the parsed safety.yaml and compiles its phrases; errors name the phrase. */
export function compileRules(data: unknown): CompiledRules {
  const parsed = safetySchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.join('.') ?? '';
    throw new Error(`safety.yaml: ${where || '(top level)'}: ${issue?.message ?? 'invalid'}`);
  }
  const doc = parsed.data;
  const aliases = new Map(Object.entries(doc.aliases ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  const rules: CompiledRule[] = [];
  const scores: CompiledScore[] = [];
  for (const [locale, spec] of Object.entries(doc.locales)) {
    const scope = { families: new Map(Object.entries(spec.families)), aliases };
    // Replies are compared by spelling key ("really" is "realy"), so the word lists are too.
    const keyed = (list: string[]) => new Set(list.map((w) => spellingKey(w.toLowerCase())));
    const negation = {
      words: keyed(spec.negation.words),
      before: keyed(spec.negation.before),
      filler: keyed(spec.negation.filler),
    };
    const compileIn = (where: string, phrases: string[] | undefined) =>
      (phrases ?? []).map((phrase) => {
        try {
          return compilePattern(phrase, scope);
        } catch (e) {
          const why = e instanceof PatternError || e instanceof SyntaxError ? e.message : e;
          throw new Error(`safety.yaml: ${where}: phrase "${phrase}": ${String(why)}`);
        }
      });
    const calm = compileIn(`locales.${locale}.calm`, spec.calm);
    const seenScores = new Set<string>();
    (spec.scores ?? []).forEach((score, i) => {
      const where = `locales.${locale}.scores[${i}] (${score.id})`;
      if (seenScores.has(score.id)) throw new Error(`safety.yaml: ${where}: duplicate id`);
      seenScores.add(score.id);
      const names = new Set(score.groups.map((g) => g.name));
      for (const name of score.require ?? []) {
        if (!names.has(name))
          throw new Error(`safety.yaml: ${where}: requires unknown group "${name}"`);
      }
      scores.push({
        label: `${score.category}:${score.id}`,
        category: score.category,
        threshold: score.threshold,
        require: score.require ?? [],
        unlessMessage: [
          ...compileIn(where, score.unlessMessage),
          ...(score.category === 'abuse' ? calm : []),
        ],
        groups: score.groups.map((g) => {
          // A group is one alternation ("(a|b ~2 c|...)"), tried once per sentence; phrases
          // that join halves with "&" cannot nest in a group and stay separate.
          const [simple, joined] = [
            g.any.filter((x) => !x.includes('&')),
            g.any.filter((x) => x.includes('&')),
          ];
          const where2 = `${where} group ${g.name}`;
          compileIn(where2, simple); // names the phrase that fails, if one does
          const any = [
            ...(simple.length > 0 ? compileIn(where2, [`(${simple.join('|')})`]) : []),
            ...compileIn(where2, joined),
          ];
          return { name: g.name, weight: g.weight, any, negatable: g.negatable ?? true };
        }),
        negation,
      });
    });
    for (const category of SAFETY_CATEGORIES) {
      const seen = new Set<string>();
      spec[category].forEach((rule, i) => {
        const where = `locales.${locale}.${category}[${i}] (${rule.id})`;
        if (seen.has(rule.id)) throw new Error(`safety.yaml: ${where}: duplicate id`);
        seen.add(rule.id);
        const compile = (phrases: string[] | undefined) => compileIn(where, phrases);
        rules.push({
          label: `${category}:${rule.id}`,
          category,
          any: compile(rule.any),
          unless: compile(rule.unless),
          unlessMessage: [...compile(rule.unlessMessage), ...(category === 'abuse' ? calm : [])],
          with: compile(rule.with),
          negatable: rule.negatable ?? true,
          maxWords: rule.maxWords ?? Infinity,
          negation,
        });
      });
    }
  }
  // The patterns tried on a whole reply; the scores' cue groups read sentences (`cues`).
  const patterns = [
    ...rules.flatMap((r) => [...r.any, ...r.unless, ...r.unlessMessage, ...r.with]),
    ...scores.flatMap((c) => c.unlessMessage),
  ];
  const ruleOwners = new Map<CompiledPattern, number[]>();
  rules.forEach((rule, i) => {
    for (const p of rule.any) {
      const owners = ruleOwners.get(p) ?? [];
      if (owners[owners.length - 1] !== i) owners.push(i);
      ruleOwners.set(p, owners);
    }
  });
  const cues = buildAnchorIndex(scores.flatMap((c) => c.groups.flatMap((g) => g.any)));
  return {
    rules,
    scores,
    aliases,
    index: { anchors: buildAnchorIndex(patterns), cues, ruleOwners },
  };
}

const BREAKS = new Set([SENTENCE_BREAK, CLAUSE_BREAK]);

/** The last `n` tokens of the padded text before `end`, nearest first. */
function tokensBefore(padded: string, end: number, n: number): string[] {
  const out: string[] = [];
  let i = end;
  while (out.length < n) {
    while (i > 0 && padded[i - 1] === ' ') i -= 1;
    if (i === 0) break;
    let j = i;
    while (j > 0 && padded[j - 1] !== ' ') j -= 1;
    out.push(padded.slice(j, i));
    i = j;
  }
  return out;
}

function isNegated(
  match: PatternMatch,
  padded: string,
  rule: { negation: CompiledRule['negation'] },
): boolean {
  const { words: inGap, before, filler } = rule.negation;
  if (match.gapTokens.some((t) => inGap.has(t))) return true;
  for (const token of tokensBefore(padded, match.start, 4)) {
    if (before.has(token)) return true;
    if (BREAKS.has(token) || !filler.has(token)) return false;
  }
  return false;
}

/** One form of the reply, indexed whole and sentence by sentence (the scores read sentences). */
interface Form {
  whole: IndexedText;
  words: number;
  sentences: IndexedText[];
  /** Whether a pattern matches the whole form, as found so far (the abuse rules share `calm`). */
  found: Map<CompiledPattern, boolean>;
  /**
   * With the rule set's index: for each rule (by position) that may fire, the `any` patterns
   * the form may match. Without: null, and each rule tests its own patterns.
   */
  offered: Map<number, CompiledPattern[]> | null;
}

function formOf(padded: string, index: CompiledRules['index']): Form {
  const whole = indexText(padded, index?.anchors);
  let offered: Form['offered'] = null;
  if (index) {
    offered = new Map();
    for (const p of whole.may ?? []) {
      for (const i of index.ruleOwners.get(p) ?? []) {
        const list = offered.get(i);
        if (list === undefined) offered.set(i, [p]);
        else list.push(p);
      }
    }
  }
  return {
    whole,
    offered,
    words: padded.split(' ').filter((t) => t !== '' && !BREAKS.has(t)).length,
    sentences: padded
      .split(` ${SENTENCE_BREAK} `)
      .map((sentence) => sentence.trim())
      .filter((sentence) => sentence !== '')
      .map((sentence) => indexText(` ${sentence} `, index?.cues)),
    found: new Map(),
  };
}

const matchesIn = (pattern: CompiledPattern, text: IndexedText) =>
  !matchesOf(pattern, text)[Symbol.iterator]().next().done;

function anyMatch(patterns: CompiledPattern[], form: Form): boolean {
  for (const p of patterns) {
    let hit = form.found.get(p);
    if (hit === undefined) form.found.set(p, (hit = matchesIn(p, form.whole)));
    if (hit) return true;
  }
  return false;
}

function ruleFires(
  rule: CompiledRule,
  position: number,
  form: Form,
  ignoreUnlessMessage = false,
): boolean {
  const text = form.whole;
  if (form.words > rule.maxWords) return false;
  // The cheap test first: the patterns whose anchor words the form holds.
  const patterns = form.offered
    ? (form.offered.get(position) ?? [])
    : rule.any.filter((p) => mayMatch(p, text));
  if (patterns.length === 0) return false;
  if (rule.with.length > 0 && !anyMatch(rule.with, form)) return false;
  if (!ignoreUnlessMessage && anyMatch(rule.unlessMessage, form)) return false;
  let excluded: PatternMatch[] | null = null;
  for (const pattern of patterns) {
    for (const match of scan(pattern, text.padded)) {
      excluded ??= rule.unless.flatMap((p) => [...matchesOf(p, text)]);
      if (excluded.some((x) => x.start < match.end && match.start < x.end)) continue;
      if (rule.negatable && isNegated(match, text.padded, rule)) continue;
      return true;
    }
  }
  return false;
}

/** True when some sentence of the text gathers enough cue weight. */
function scoreFires(score: CompiledScore, form: Form, ignoreUnlessMessage = false): boolean {
  if (!ignoreUnlessMessage && anyMatch(score.unlessMessage, form)) return false;
  for (const text of form.sentences) {
    let total = 0;
    const found = new Set<string>();
    for (const group of score.groups) {
      const hit = group.any.some((pattern) => {
        for (const match of matchesOf(pattern, text)) {
          if (!group.negatable || !isNegated(match, text.padded, score)) return true;
        }
        return false;
      });
      if (hit) {
        total += group.weight;
        found.add(group.name);
      }
    }
    if (total >= score.threshold && score.require.every((name) => found.has(name))) return true;
  }
  return false;
}

/** Matches one reply against every rule and score. Pure; the same text gives the same hits. */
export function matchRules(
  text: string,
  compiled: CompiledRules,
  /** The text's screenForms, when the caller has them already (screen.ts). */
  canonicalForms: readonly string[] = screenForms(text, compiled.aliases),
): RuleHits {
  const { index } = compiled;
  const forms = canonicalForms.map((form) => formOf(` ${form} `, index));
  const matched: string[] = [];
  const softened: string[] = [];
  const check = (
    item: { label: string; category: SafetyCategory },
    fires: (form: Form, ignore: boolean) => boolean,
  ) => {
    if (matched.includes(item.label) || softened.includes(item.label)) return;
    if (forms.some((form) => fires(form, false))) matched.push(item.label);
    // A self-harm phrase silenced only by laughter ("lol", "jaja") still counts, softened.
    else if (item.category === 'self_harm' && forms.some((form) => fires(form, true)))
      softened.push(item.label);
  };
  compiled.rules.forEach((rule, i) => {
    // Only a rule with an `any` pattern some form may match can fire (ruleFires' first test).
    if (forms.some((form) => form.offered === null || form.offered.has(i)))
      check(rule, (f, ignore) => ruleFires(rule, i, f, ignore));
  });
  for (const score of compiled.scores) check(score, (f, ignore) => scoreFires(score, f, ignore));
  return { matched, softened };
}

/** Categories with at least one rule label in `labels`, in the fixed category order. */
export function categoriesOf(labels: readonly string[]): SafetyCategory[] {
  return SAFETY_CATEGORIES.filter((c) => labels.some((m) => m.startsWith(`${c}:`)));
}
