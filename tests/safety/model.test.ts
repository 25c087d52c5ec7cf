// Training and the model file: seeded training gives the same bytes, the file round-trips, and
// what the model learns generalises past the exact words it saw.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { LabelledReply } from '../../src/safety/data.ts';
import { parseLabelled } from '../../src/safety/data.ts';
import { canonicalPhrase, screenForms } from '../../src/core/normalize.ts';
import { extractFeatures, hash32, replyFeatures } from '../../src/safety/features.ts';
import { DEFAULT_MLP_OPTIONS } from '../../src/safety/mlp.ts';
import {
  calibrate,
  decodeModel,
  encodeModel,
  headScore,
  HEADS,
  predict,
} from '../../src/safety/model.ts';
import { compileRules, matchRules } from '../../src/safety/rules.ts';
import { fitCalibration, trainModel } from '../../src/safety/train.ts';

const rules = compileRules(
  parse(readFileSync(new URL('../../messages/safety.yaml', import.meta.url), 'utf8')),
);

const reply = (text: string, band: LabelledReply['band'], labels: LabelledReply['labels']) => ({
  text,
  lang: 'en',
  channel: 'sms' as const,
  band,
  labels,
  kind: (band === 'act'
    ? 'danger'
    : band === 'ask'
      ? 'unclear'
      : 'ordinary') as LabelledReply['kind'],
});

// A tiny made-up corpus: enough to train four heads in a second.
const danger = [
  'he hides my car keys so i cant go anywhere',
  'she takes my paycheck and gives me twenty dollars a week',
  'he waits outside my job every day to see who i talk to',
  'i had to cover the marks on my arm with a sweater again',
  'he told me if i leave he will find me',
  'im not allowed to see my sister anymore',
];
const selfHarm = [
  'i wrote letters to my kids just in case',
  'i gave my dog to my neighbour, i wont need to look after him',
  'i keep thinking everyone would be better off without me',
  'the pills are in my drawer and i keep counting them',
];
const ordinary = [
  'good week, 4',
  'we went to the beach with the kids',
  'he cooked dinner and we talked about the week',
  'work is busy but we are fine',
  'a 3 this week, nothing special',
  'loved the tip about keeping small promises',
  'can you send the texts later in the day',
  'we laughed a lot this weekend',
];
const corpus = [
  ...danger.map((t) => reply(t, 'act', ['abuse'])),
  ...selfHarm.map((t) => reply(t, 'act', ['self_harm'])),
  ...ordinary.map((t) => reply(t, 'none', [])),
  reply('he has been so irritable lately, i dont know', 'ask', ['abuse']),
  reply('my ex used to hit me but that was years ago, i am safe now', 'ask', ['abuse']),
];
// Repeat so each fold has every kind.
const data = [...corpus, ...corpus, ...corpus];

describe('trainModel', () => {
  const options = { bits: 12, epochs: 6, folds: 3, seed: 7 };

  it('gives the same model file byte for byte from the same data and seed', () => {
    const a = encodeModel(trainModel(data, rules, options).model, {});
    const b = encodeModel(trainModel(data, rules, options).model, {});
    expect(Buffer.compare(a.bin, b.bin)).toBe(0);
    expect(JSON.stringify(a.meta)).toBe(JSON.stringify(b.meta));
  });

  it('learns: danger it never saw scores above ordinary it never saw', () => {
    const { model } = trainModel(data, rules, options);
    const score = (text: string) =>
      predict(model, extractFeatures(text, { matched: [], softened: [] }, { bits: model.bits }));
    expect(score('she hid my keys and my paycheck').abuse_act).toBeGreaterThan(
      score('we cooked dinner at the beach').abuse_act,
    );
  });

  it('round-trips through model.json and model.bin', () => {
    const { model } = trainModel(data, rules, options);
    const { meta, bin } = encodeModel(model, { note: 'test' });
    const back = decodeModel(JSON.parse(JSON.stringify(meta)), bin);
    const f = extractFeatures('he hides my keys', { matched: [], softened: [] }, { bits: 12 });
    const p1 = predict(model, f).abuse_act;
    const p2 = predict(back, f).abuse_act;
    expect(Math.abs(p1 - p2)).toBeLessThan(0.01); // int16 weights
    expect(back.thresholds).toEqual(model.thresholds);
  });

  it('keeps its MLP through the file, and a heads-only file (format 1) still loads', () => {
    const { model } = trainModel(data, rules, { ...options, mlp: DEFAULT_MLP_OPTIONS });
    expect(model.mlp?.hidden).toBeGreaterThan(0);
    const { meta, bin } = encodeModel(model, {});
    expect(meta.format).toBe('steady-safety-model/2');
    const back = decodeModel(JSON.parse(JSON.stringify(meta)), bin);
    expect(back.mlp?.embed.length).toBe(model.mlp?.embed.length);
    const f = extractFeatures('he hides my keys', { matched: [], softened: [] }, { bits: 12 });
    expect(Math.abs(predict(model, f).abuse_act - predict(back, f).abuse_act)).toBeLessThan(0.02);
    // Without the MLP its calibration weights are not there, and the prediction changes.
    const headsOnly = { ...back };
    delete headsOnly.mlp;
    expect(predict(headsOnly, f).abuse_act).not.toBeCloseTo(predict(back, f).abuse_act, 6);

    const old = trainModel(data, rules, options).model;
    const v1 = encodeModel(old, {});
    expect(v1.meta.format).toBe('steady-safety-model/1');
    const loaded = decodeModel(v1.meta, v1.bin);
    expect(loaded.mlp).toBeUndefined();
    expect(predict(loaded, f).abuse_act).toBeCloseTo(predict(old, f).abuse_act, 2);
  });

  it('refuses a model file that does not fit', () => {
    const { meta, bin } = encodeModel(trainModel(data, rules, options).model, {});
    expect(() => decodeModel(meta, bin.subarray(0, 100))).toThrow(/model\.bin/);
    expect(() => decodeModel({ ...meta, format: 'other' }, bin)).toThrow(/model\.json/);
  });
});

describe('pieces', () => {
  it('hashes the same on every platform (FNV-1a reference values)', () => {
    expect(hash32('')).toBe(0x811c9dc5);
    expect(hash32('a')).toBe(0xe40c292c);
    expect(hash32('foobar')).toBe(0xbf9cf968);
  });

  it('calibrates scores into probabilities that follow the data', () => {
    const whole = [-3, -2, -1, 0, 1, 2, 3, -2.5, 2.5, 0.5, -2, -2];
    // The last two: a low whole score but a high passage score, and they are positives.
    const passage = [-3, -2, -1, 0, 1, 2, 3, -2.5, 2.5, 0.5, 3, 2.5];
    const targets = [0, 0, 0, 0, 1, 1, 1, 0, 1, 1, 1, 1];
    const c = fitCalibration(whole, passage, targets);
    const p = (w: number, s: number) => 1 / (1 + Math.exp(-(c.whole * w + c.passage * s + c.bias)));
    expect(p(3, 3)).toBeGreaterThan(0.8);
    expect(p(-3, -3)).toBeLessThan(0.2);
    expect(c.passage).toBeGreaterThan(0);
  });

  it('trains the MLP only when asked (heads only by default)', () => {
    const options = { bits: 12, epochs: 6, folds: 3, seed: 7 };
    expect(trainModel(data, rules, options).model.mlp).toBeUndefined();
  });

  it("calibrates on the MLP's scores too, trusting the one that tells the targets apart", () => {
    const whole = [-1, -0.5, 0, 0.5, 1, -1, 0.2, 0.8, -0.2, 0.3];
    const passage = whole;
    const targets = [0, 0, 0, 0, 1, 0, 1, 1, 1, 0];
    // The heads' scores barely follow the targets; the MLP's whole score separates them.
    const mlp = { whole: targets.map((t) => (t ? 4 : -4)), passage: targets.map(() => 0) };
    const c = fitCalibration(whole, passage, targets, mlp);
    for (const v of [c.whole, c.passage, c.bias, c.mlpWhole, c.mlpPassage])
      expect(Number.isFinite(v)).toBe(true);
    const p = (i: number) =>
      1 /
      (1 +
        Math.exp(
          -(
            c.whole * whole[i]! +
            c.passage * passage[i]! +
            (c.mlpWhole ?? 0) * mlp.whole[i]! +
            (c.mlpPassage ?? 0) * mlp.passage[i]! +
            c.bias
          ),
        ));
    targets.forEach((t, i) =>
      t ? expect(p(i)).toBeGreaterThan(0.7) : expect(p(i)).toBeLessThan(0.3),
    );
    expect(c.mlpWhole).toBeGreaterThan(Math.abs(c.whole));
  });

  it('refuses a model file whose numbers are not finite, or whose MLP and format disagree', () => {
    const options = { bits: 12, epochs: 2, folds: 2, seed: 3 };
    const { meta, bin } = encodeModel(trainModel(data, rules, options).model, {});
    const broken = JSON.parse(JSON.stringify(meta)) as typeof meta;
    broken.heads.abuse_act.calibration.bias = Number.NaN;
    expect(() => decodeModel(broken, bin)).toThrow(/abuse_act.*non-finite/);
    expect(() => decodeModel({ ...meta, format: 'steady-safety-model/2' }, bin)).toThrow(
      /without an MLP/,
    );
  });

  it('names the file and line of a bad training line', () => {
    expect(() => parseLabelled('{"text":"x","labels":["abuse"],"band":"none"}', 'f.jsonl')).toThrow(
      /f\.jsonl:1: band none with labels/,
    );
    expect(() => parseLabelled('\nnot json', 'g.jsonl')).toThrow(/g\.jsonl:2: not JSON/);
  });
});

describe('features of a reply and its passages', () => {
  const bits = 14;
  const email =
    'Hi! Week 3 went fine, we did the listening exercise.\nWork is busy: two night shifts.\n' +
    "He took my phone again last night and wouldn't give it back. I slept at my sister's.\n" +
    'Thanks for the tips, 4 this week.';
  const sentencesOf = (canonical: string) =>
    canonical
      .split(' . ')
      .map((s) => s.replace(/^\. |\s*\.$/g, '').trim())
      .filter((s) => /[a-z]/.test(s));

  it('reads the whole reply as extractFeatures does, and each passage as its own two sentences', () => {
    const hits = matchRules(email, rules);
    const canonical = canonicalPhrase(email, rules.aliases);
    const { whole, passages } = replyFeatures(canonical, hits, { bits });
    expect(whole).toEqual(extractFeatures(email, hits, { bits, aliases: rules.aliases }));
    const sentences = sentencesOf(canonical);
    expect(sentences.length).toBeGreaterThanOrEqual(5);
    expect(passages).toHaveLength(sentences.length - 1);
    passages.forEach((f, i) => {
      const stretch = `${sentences[i]} . ${sentences[i + 1]}`;
      expect(f).toEqual(extractFeatures(stretch, hits, { bits, canonical: stretch }));
    });
  });

  it('gives a one-sentence reply no passages, and a very long one at most sixteen', () => {
    const none = { matched: [], softened: [] };
    const one = canonicalPhrase('he took my phone again', rules.aliases);
    expect(replyFeatures(one, none, { bits }).passages).toEqual([]);
    const long = canonicalPhrase(
      Array.from({ length: 60 }, (_, i) => `Line ${i} of a long letter.`).join(' '),
      rules.aliases,
    );
    const { passages } = replyFeatures(long, none, { bits });
    expect(passages.length).toBeGreaterThan(1);
    expect(passages.length).toBeLessThanOrEqual(16);
  });

  it('scores every head in one pass exactly as each head alone', () => {
    const { model } = trainModel(data, rules, { bits: 12, epochs: 3, folds: 3, seed: 3 });
    const hits = matchRules(email, rules);
    const { whole, passages } = replyFeatures(canonicalPhrase(email, rules.aliases), hits, {
      bits: 12,
    });
    const risk = predict(model, whole, passages);
    for (const name of HEADS) {
      const head = model.heads[name];
      const best = Math.max(...passages.map((f) => headScore(head, f)));
      expect(risk[name]).toBe(calibrate(head.calibration, headScore(head, whole), best));
    }
  });

  it('follows a head replaced after the model first scored', () => {
    const { model } = trainModel(data, rules, { bits: 12, epochs: 3, folds: 3, seed: 3 });
    const f = extractFeatures('he hides my keys', { matched: [], softened: [] }, { bits: 12 });
    const before = predict(model, f).abuse_act;
    const head = { ...model.heads.abuse_act, weights: new Float32Array(1 << 12).fill(0.5) };
    model.heads.abuse_act = head;
    const score = headScore(head, f);
    const after = predict(model, f).abuse_act;
    expect(after).toBe(calibrate(head.calibration, score, score));
    expect(after).not.toBe(before);
  });

  it('reads a reply twice only when a letter runs three times or more', () => {
    expect(screenForms('he hit me again', rules.aliases)).toHaveLength(1);
    expect(screenForms('he hiiit me agaaain', rules.aliases)).toEqual([
      canonicalPhrase('he hiit me agaain', rules.aliases),
      canonicalPhrase('he hit me again', rules.aliases),
    ]);
  });
});
