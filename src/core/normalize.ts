// Text normalisation shared by the keyword, rating and safety readers. Pure and locale-agnostic:
// it only makes spellings comparable. What a phrase means lives in messages/*.yaml.

/** Clause breaks survive normalisation as their own tokens, so patterns can stop at them. */
export const SENTENCE_BREAK = '.';
export const CLAUSE_BREAK = ',';

/** Lower-case, strip accents, straighten apostrophes and quotes, collapse whitespace. */
export function foldText(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[\u2018\u2019\u201b\u02bc\u00b4`]/g, "'")
    .replace(/[\u201c\u201d\u201e]/g, '"')
    .replace(/\s+/g, ' ')
    .trim();
}

// Emoji that carry meaning for a reply. 💀 and 😂 are laughter in texting ("im dead 💀"), so
// they become "lol" rather than anything deathly.
const EMOJI_WORDS: ReadonlyArray<[RegExp, string]> = [
  [/\u{1f52a}|\u{1f5e1}/gu, ' knife '],
  [/\u{1f52b}/gu, ' gun '],
  [/[\u{1f631}\u{1f630}\u{1f628}\u{1f627}\u{1f626}]/gu, ' scared '],
  [/\u{1f915}/gu, ' hurt '],
  [/[\u{1f480}\u{2620}\u{1f602}\u{1f923}\u{1f606}]/gu, ' lol '],
  [/[\u{1f62d}\u{1f622}]/gu, ' crying '],
  [/\u{1f198}/gu, ' sos '],
  [/\u{1f48a}/gu, ' pills '],
];

// Texting shorthand that reads the same in any context. Misspellings specific to the safety
// phrases (threatend, cheatin...) are data: safety.yaml `aliases`.
const SHORTHAND: Readonly<Record<string, string>> = {
  u: 'you',
  ur: 'your',
  r: 'are',
  b: 'be',
  n: 'and',
  nd: 'and',
  bf: 'boyfriend',
  gf: 'girlfriend',
  bc: 'because',
  cuz: 'because',
  coz: 'because',
  cos: 'because',
  bcuz: 'because',
  bcoz: 'because',
  becuz: 'because',
  w: 'with',
  wit: 'with',
  abt: 'about',
  bout: 'about',
  smth: 'something',
  sth: 'something',
  rn: 'right now',
  idk: 'i do not know',
  tbh: 'to be honest',
  ngl: 'honestly',
  fr: 'really',
  pls: 'please',
  plz: 'please',
  thru: 'through',
  tho: 'though',
  til: 'until',
  till: 'until',
  untill: 'until',
  nite: 'night',
  tonite: 'tonight',
  '2nite': 'tonight',
  '2night': 'tonight',
  '2day': 'today',
  '2moro': 'tomorrow',
  tmrw: 'tomorrow',
  msg: 'message',
  msgs: 'messages',
  txt: 'text',
  txts: 'texts',
  txted: 'texted',
  txting: 'texting',
  ppl: 'people',
  evry: 'every',
  evrything: 'everything',
  evrytime: 'every time',
  evry1: 'everyone',
  every1: 'everyone',
  some1: 'someone',
  any1: 'anyone',
  no1: 'no one',
  noone: 'no one',
  wanna: 'want to',
  wana: 'want to',
  gonna: 'going to',
  gona: 'going to',
  gotta: 'got to',
  tryna: 'trying to',
  finna: 'going to',
  gimme: 'give me',
  outta: 'out of',
  kinda: 'kind of',
  rly: 'really',
  kms: 'kill myself',
  kys: 'kill yourself',
  // Spanish
  q: 'que',
  k: 'que',
  ke: 'que',
  xq: 'porque',
  xk: 'porque',
  pq: 'porque',
  pk: 'porque',
  porq: 'porque',
  x: 'por',
  d: 'de',
  tb: 'tambien',
  tmb: 'tambien',
  tmbn: 'tambien',
  cel: 'celular',
  celu: 'celular',
  msj: 'mensaje',
  msjs: 'mensajes',
  mjs: 'mensajes',
  kiero: 'quiero',
  kien: 'quien',
  aki: 'aqui',
  bn: 'bien',
  xfa: 'por favor',
};

// Contractions are expanded so a pattern written "won't" matches "wont" and "will not".
const NOT_STEMS: Readonly<Record<string, string>> = {
  don: 'do',
  doesn: 'does',
  didn: 'did',
  won: 'will',
  wouldn: 'would',
  can: 'can',
  couldn: 'could',
  isn: 'is',
  aren: 'are',
  wasn: 'was',
  weren: 'were',
  hasn: 'has',
  haven: 'have',
  hadn: 'had',
  shouldn: 'should',
  ain: 'is',
  mustn: 'must',
};
const PRONOUNS = ['i', 'you', 'he', 'she', 'it', 'we', 'they', 'that', 'what', 'there', 'who'];
const SUFFIXES: Readonly<Record<string, string>> = {
  m: 'am',
  re: 'are',
  ll: 'will',
  ve: 'have',
  d: 'would',
  s: 's',
};
// Apostrophe-less spellings that are not also ordinary words ("hell", "were", "its" are).
const BARE_CONTRACTIONS: Readonly<Record<string, string>> = {
  im: 'i am',
  ive: 'i have',
  hes: 'he s',
  shes: 'she s',
  thats: 'that s',
  whats: 'what s',
  theres: 'there s',
  hed: 'he would',
  youd: 'you would',
  theyd: 'they would',
  youre: 'you are',
  theyre: 'they are',
  youve: 'you have',
  theyve: 'they have',
  weve: 'we have',
  youll: 'you will',
  theyll: 'they will',
  cannot: 'can not',
};

/** Expands one word into its canonical token(s); `aliases` adds data-driven spellings. */
export function canonicalWord(word: string, aliases?: ReadonlyMap<string, string>): string {
  const alias = aliases?.get(word);
  if (alias !== undefined) return alias;
  const short = SHORTHAND[word] ?? BARE_CONTRACTIONS[word];
  if (short !== undefined) return short;
  const bareNot = /^([a-z]+n)t$/.exec(word);
  if (bareNot?.[1] !== undefined && NOT_STEMS[bareNot[1]] !== undefined) {
    return `${NOT_STEMS[bareNot[1]]} not`;
  }
  const apos = /^([a-z]+)'([a-z]+)$/.exec(word);
  if (apos?.[1] !== undefined && apos[2] !== undefined) {
    const [, stem, suffix] = apos;
    if (suffix === 't' && stem.endsWith('n')) {
      const base = NOT_STEMS[stem] ?? stem.slice(0, -1);
      return `${base} not`;
    }
    const expanded = SUFFIXES[suffix];
    if (expanded !== undefined && (suffix === 's' || PRONOUNS.includes(stem))) {
      return `${stem} ${expanded}`;
    }
  }
  return word.replace(/'/g, '');
}

const CONSONANT_RUN = /([b-df-hj-np-tv-z])\1+/g;

/**
 * The spelling key of one token: how texters misspell a word mostly doesn't change its key.
 * Doubled consonants count once (grabbed/grabed/grabbd, hitt, kil), "ck" is "k" (chek, kik),
 * "ph" is "f" (fone), a dropped "g" is ignored (walkin, cheatin: keys of words of six letters
 * or more drop the final "g" of "-ing"), and "-ed" after a consonant is "-d" (pushd, chekd).
 * Patterns and replies are both keyed, so a YAML author still writes plain words.
 */
export function spellingKey(token: string): string {
  if (!/[a-z]/.test(token)) return token;
  let key = token
    .replace(/ph/g, 'f')
    .replace(/ck/g, 'k')
    .replace(CONSONANT_RUN, '$1')
    .replace(/([b-df-hj-np-tv-y])z$/, '$1s');
  if (key.length >= 6 && key.endsWith('ing')) key = key.slice(0, -1);
  else if (key.length >= 5 && /[b-df-hj-np-tv-z]ed$/.test(key)) key = `${key.slice(0, -2)}d`;
  return key;
}

// Digits that stand for words between two words: "want 2 die", "4 being late" stays a number.
const DIGIT_WORDS: Readonly<Record<string, string>> = { '2': 'to', '4': 'for' };
const isWord = (token: string | undefined) => token !== undefined && /^[a-z]/.test(token);

/**
 * Turns folded text into space-separated canonical tokens with "." and "," kept as tokens.
 * `keepRepeats` is how many copies of a letter repeated 3+ times survive ("sooo" -> "soo"/"so").
 */
function tokenize(folded: string, keepRepeats: 1 | 2, aliases?: ReadonlyMap<string, string>) {
  let text = folded.replace(/([a-z])\1{2,}/g, keepRepeats === 1 ? '$1' : '$1$1');
  for (const [pattern, word] of EMOJI_WORDS) text = text.replace(pattern, word);
  text = text
    .replace(/\bb\/c\b/g, ' because ')
    .replace(/\bw\/o\b/g, ' without ')
    .replace(/\bw\//g, ' with ')
    .replace(/&/g, ' and ')
    .replace(/(^|\s)@(?=\s)/g, ' at ')
    .replace(/[.!?;:\n\u2026]+|\s[-\u2013\u2014]+\s/g, ` ${SENTENCE_BREAK} `)
    .replace(/,+/g, ` ${CLAUSE_BREAK} `)
    .replace(/[^a-z0-9'.,]+/g, ' ')
    .replace(/(^|\s)'+|'+(?=\s|$)/g, ' ');
  const words: string[] = [];
  for (const raw of text.split(' ')) {
    if (raw === '') continue;
    if (raw === SENTENCE_BREAK || raw === CLAUSE_BREAK) {
      words.push(raw);
      continue;
    }
    for (const piece of canonicalWord(raw, aliases).split(' ')) {
      if (piece !== '') words.push(piece);
    }
  }
  return words
    .map((word, i) => {
      const digit = DIGIT_WORDS[word];
      if (digit !== undefined && isWord(words[i - 1]) && isWord(words[i + 1])) return digit;
      return spellingKey(word);
    })
    .join(' ');
}

/**
 * The forms of a reply that the safety screen reads: canonical spelling keys, once with long
 * letter runs cut to two ("soo scared") and once to one ("hiiit" -> "hit"). Duplicates removed.
 */
export function screenForms(text: string, aliases?: ReadonlyMap<string, string>): string[] {
  const folded = foldText(text);
  const first = tokenize(folded, 2, aliases);
  // Without a letter written three times running, both cuts read the same text.
  if (!/([a-z])\1{2}/.test(folded)) return [first];
  const second = tokenize(folded, 1, aliases);
  return second === first ? [first] : [first, second];
}

/**
 * Canonical spelling keys, letter runs cut to two: how a phrase written in YAML is compiled, and
 * what the learned model reads of a reply (the first of screenForms, alone).
 */
export function canonicalPhrase(phrase: string, aliases?: ReadonlyMap<string, string>): string {
  return tokenize(foldText(phrase), 2, aliases);
}

/** Folded text without surrounding punctuation or emoji: for whole-message comparisons. */
export function bareMessage(text: string): string {
  return foldText(text)
    .replace(/[^\p{L}\p{N}]+$/gu, '')
    .replace(/^[^\p{L}\p{N}]+/gu, '')
    .replace(/\s+/g, ' ');
}
