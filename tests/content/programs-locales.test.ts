// Several programs and languages in messages/: the checks that keep them in step, the program
// registry (PROGRAMS / PROGRAM), and the keywords that join a program or change language.
import { cpSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkContent } from '../../src/content/check.ts';
import { loadContent } from '../../src/content/load.ts';
import { programRegistry, selectPrograms, withKeySuffix } from '../../src/content/programs.ts';
import type { KeywordSet, Program } from '../../src/content/types.ts';
import { matchKeyword } from '../../src/core/keywords.ts';
import { copyMessages, REAL_MESSAGES, type Fixture } from './fixture.ts';

const steadySpanish = existsSync(join(REAL_MESSAGES, 'steady', 'es', 'sms.yaml'));

describe('content check across locales and programs', () => {
  let fx: Fixture;
  afterEach(() => fx.cleanup());

  it.skipIf(!steadySpanish)('names a step missing in one locale', async () => {
    fx = copyMessages();
    fx.remove('steady/es/email/w2-d2.md');
    const result = await checkContent(fx.dir);
    expect(result.ok).toBe(false);
    expect(result.errors).toEqual([
      'messages/steady/program.yaml: step "w2-d2" has no email in messages/steady/es/email/w2-d2.md',
    ]);
  });

  it.skipIf(!steadySpanish)('names a system message missing in one locale', async () => {
    fx = copyMessages();
    fx.remove('steady/es/email/unsubscribed.md');
    fx.edit('steady/es/sms.yaml', (t) => t.replace(/ {2}language_confirm: \|-\n.*\n/, ''));
    const result = await checkContent(fx.dir);
    expect(result.ok).toBe(false);
    expect(result.errors).toEqual([
      'messages/steady/es/sms.yaml: system message "language_confirm" is missing (under system:)',
      'messages/steady/es/email/unsubscribed.md: email "unsubscribed" is missing in es (it exists in en; see messages/steady/en/email/<key>.md)',
    ]);
  });

  it('a program with one language folder simply has one locale', async () => {
    fx = copyMessages();
    rmSync(join(fx.dir, 'steady', 'es'), { recursive: true, force: true });
    const result = await checkContent(fx.dir);
    expect(result.errors).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.report).not.toMatch(/SMS segments per locale/);
  });

  it("a second program's join words may not clash with another program's or keywords.yaml's", async () => {
    fx = copyMessages();
    cpSync(join(REAL_MESSAGES, 'calm'), join(fx.dir, 'calm'), { recursive: true });
    expect((await checkContent(fx.dir)).errors).toEqual([]);
    fx.edit('calm/program.yaml', (t) =>
      t.replace('en: [calm]', 'en: [calm, join]').replace('es: [calma]', 'es: [calma, pausa]'),
    );
    const result = await checkContent(fx.dir);
    expect(result.errors).toEqual([
      'messages/calm/program.yaml: keywords.en: "join" is already en.join in messages/keywords.yaml',
      'messages/calm/program.yaml: keywords.es: "pausa" is already es.pause in messages/keywords.yaml',
    ]);
  });
});

describe('the program registry', () => {
  it('PROGRAMS empty runs every program, PROGRAM first; names what is wrong otherwise', async () => {
    const content = await loadContent(REAL_MESSAGES);
    const all = selectPrograms(content, { program: 'steady', programs: [] });
    expect(all.all().map((p) => p.key)).toEqual(['steady', 'calm']);
    expect(all.default.key).toBe('steady');
    expect(all.get('calm')?.name).toBe('Calm');
    expect(all.of('gone')).toBe(all.default);
    expect(all.words()).toEqual([
      { word: 'calm', locale: 'en', program: 'calm' },
      { word: 'calma', locale: 'es', program: 'calm' },
    ]);
    const calmFirst = selectPrograms(content, { program: 'calm', programs: ['steady', 'calm'] });
    expect(calmFirst.all().map((p) => p.key)).toEqual(['calm', 'steady']);
    expect(() => selectPrograms(content, { program: 'steady', programs: ['calm'] })).toThrow(
      'PROGRAM=steady must be one of PROGRAMS (calm)',
    );
    expect(() => selectPrograms(content, { program: 'steady', programs: ['nope'] })).toThrow(
      'nope: not in messages/ (have: calm, steady)',
    );
    const renamed = withKeySuffix(all, 'abc');
    expect(renamed.all().map((p) => p.key)).toEqual(['steady-abc', 'calm-abc']);
    expect(renamed.words()[0]).toEqual({ word: 'calm', locale: 'en', program: 'calm-abc' });
  });

  it('refuses a default that is not among the programs', () => {
    const p = { key: 'a', keywords: {} } as unknown as Program;
    expect(() => programRegistry([p], 'b')).toThrow('default program "b"');
  });
});

describe('keywords that join a program or change language', () => {
  let keywords: Record<string, KeywordSet>;
  const words = [
    { word: 'calm', locale: 'en', program: 'calm' },
    { word: 'calma', locale: 'es', program: 'calm' },
  ];
  it.each([
    ['CALM', { command: 'join', locale: 'en', program: 'calm' }],
    ['Calma.', { command: 'join', locale: 'es', program: 'calm' }],
    ['ÚNETE', { command: 'join', locale: 'es' }],
    ['comenzar', { command: 'start', locale: 'es' }],
    ['IDIOMA', { command: 'language', locale: 'es' }],
    ['language', { command: 'language', locale: 'en' }],
    ['LANGUAGE ES', { command: 'language', locale: 'en', target: 'es' }],
    ['idioma es', { command: 'language', locale: 'es', target: 'es' }],
    ['Idioma inglés', { command: 'language', locale: 'es', target: 'en' }],
    ['ESPAÑOL', { command: 'language', locale: 'es', target: 'es' }],
    ['english', { command: 'language', locale: 'en', target: 'en' }],
    ['language xx', { command: 'language', locale: 'en' }],
    ['calm down', null],
    ['I speak english at home', null],
    ['language is hard', null],
  ])('%s', async (text, expected) => {
    keywords ??= (await loadContent(REAL_MESSAGES)).keywords;
    expect(matchKeyword(text, keywords, words)).toEqual(expected);
  });
});
