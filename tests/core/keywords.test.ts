import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { KeywordSet } from '../../src/content/types.ts';
import { matchKeyword, parseHour, parseTimeZone } from '../../src/core/keywords.ts';

const keywords = parse(
  readFileSync(new URL('../../messages/keywords.yaml', import.meta.url), 'utf8'),
) as Record<string, KeywordSet>;

describe('matchKeyword: whole-message carrier and program keywords', () => {
  it.each([
    [' STOP ', 'stop', 'en'],
    ['Stop.', 'stop', 'en'],
    ['stop!!', 'stop', 'en'],
    ['STOP please', 'stop', 'en'],
    ['please stop', 'stop', 'en'],
    ['stop pls', 'stop', 'en'],
    ['Stop stop stop', 'stop', 'en'],
    ['STOPALL', 'stop', 'en'],
    ['Unsubscribe', 'stop', 'en'],
    ['cancel', 'stop', 'en'],
    ['END', 'stop', 'en'],
    ['quit', 'stop', 'en'],
    ['REVOKE', 'stop', 'en'],
    ['OPTOUT', 'stop', 'en'],
    ['opt out', 'stop', 'en'],
    ['Opt-Out', 'stop', 'en'],
    ['stop texting me', 'stop', 'en'],
    ['Please stop messaging me!', 'stop', 'en'],
    ['Leave me alone', 'stop', 'en'],
    ['remove me', 'stop', 'en'],
    ['unsubscribe me', 'stop', 'en'],
    ['No more texts', 'stop', 'en'],
    ["don't text me", 'stop', 'en'],
    ['dont text me', 'stop', 'en'],
    ['PARAR', 'stop', 'es'],
    ['Pare', 'stop', 'es'],
    ['detener', 'stop', 'es'],
    ['CANCELAR', 'stop', 'es'],
    ['baja', 'stop', 'es'],
    ['Alto', 'stop', 'es'],
    ['fin', 'stop', 'es'],
    ['salir', 'stop', 'es'],
    ['No más', 'stop', 'es'],
    ['NO MAS', 'stop', 'es'],
    ['no me escriban más', 'stop', 'es'],
    ['START', 'start', 'en'],
    ['unstop', 'start', 'en'],
    ['Inicio', 'start', 'es'],
    ['comenzar', 'start', 'es'],
    ['HELP', 'help', 'en'],
    ['help?', 'help', 'en'],
    ['info', 'help', 'en'],
    ['AYUDA', 'help', 'es'],
    ['PAUSE', 'pause', 'en'],
    ['pausa', 'pause', 'es'],
    ['RESUME', 'resume', 'en'],
    ['reanudar', 'resume', 'es'],
    ['continuar', 'resume', 'es'],
    ['YES', 'yes', 'en'],
    ['y', 'yes', 'en'],
    ['Yep!', 'yes', 'en'],
    ['yes please', 'yes', 'en'],
    ['Sí', 'yes', 'es'],
    ['SI', 'yes', 'es'],
    ['JOIN', 'join', 'en'],
    ['steady', 'join', 'en'],
    ['unirme', 'join', 'es'],
  ])('%j -> %s (%s)', (text, command, locale) => {
    expect(matchKeyword(text, keywords)).toEqual({ command, locale });
  });

  it.each([
    ['stopping by later'],
    ['stop it'],
    ["help. he's outside"],
    ['help me please he is here'],
    ['I want to stop feeling like this'],
    ['start over?'],
    ['Yes he did it again'],
    ['end of the week was rough'],
    ['pause? what does that do'],
    ['4'],
    [''],
    ['   '],
    ['😊'],
  ])('%j is not a keyword', (text) => {
    expect(matchKeyword(text, keywords)).toBeNull();
  });

  it.each([
    ['PAUSE 7', 7, 'en'],
    ['pause 7 days', 7, 'en'],
    ['Pause for 10 days', 10, 'en'],
    ['pause 2 weeks', 14, 'en'],
    ['pause a week', 7, 'en'],
    ['pause 90', 90, 'en'],
    ['PAUSA 7', 7, 'es'],
    ['pausa 3 días', 3, 'es'],
    ['pausa una semana', 7, 'es'],
  ])('%j pauses for %i days', (text, days, locale) => {
    expect(matchKeyword(text, keywords)).toEqual({ command: 'pause', locale, days });
  });

  it.each([['pause 0'], ['pause 91'], ['pause 500']])(
    '%j is a pause with the default length (out of range 1-90)',
    (text) => {
      expect(matchKeyword(text, keywords)).toEqual({ command: 'pause', locale: 'en' });
    },
  );
});

describe('matchKeyword: settings', () => {
  it.each([
    ['TIME 7pm', 19],
    ['time 7 pm', 19],
    ['Time 7 p.m.', 19],
    ['TIME 19', 19],
    ['TIME 19:00', 19],
    ['TIME 7:30am', 7],
    ['time 7:45pm', 19],
    ['TIME 7', 7],
    ['time 12am', 0],
    ['time 12pm', 12],
    ['time 0', 0],
    ['HORA 19', 19],
    ['hora 8am', 8],
  ])('%j -> hour %i', (text, hour) => {
    expect(matchKeyword(text, keywords)).toEqual({ command: 'settings', hour });
  });

  it.each([
    ['TZ Central', 'America/Chicago'],
    ['tz pacific', 'America/Los_Angeles'],
    ['TZ Eastern', 'America/New_York'],
    ['TZ Mountain', 'America/Denver'],
    ['TZ Alaska', 'America/Anchorage'],
    ['TZ Hawaii', 'Pacific/Honolulu'],
    ['TZ Arizona', 'America/Phoenix'],
    ['TZ America/Chicago', 'America/Chicago'],
    ['tz america/chicago', 'America/Chicago'],
    ['TZ Europe/Madrid', 'Europe/Madrid'],
    ['timezone: central', 'America/Chicago'],
    ['ZONA Pacifico', 'America/Los_Angeles'],
    ['TZ UTC', 'UTC'],
  ])('%j -> %s', (text, timezone) => {
    expect(matchKeyword(text, keywords)).toEqual({ command: 'settings', timezone });
  });

  it.each([
    ['TIME 25'],
    ['time 13pm'],
    ['time 7:75'],
    ['time soon'],
    ['TZ Mars/Olympus'],
    ['tz nowhere'],
  ])('%j is not a setting (and not a keyword)', (text) => {
    expect(matchKeyword(text, keywords)).toBeNull();
  });

  it('parseHour and parseTimeZone reject what they cannot read', () => {
    expect(parseHour('noon')).toBeNull();
    expect(parseTimeZone('Not/AZone')).toBeNull();
  });
});
