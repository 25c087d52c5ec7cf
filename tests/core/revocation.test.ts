// Opt-out in any wording (47 CFR 64.1200(a)(10)), read by the whole inbound reading: keywords
// first, then core/revocation.ts. The wording sets were written blind by helpers who never saw the
// reader (tests/fixtures/OPTOUT-LEDGER.md has each set's first-look figures); every line is
// checked here, and the few where Steady decides differently from the writer's label are named
// with the reason.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { KeywordSet } from '../../src/content/types.ts';
import { readReply, type ReadContext } from '../../src/core/classify.ts';
import { readRevocation } from '../../src/core/revocation.ts';
import { loadSafetyModel } from '../../src/safety/load.ts';
import { compileRules } from '../../src/safety/rules.ts';

const load = (file: string): unknown =>
  parse(readFileSync(new URL(`../../messages/${file}`, import.meta.url), 'utf8'));
const ctx: Omit<ReadContext, 'channel'> = {
  keywords: load('keywords.yaml') as Record<string, KeywordSet>,
  safety: {
    rules: compileRules(load('safety.yaml')),
    model: await loadSafetyModel(new URL('../../messages', import.meta.url).pathname),
  },
};

type Label = 'optout' | 'not' | 'unclear';
interface Row {
  id: string;
  lang: 'en' | 'es';
  channel: 'sms' | 'email';
  text: string;
  label: Label;
}

function rows(file: string): Row[] {
  return readFileSync(new URL(`../fixtures/${file}`, import.meta.url), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Row);
}

function answer(row: Pick<Row, 'text' | 'channel'>): Label {
  const r = readReply(row.text, { ...ctx, channel: row.channel });
  return r.intent === 'stop' ? 'optout' : r.optOutUnclear ? 'unclear' : 'not';
}

// Where Steady answers differently from the set's label, on purpose.
const DECIDED: Record<string, { answer: Label; why: string }> = {
  'ow-139': {
    answer: 'optout',
    why: '"how do I stop these?" asks to stop them; stopping answers it',
  },
  'ow-145': { answer: 'optout', why: 'a wrong number never consented: stop at once' },
  'ob-153': { answer: 'optout', why: '"wrong person" is a wrong number' },
  'ob-072': { answer: 'optout', why: 'BASTA alone is a Spanish stop keyword (keywords.yaml)' },
  'ob-096': { answer: 'not', why: 'PAUSA alone is the pause keyword, which pauses' },
  // Despair is the safety screen's to answer: "Reply STOP to stop" would be the wrong reply.
  'ow-147': { answer: 'not', why: 'despair, not a request about messages' },
  'ob-004': { answer: 'not', why: 'despair, not a request about messages' },
  'oh-067': { answer: 'not', why: 'distress, not a request about messages' },
  'oh-100': { answer: 'not', why: '"I am worn out": distress, not a request about messages' },
  'ob-157': { answer: 'not', why: '"I cannot cope": distress, not a request about messages' },
  'ob-001': {
    answer: 'not',
    why: 'a partner finding the texts is a safety signal, not an opt-out',
  },
  'ob-150': { answer: 'not', why: 'a partner seeing the texts is a safety signal, not an opt-out' },
  // Too little to go on: a clarification to every "ok bye" would be noise.
  'ow-148': { answer: 'not', why: 'no object: could be about anything' },
  'oh-063': { answer: 'not', why: '"nah I\'m good" is also how people answer a check-in' },
  'oh-066': { answer: 'not', why: 'no object: could be about anything' },
  'ob-058': { answer: 'not', why: 'a sign-off, not a request' },
  'ob-098': { answer: 'not', why: 'no object: could be about anything' },
  'ob-011': { answer: 'not', why: "asks about someone else's phone; the operator sees the reply" },
};

for (const file of ['optout-wordings.jsonl', 'optout-heldout.jsonl', 'optout-blind2.jsonl']) {
  describe(`opt-out wordings: ${file}`, () => {
    const set = rows(file);
    it('has English and Spanish, opt-outs and not', () => {
      expect(set.filter((r) => r.lang === 'es').length).toBeGreaterThan(20);
      expect(set.filter((r) => r.label === 'not').length).toBeGreaterThan(30);
      expect(set.filter((r) => r.label === 'optout').length).toBeGreaterThan(40);
    });
    it.each(set.map((r) => [r.id, r] as const))('%s', (id, row) => {
      const expected = DECIDED[id]?.answer ?? row.label;
      expect({ id, text: row.text, answer: answer(row) }).toEqual({
        id,
        text: row.text,
        answer: expected,
      });
    });
  });
}

describe('opt-out wordings named in the issue', () => {
  it.each([
    "STOP. I didn't sign up for this",
    'please stop sending me these messages',
    'quit texting me',
    'I revoke consent',
    'never text me again',
    'Stop it. Who gave you this number?',
    'ya no me manden mensajes',
  ])('%s -> opt-out', (text) => {
    expect(answer({ text, channel: 'sms' })).toBe('optout');
  });

  it.each(["he won't stop checking my phone", "can't stop thinking about week 3"])(
    '%s -> not an opt-out, and the safety screen still reads it',
    (text) => {
      const r = readReply(text, { ...ctx, channel: 'sms' });
      expect(r.intent).not.toBe('stop');
      expect(r.optOutUnclear).toBeFalsy();
      // Read by the model, not waved through as a keyword: risk is a real probability.
      expect(r.risk.abuse).toBeGreaterThan(0);
    },
  );

  it('an email is read without its quoted text and sign-off', () => {
    const text =
      'Please remove me from this list.\n\nThanks,\nAna\n\nOn Mon, Steady <hello@example.com> wrote:\n> Reply STOP to stop';
    expect(answer({ text, channel: 'email' })).toBe('optout');
    expect(answer({ text: 'Loved this week.\n\n> Reply STOP to stop', channel: 'email' })).toBe(
      'not',
    );
  });

  it('names the rule, never the words', () => {
    expect(readRevocation('quit texting me')).toEqual({
      revocation: 'optout',
      rule: expect.stringMatching(/^[a-z-]+$/),
    });
    expect(readRevocation('I had to cancel our date night')).toEqual({
      revocation: null,
      rule: null,
    });
  });
});

// Blind 3 was scored once and never tuned on: only its floors are held (the ledger's first look).
describe('opt-out wordings: blind 3 floors (never tuned on)', () => {
  const set = rows('optout-blind3.jsonl');
  const answers = set.map((r) => ({ ...r, answer: answer(r) }));
  it('catches at least 56 of its 63 opt-outs', () => {
    const caught = answers.filter((r) => r.label === 'optout' && r.answer === 'optout');
    expect(set.filter((r) => r.label === 'optout')).toHaveLength(63);
    expect(caught.length).toBeGreaterThanOrEqual(56);
  });
  it('reads none of its 59 other replies as an opt-out or a question about one', () => {
    const wrong = answers.filter((r) => r.label === 'not' && r.answer !== 'not');
    expect(wrong.map((r) => r.id)).toEqual([]);
  });
});

// From a review of the first version: despair and disclosures that use stop words, ratings with a
// stop, replies about us having stopped, and stops that are really about timing.
describe('opt-out wordings from review', () => {
  it.each([
    // Despair or disclosure: never an opt-out (the safety screen answers them).
    ['quiero terminar con esto, no aguanto más', 'not'],
    ['quiero terminar con todo', 'not'],
    ['ya no quiero nada', 'not'],
    ["I had to delete your texts so he wouldn't see", 'not'],
    ['I delete these texts every night', 'not'],
    // About us having stopped, or a mistake.
    ['why did you stop texting me?', 'not'],
    ['did you stop sending the tips?', 'not'],
    ["I didn't mean to unsubscribe", 'not'],
    ['¿cuándo termina el programa?', 'not'],
    ['does the program end after 8 weeks or keep going?', 'not'],
    // A rating with a stop.
    ['1 - please stop', 'optout'],
    ['3, stop asking me that', 'unclear'],
    // Only some times or some messages: ask (TIME or PAUSE may be what they want).
    ["don't text me after 6", 'unclear'],
    ['please stop the nudges for a week', 'unclear'],
    ['stop for now', 'unclear'],
    ['can you text me less? he notices', 'unclear'],
    // A clear stop after an unclear sentence still stops.
    ["I'm done. lose my number", 'optout'],
    ['not interested. cut it out with the texts', 'optout'],
    ["I don't want to receive this", 'optout'],
    ['¿cómo hago para que dejen de llegar los mensajes?', 'optout'],
    // A partner's demand, relayed: ask, and an operator sees it.
    ['mi esposo quiere que me dé de baja', 'unclear'],
    ['mi novio me dijo que cancele esto', 'unclear'],
  ] as const)('%s -> %s', (text, expected) => {
    expect(answer({ text, channel: 'sms' })).toBe(expected);
  });
});
