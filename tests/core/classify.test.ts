import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { KeywordSet } from '../../src/content/types.ts';
import { isQuestion, readReply, type ReadContext } from '../../src/core/classify.ts';
import { loadSafetyModel } from '../../src/safety/load.ts';
import { compileRules } from '../../src/safety/rules.ts';

const load = (file: string): unknown =>
  parse(readFileSync(new URL(`../../messages/${file}`, import.meta.url), 'utf8'));
const sms: ReadContext = {
  channel: 'sms',
  keywords: load('keywords.yaml') as Record<string, KeywordSet>,
  safety: {
    rules: compileRules(load('safety.yaml')),
    model: await loadSafetyModel(new URL('../../messages', import.meta.url).pathname),
  },
};
const email: ReadContext = { ...sms, channel: 'email' };

describe('readReply (sms)', () => {
  it.each([
    [' STOP ', 'stop', null, []],
    ['Stop.', 'stop', null, []],
    ['stop please', 'stop', null, []],
    ['stopping by later', 'text', null, []],
    ['stop it', 'text', null, []],
    ["help. he's outside", 'text', null, ['abuse']],
    ['HELP', 'help', null, []],
    ['4', 'rating', 4, []],
    ['3 out of 5', 'rating', 3, []],
    ['⭐⭐', 'rating', 2, []],
    ["2. he took my phone again and said he'd hurt me if I text you", 'rating', 2, ['abuse']],
    ['1. i cant do this anymore i just want it all to end', 'rating', 1, ['self_harm']],
    ['10 minutes late, sorry', 'text', null, []],
    ['Can I change the time I get these?', 'question', null, []],
    ['What does week 6 cover', 'question', null, []],
    ['¿cómo cambio la hora?', 'question', null, []],
    ['how many weeks is this', 'question', null, []],
    ['When he gets home I get scared', 'text', null, ['abuse']],
    ['Will do!', 'text', null, []],
    ['rough week', 'text', null, []],
    ['I want to kill myself', 'text', null, ['self_harm']],
    ['YES', 'yes', null, []],
    ['JOIN', 'join', null, []],
    ['RESUME', 'resume', null, []],
    ['START', 'start', null, []],
    ['PARAR', 'stop', null, []],
  ])('%j -> %s', (text, intent, rating, safety) => {
    const reading = readReply(text, sms);
    expect(reading.intent).toBe(intent);
    expect(reading.rating).toBe(rating);
    expect(reading.safety).toEqual(safety);
  });

  it('carries keyword details', () => {
    expect(readReply('PAUSE 7', sms)).toMatchObject({
      intent: 'pause',
      pauseDays: 7,
      locale: 'en',
    });
    expect(readReply('pausa', sms)).toMatchObject({ intent: 'pause', locale: 'es' });
    expect(readReply('PAUSE', sms).pauseDays).toBeUndefined();
    expect(readReply('TZ Central', sms)).toMatchObject({
      intent: 'settings',
      timezone: 'America/Chicago',
    });
    expect(readReply('TIME 7pm', sms)).toMatchObject({ intent: 'settings', hour: 19 });
  });

  it('screens keywords too', () => {
    const reading = readReply('STOP', sms);
    expect(reading).toMatchObject({
      intent: 'stop',
      rating: null,
      safety: [],
      band: 'none',
      concern: [],
      matched: ['keyword:stop'],
      locale: 'en',
    });
  });

  it('lists labels that fired, never the words of the reply', () => {
    const reading = readReply('2. he choked me and said he would kill me', sms);
    expect(reading.matched).toContain('rating:digit');
    expect(reading.matched.some((m) => m.startsWith('abuse:'))).toBe(true);
    for (const label of reading.matched) {
      expect(label).toMatch(/^(keyword|rating|abuse|self_harm):[a-z0-9-]+$/);
    }
  });
});

describe('readReply (email)', () => {
  const quoted = (reply: string) =>
    `${reply}\n\nOn Mon, Mar 3, 2026 at 9:00 AM Steady <hello@example.com> wrote:\n` +
    '> How was your week? Reply 1-5, or STOP to end.\n' +
    '> If someone checks your phone or decides whom you may see, that is control.';

  it.each([
    [quoted('4'), 'rating', 4, []],
    [quoted('Stop'), 'stop', null, []],
    [quoted('Stop\n\nThanks,\nAna'), 'stop', null, []],
    [quoted('Good week, thank you'), 'text', null, []],
    [quoted('he reads my email, please text instead'), 'text', null, ['abuse']],
    ['> How was your week?\n\n3, he shoved me on Sunday', 'rating', 3, ['abuse']],
    [quoted('Can I pause for a week?'), 'question', null, []],
  ])('%j -> %s', (text, intent, rating, safety) => {
    const reading = readReply(text, email);
    expect(reading.intent).toBe(intent);
    expect(reading.rating).toBe(rating);
    expect(reading.safety).toEqual(safety);
  });
});

describe('isQuestion', () => {
  it.each([
    ['Is this free?', true],
    ['is this free', true],
    ['Who is this', true],
    ['Do I need to reply', true],
    ['What time do these come on weekends', true],
    ['thanks 🙂', false],
    ['When he gets home I hide', false],
    ['How he treats me is not ok', false],
    ['Can not wait for next week', false],
  ])('%j -> %s', (text, expected) => {
    expect(isQuestion(text)).toBe(expected);
  });
});
