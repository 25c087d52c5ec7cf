// The small phrase language of messages/safety.yaml, compiled to regular expressions over the
// canonical token text that normalize.ts produces (" he s never hit me . ").
//
//   word        a word; written naturally ("won't", "he's"), it is canonicalised like the input
//   word*       any word starting with `word` ("punch*" = punch, punches, punched, punching)
//   {family}    any entry of a word family declared for the locale ("{actor}", "{victim}")
//   (a|b c)     one of the alternatives      [a|b c]   optional: one of them, or nothing
//   ~N          up to N other words in the same sentence (a negation there cancels the match)
//   +N          up to N other words in the same sentence, negations allowed ("when I don't call")
//   A &N B      A and B in either order, up to N words apart in one sentence (a negation
//               between them cancels): "my location &4 24 7" = "my location ... 24 7" or
//               "24 7 ... my location". At most one, at the top level of a phrase.
//   #           any number ("# times" = "6 times", "20 times")
//   ^  $        start of the message or clause / end of the clause
// Words are compared by spelling key (normalize.ts), so "grabbed" also matches "grabd".
import { canonicalPhrase, CLAUSE_BREAK, SENTENCE_BREAK, spellingKey } from '../core/normalize.ts';

export interface CompiledPattern {
  source: string;
  regex: RegExp;
  /** Names of the capture groups that hold `~N` gaps, checked for negations. */
  gaps: string[];
  /** A match contains one of these words (or words starting with a prefix); null: unknown. */
  anchor: Anchor | null;
}

/** Words of which a match must contain at least one: a cheap test before the regex runs. */
export interface Anchor {
  exact: ReadonlySet<string>;
  prefixes: readonly string[];
}

export interface PatternScope {
  families: ReadonlyMap<string, string[]>;
  aliases: ReadonlyMap<string, string>;
}

type Node =
  | { kind: 'word'; text: string }
  | { kind: 'family'; name: string }
  | { kind: 'group'; alts: Node[][]; optional: boolean }
  | { kind: 'gap'; max: number; checked: boolean }
  | { kind: 'both'; max: number }
  | { kind: 'number' }
  | { kind: 'start' }
  | { kind: 'end' };

export class PatternError extends Error {}

const MAX_GAP = 12;
const SPECIAL = new Set([' ', '{', '}', '(', ')', '[', ']', '|', '~', '+', '&', '#', '^', '$']);

function parse(source: string): Node[] {
  let pos = 0;
  const fail = (why: string): never => {
    throw new PatternError(`${why} at character ${pos + 1}`);
  };
  const parseAlts = (close: string | null): Node[][] => {
    const alts: Node[][] = [[]];
    for (;;) {
      const ch = source[pos];
      if (ch === undefined) {
        if (close !== null) fail(`missing "${close}"`);
        return alts;
      }
      if (ch === close) {
        pos += 1;
        return alts;
      }
      const current = alts[alts.length - 1] as Node[];
      if (ch === ' ') pos += 1;
      else if (ch === '|') {
        if (close === null) fail('"|" outside a group');
        alts.push([]);
        pos += 1;
      } else if (ch === '(' || ch === '[') {
        pos += 1;
        const inner = parseAlts(ch === '(' ? ')' : ']');
        current.push({ kind: 'group', alts: inner, optional: ch === '[' });
      } else if (ch === '{') {
        const end = source.indexOf('}', pos);
        if (end < 0) fail('missing "}"');
        current.push({ kind: 'family', name: source.slice(pos + 1, end).trim() });
        pos = end + 1;
      } else if (ch === '~' || ch === '+' || ch === '&') {
        const m = /^[~+&](\d+)/.exec(source.slice(pos));
        const max = m?.[1] === undefined ? NaN : Number(m[1]);
        if (!(max >= 1 && max <= MAX_GAP)) fail(`"${ch}" needs a number from 1 to ${MAX_GAP}`);
        if (ch !== '&') current.push({ kind: 'gap', max, checked: ch === '~' });
        else if (close !== null)
          fail('"&" only joins two halves of a whole phrase, not in a group');
        else if (current.some((n) => n.kind === 'both')) fail('only one "&" per phrase');
        else current.push({ kind: 'both', max });
        pos += (m?.[0] ?? '').length;
      } else if (ch === '#') {
        current.push({ kind: 'number' });
        pos += 1;
      } else if (ch === '^' || ch === '$') {
        current.push({ kind: ch === '^' ? 'start' : 'end' });
        pos += 1;
      } else if (ch === ')' || ch === ']' || ch === '}') {
        fail(`unexpected "${ch}"`);
      } else {
        let end = pos;
        while (end < source.length && !SPECIAL.has(source[end] as string)) end += 1;
        current.push({ kind: 'word', text: source.slice(pos, end) });
        pos = end;
      }
    }
  };
  return parseAlts(null)[0] as Node[];
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// Families are expanded wherever they are used; their regex text is the same every time (they
// have no gaps), so it is built once per scope. Same for words.
const memo = new WeakMap<PatternScope, Map<string, string>>();
function remember(scope: PatternScope, key: string, build: () => string): string {
  let cache = memo.get(scope);
  if (cache === undefined) memo.set(scope, (cache = new Map()));
  let value = cache.get(key);
  if (value === undefined) cache.set(key, (value = build()));
  return value;
}

function compileWord(text: string, scope: PatternScope): string {
  return remember(scope, `w:${text}`, () => buildWord(text, scope));
}

function buildWord(text: string, scope: PatternScope): string {
  const wildcard = text.endsWith('*');
  const canonical = canonicalPhrase(wildcard ? text.slice(0, -1) : text, scope.aliases);
  if (canonical === '' || canonical.includes(SENTENCE_BREAK) || canonical.includes(CLAUSE_BREAK)) {
    const hint = text.includes('?') ? ' (write optional words as [a|b], not (a|b)?)' : '';
    throw new PatternError(`"${text}" is not a word${hint}`);
  }
  const tokens = canonical.split(' ').map(escape);
  const re = tokens.map((t) => ` ${t}`).join('');
  if (!wildcard) return re;
  // "force*" must also match the keys of "forced" and "forcing": "forcd", "forcin".
  const stem = re.endsWith('e') && re.length > 3 ? re.slice(0, -1) : null;
  return stem === null ? `${re}[a-z0-9]*` : `(?:${re}[a-z0-9]*|${stem}(?:d|in))`;
}

interface Emit {
  gaps: string[];
  nextGap: () => string;
  depth: number;
}

function emit(nodes: Node[], scope: PatternScope, out: Emit): string {
  let re = '';
  for (const node of nodes) {
    switch (node.kind) {
      case 'word':
        re += compileWord(node.text, scope);
        break;
      case 'family': {
        const entries = scope.families.get(node.name);
        if (entries === undefined) {
          const known = [...scope.families.keys()].join(', ');
          throw new PatternError(`unknown family {${node.name}} (known: ${known})`);
        }
        if (out.depth > 3) throw new PatternError(`family {${node.name}} nests too deeply`);
        const inner = { ...out, depth: out.depth + 1 };
        re += remember(scope, `f:${node.name}`, () => {
          const alts = entries.map((entry) => {
            const parsed = parse(entry);
            if (parsed.some((n) => n.kind === 'gap' || n.kind === 'both')) {
              throw new PatternError(`family {${node.name}} entry "${entry}" may not contain gaps`);
            }
            return emit(parsed, scope, inner);
          });
          return `(?:${alts.join('|')})`;
        });
        break;
      }
      case 'group': {
        const alts = node.alts.map((alt) => emit(alt, scope, out));
        re += `(?:${alts.join('|')})${node.optional ? '?' : ''}`;
        break;
      }
      case 'gap': {
        if (!node.checked) {
          re += `(?: [^ .]+){0,${node.max}}?`;
          break;
        }
        const name = out.nextGap();
        out.gaps.push(name);
        re += `(?<${name}>(?: [^ .]+){0,${node.max}}?)`;
        break;
      }
      case 'number':
        re += ' [0-9][0-9a-z]*';
        break;
      case 'both':
        throw new PatternError('"&" only joins two halves of a whole phrase');
      case 'start':
        re += '(?<=^|[.,])';
        break;
      case 'end':
        re += '(?= [.,]| *$)';
        break;
    }
  }
  return re;
}

// Words so frequent that an anchor made of them filters nothing.
const COMMON = new Set(
  (
    'i me my he she it they we you him her his them the a an to and is s am are was be so but ' +
    'of in on at for with not do that this el la lo los las de que no y en se mi su le un una'
  )
    .split(' ')
    .map(spellingKey),
);

function anchorScore(a: Anchor): number {
  let score = a.exact.size + 2 * a.prefixes.length;
  for (const w of a.exact) if (COMMON.has(w)) score += 50;
  return score;
}

function union(anchors: Array<Anchor | null>): Anchor | null {
  if (anchors.some((a) => a === null)) return null;
  const exact = new Set<string>();
  const prefixes: string[] = [];
  for (const a of anchors as Anchor[]) {
    for (const w of a.exact) exact.add(w);
    prefixes.push(...a.prefixes);
  }
  return { exact, prefixes };
}

const anchorMemo = new WeakMap<PatternScope, Map<string, Anchor | null>>();

/** The anchor of one node, or null if the node may match nothing or anything. */
function nodeAnchor(node: Node, scope: PatternScope, depth: number): Anchor | null {
  const key =
    node.kind === 'word' ? `w:${node.text}` : node.kind === 'family' ? `f:${node.name}` : null;
  if (key === null) return buildAnchor(node, scope, depth);
  let cache = anchorMemo.get(scope);
  if (cache === undefined) anchorMemo.set(scope, (cache = new Map()));
  if (!cache.has(key)) cache.set(key, buildAnchor(node, scope, depth));
  return cache.get(key) ?? null;
}

function buildAnchor(node: Node, scope: PatternScope, depth: number): Anchor | null {
  switch (node.kind) {
    case 'word': {
      const wildcard = node.text.endsWith('*');
      const text = wildcard ? node.text.slice(0, -1) : node.text;
      const tokens = canonicalPhrase(text, scope.aliases).split(' ');
      const first = tokens[0] ?? '';
      if (!wildcard || tokens.length > 1) return { exact: new Set([first]), prefixes: [] };
      const stem = first.endsWith('e') && first.length > 2 ? first.slice(0, -1) : first;
      return { exact: new Set(), prefixes: [stem] };
    }
    case 'family': {
      const entries = scope.families.get(node.name);
      if (entries === undefined || depth > 3) return null;
      return union(entries.map((e) => sequenceAnchor(parse(e), scope, depth + 1)));
    }
    case 'group':
      return node.optional
        ? null
        : union(node.alts.map((alt) => sequenceAnchor(alt, scope, depth)));
    default:
      return null;
  }
}

/** The most selective anchor among the nodes a sequence cannot do without. */
function sequenceAnchor(nodes: Node[], scope: PatternScope, depth: number): Anchor | null {
  let best: Anchor | null = null;
  for (const node of nodes) {
    const a = nodeAnchor(node, scope, depth);
    if (a !== null && (best === null || anchorScore(a) < anchorScore(best))) best = a;
  }
  return best;
}

/** Compiles one phrase; throws PatternError saying what is wrong with it. */
export function compilePattern(source: string, scope: PatternScope): CompiledPattern {
  const gaps: string[] = [];
  let counter = 0;
  const out = { gaps, nextGap: () => `g${counter++}`, depth: 0 };
  const nodes = parse(source);
  const split = nodes.findIndex((n) => n.kind === 'both');
  let body: string;
  if (split < 0) body = emit(nodes, scope, out);
  else {
    const both = nodes[split] as { kind: 'both'; max: number };
    const [left, right] = [nodes.slice(0, split), nodes.slice(split + 1)];
    if (left.length === 0 || right.length === 0)
      throw new PatternError('"&" needs words on both sides');
    const gap: Node = { kind: 'gap', max: both.max, checked: true };
    const forward = emit([...left, gap, ...right], scope, out);
    const backward = emit([...right, gap, ...left], scope, out);
    body = `(?:${forward}|${backward})`;
  }
  if (body === '') throw new PatternError('empty pattern');
  const anchor = sequenceAnchor(
    nodes.filter((n) => n.kind !== 'both'),
    scope,
    0,
  );
  return { source, regex: new RegExp(`${body}(?= )`, 'g'), gaps, anchor };
}

/**
 * A rule set's patterns by anchor word and prefix: the other way round from `anchor`, so a text
 * finds the few patterns it may match from its own words instead of asking each of thousands.
 */
export interface AnchorIndex {
  /** Every pattern indexed: a pattern not in here gets its own anchor test. */
  patterns: ReadonlySet<CompiledPattern>;
  always: readonly CompiledPattern[];
  exact: ReadonlyMap<string, readonly CompiledPattern[]>;
  prefix: ReadonlyMap<string, readonly CompiledPattern[]>;
  /** Every beginning of a key of `prefix`: a word is cut longer only while it is one. */
  prefixPaths: ReadonlySet<string>;
}

export function buildAnchorIndex(patterns: Iterable<CompiledPattern>): AnchorIndex {
  const always: CompiledPattern[] = [];
  const exact = new Map<string, CompiledPattern[]>();
  const prefix = new Map<string, CompiledPattern[]>();
  const add = (map: Map<string, CompiledPattern[]>, key: string, p: CompiledPattern) => {
    const list = map.get(key);
    if (list === undefined) map.set(key, [p]);
    else if (list[list.length - 1] !== p) list.push(p);
  };
  const all = new Set(patterns);
  for (const p of all) {
    if (p.anchor === null) always.push(p);
    else {
      for (const w of p.anchor.exact) add(exact, w, p);
      for (const pre of p.anchor.prefixes) add(prefix, pre, p);
    }
  }
  const prefixPaths = new Set<string>();
  for (const key of prefix.keys())
    for (let n = 1; n <= key.length; n += 1) prefixPaths.add(key.slice(0, n));
  return { patterns: all, always, exact, prefix, prefixPaths };
}

/**
 * A padded token text (" a b c ") with its words and every prefix of them, built once per text
 * and passed to every pattern, so the anchor test is a few set look-ups. With a rule set's
 * AnchorIndex it also holds the patterns the text may match (`may`), and the test is one.
 * No module state: the caller holds it.
 */
export interface IndexedText {
  padded: string;
  words: ReadonlySet<string>;
  prefixes: ReadonlySet<string>;
  may?: ReadonlySet<CompiledPattern>;
  /** The patterns `may` speaks for (the index's). */
  indexed?: ReadonlySet<CompiledPattern>;
}

function prefixesOf(words: Iterable<string>): Set<string> {
  const prefixes = new Set<string>();
  for (const w of words) for (let n = 1; n <= w.length; n += 1) prefixes.add(w.slice(0, n));
  return prefixes;
}

export function indexText(padded: string, anchors?: AnchorIndex): IndexedText {
  const words = new Set(padded.split(' '));
  if (anchors === undefined) return { padded, words, prefixes: prefixesOf(words) };
  const may = new Set(anchors.always);
  for (const w of words) {
    for (const p of anchors.exact.get(w) ?? []) may.add(p);
    for (let n = 1; n <= w.length; n += 1) {
      const start = w.slice(0, n);
      if (!anchors.prefixPaths.has(start)) break;
      for (const p of anchors.prefix.get(start) ?? []) may.add(p);
    }
  }
  let prefixes: Set<string> | undefined;
  return {
    padded,
    words,
    // Only a pattern the index does not know needs them.
    get prefixes() {
      return (prefixes ??= prefixesOf(words));
    },
    may,
    indexed: anchors.patterns,
  };
}

const indexed = (text: string | IndexedText) => (typeof text === 'string' ? indexText(text) : text);

/** False when the pattern cannot match the text (none of its anchor words is there). */
export function mayMatch(pattern: CompiledPattern, text: string | IndexedText): boolean {
  const { anchor } = pattern;
  if (anchor === null) return true;
  if (typeof text !== 'string' && text.may !== undefined && text.indexed?.has(pattern))
    return text.may.has(pattern);
  const { words, prefixes } = indexed(text);
  // Walk the smaller side: a family-expanded anchor may list hundreds of words.
  if (anchor.exact.size <= words.size) {
    for (const w of anchor.exact) if (words.has(w)) return true;
  } else {
    for (const w of words) if (anchor.exact.has(w)) return true;
  }
  for (const p of anchor.prefixes) if (prefixes.has(p)) return true;
  return false;
}

export interface PatternMatch {
  start: number;
  end: number;
  gapTokens: string[];
}

/** All matches of a pattern in a padded token text (" a b c "), each start tried once. */
export function matchesOf(
  pattern: CompiledPattern,
  text: string | IndexedText,
): Iterable<PatternMatch> {
  const index = indexed(text);
  // No generator at all when the anchor test fails: most patterns offered a text are.
  return mayMatch(pattern, index) ? scan(pattern, index.padded) : [];
}

/** matchesOf for a pattern already known to pass its anchor test. */
export function* scan(pattern: CompiledPattern, padded: string): Generator<PatternMatch> {
  const { regex } = pattern;
  regex.lastIndex = 0;
  for (;;) {
    const m = regex.exec(padded);
    if (m === null) return;
    const gapTokens = pattern.gaps.flatMap((g) => (m.groups?.[g] ?? '').split(' '));
    yield { start: m.index, end: m.index + m[0].length, gapTokens: gapTokens.filter(Boolean) };
    regex.lastIndex = m.index + 1;
  }
}
