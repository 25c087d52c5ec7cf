import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { compileSafety, resourcesFor, screenText } from '../../src/core/safety.ts';

const data = parse(readFileSync(new URL('../../messages/safety.yaml', import.meta.url), 'utf8'));
const safety = compileSafety(data);
const screen = (text: string) => screenText(text, safety).categories;

describe('screenText', () => {
  it.each([
    ['he hit me last night', ['abuse']],
    ["he doesn't hit me, he just grabs my arm", ['abuse']],
    ["help. he's outside", ['abuse']],
    ['2. he took my phone again and said he would hurt me if I text you', ['abuse']],
    ['my bf checks my phone evry night', ['abuse']],
    ['he threatend to take the kids', ['abuse']],
    ['hes sooo angry im scared of him 😰', ['abuse']],
    ['he waves his 🔪 at me', ['abuse']],
    ['i feel like im walking on eggshells', ['abuse']],
    ['me pegó anoche', ['abuse']],
    ['no me deja ver a mis amigas', ['abuse']],
    ['kms', ['self_harm']],
    ['i want to dieee', ['self_harm']],
    ["I don't want to be here anymore", ['self_harm']],
    ['quiero morirme', ['self_harm']],
    ['me quiero matar', ['self_harm']],
    ['he hits me and I want to die', ['abuse', 'self_harm']],
  ])('%j -> %j', (text, categories) => {
    expect(screen(text)).toEqual(categories);
  });

  it.each([
    ['he has never hit me'],
    ["he's never hurt me, he's just insecure"],
    ["I'm not scared of him, just frustrated"],
    ['I hit the gym 4 times this week'],
    ['hit me up next week'],
    ['this week killed me lol'],
    ['my phone died'],
    ['he threw a party for my birthday'],
    ['she took my phone to call her mom'],
    ['killing it 💪'],
    ['dying of laughter 😂'],
    ['I could kill for a coffee'],
    ['I could die of embarrassment'],
    ['dying to see the show'],
    ['lmao im dead 💀'],
    ['me pegó un susto el perro'],
    ['me muero de risa'],
    ['4'],
    ['rough week'],
    ['Can I change the time?'],
  ])('%j -> nothing', (text) => {
    expect(screen(text)).toEqual([]);
  });

  it('reports rule labels, never the words of the reply', () => {
    const result = screenText('he choked me and I want to kill myself', safety);
    expect(result.matched.length).toBeGreaterThan(0);
    for (const label of result.matched) expect(label).toMatch(/^(abuse|self_harm):[a-z0-9-]+$/);
  });

  it('is deterministic', () => {
    const text = 'he said hed kill me lol';
    expect(screenText(text, safety)).toEqual(screenText(text, safety));
  });
});

describe('compileSafety', () => {
  const minimal = (phrase: string) => ({
    locales: {
      en: {
        negation: { words: ['not'], before: ['not'], filler: [] },
        families: { actor: ['he', 'she'] },
        abuse: [{ id: 'test-rule', any: [phrase] }],
        self_harm: [],
      },
    },
    resources: { default: { abuse: ['a'], self_harm: ['b'], emergency: 'c' } },
  });

  it('compiles the phrase language', () => {
    const compiled = compileSafety(minimal('{actor} ~2 (hit|punch*) [really] me'));
    expect(screenText('he really punched me', compiled).matched).toEqual(['abuse:test-rule']);
    expect(screenText('he did not hit me', compiled).matched).toEqual([]);
  });

  it.each([
    ['{actr} hit me', /phrase "\{actr\} hit me": unknown family \{actr\} \(known: actor\)/],
    ['(hit|punch me', /phrase "\(hit\|punch me": missing "\)"/],
    ['hit me ~99', /"~" needs a number/],
    ['(hit|punch)? me', /write optional words as \[a\|b\]/],
    ['hit] me', /unexpected "\]"/],
  ])('names the phrase that fails: %j', (phrase, message) => {
    expect(() => compileSafety(minimal(phrase))).toThrow(message);
  });

  it('accepts the phrases without resources (the loader may split them off)', () => {
    const { resources: _resources, ...phrasesOnly } = minimal('hit me');
    expect(compileSafety(phrasesOnly).resources).toEqual({});
    const { resources: _r, ...real } = data as Record<string, unknown>;
    expect(screenText('he hit me', compileSafety(real)).categories).toEqual(['abuse']);
  });

  it('rejects a malformed document with the path of the problem', () => {
    expect(() => compileSafety({ resources: {} })).toThrow(/safety\.yaml: locales/);
    const bad = minimal('hit me');
    (bad.locales.en.abuse[0] as Record<string, unknown>).anyy = ['x'];
    expect(() => compileSafety(bad)).toThrow(/safety\.yaml: locales\.en\.abuse\.0/);
    expect(() => compileSafety(null)).toThrow(/safety\.yaml/);
  });

  it('rejects help lines an SMS cannot carry in GSM-7', () => {
    const bad = minimal('hit me');
    bad.resources.default.abuse = ['Call us \u201cnow\u201d'];
    expect(() => compileSafety(bad)).toThrow(/GSM-7/);
  });
});

describe('resources', () => {
  it('has the US lines and a default', () => {
    const us = resourcesFor(safety, 'us');
    if (us === undefined) throw new Error('messages/safety.yaml has no US resources');
    expect(us.emergency).toBe('911');
    expect(us.abuse.join(' ')).toContain('1-800-799-7233');
    expect(us.abuse.join(' ')).toContain('START to 88788');
    expect(us.self_harm.join(' ')).toContain('988');
    expect(resourcesFor(safety, 'ZZ')).toBe(safety.resources.default);
    expect(resourcesFor(safety, undefined)).toBe(safety.resources.default);
  });

  it('keeps every line short enough for one SMS segment', () => {
    for (const r of Object.values(safety.resources)) {
      for (const line of [...r.abuse, ...r.self_harm, r.emergency]) {
        expect(line.length).toBeLessThanOrEqual(160);
      }
    }
  });
});
