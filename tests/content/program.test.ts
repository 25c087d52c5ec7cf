// The content brief as tests: what every reader of Steady can count on, whatever the wording.
import { beforeAll, describe, expect, it } from 'vitest';
import { inspectContent } from '../../src/content/load.ts';
import { LOCK_SCREEN_WORDS } from '../../src/content/keys.ts';
import type { LocaleTexts, Program } from '../../src/content/types.ts';
import { programVars } from '../../src/content/vars.ts';
import { REAL_MESSAGES } from './fixture.ts';

let program: Program;
let en: LocaleTexts;

beforeAll(async () => {
  // The partial result loads program and texts even before keywords/safety.yaml exist.
  const { partial } = await inspectContent(REAL_MESSAGES);
  const steady = partial.programs.steady;
  if (!steady?.locales.en) throw new Error('messages/steady/ with an en/ locale is required');
  program = steady;
  en = steady.locales.en;
});

const sms = (key: string): string => en.sms[key] ?? '';
const stepsOf = (week: number) => program.steps.filter((s) => s.week === week);

describe('the schedule', () => {
  it('is 7 weeks under a neutral name', () => {
    expect(program).toMatchObject({ key: 'steady', name: 'Steady', weeks: 7, defaultLocale: 'en' });
  });

  it.each([1, 2, 3, 4, 5, 6, 7])(
    'week %i has 3+ nudges and a check-in on distinct days',
    (week) => {
      const steps = stepsOf(week);
      expect(steps.filter((s) => s.kind === 'nudge').length).toBeGreaterThanOrEqual(3);
      expect(steps.filter((s) => s.kind === 'checkin')).toHaveLength(1);
      expect(new Set(steps.map((s) => s.day)).size).toBe(steps.length);
    },
  );

  it('sends at most one program message a day, between 09:00 and 19:00', () => {
    expect(new Set(program.steps.map((s) => s.day)).size).toBe(program.steps.length);
    for (const step of program.steps) {
      expect(step.at >= '09:00' && step.at <= '19:00', step.key).toBe(true);
    }
  });

  it('leaves the confirm day to the welcome message', () => {
    expect(Math.min(...program.steps.map((s) => s.day))).toBeGreaterThan(0);
  });

  it('adds the week-7 self-care nudge early after low ratings', () => {
    const step = program.steps.find((s) => s.key === program.lowRatingStep);
    expect(step).toMatchObject({ week: 7, kind: 'nudge' });
    expect(sms(step?.key ?? '')).not.toMatch(/week 7|last week|final/i);
  });

  it('counts messages a week honestly for the opt-in text', () => {
    expect(programVars(program)).toEqual({ programName: 'Steady', weeks: 7, perWeek: 4 });
  });
});

describe('the texts', () => {
  it('never hard-code support numbers (they come from safety.yaml by country)', () => {
    const all = [
      ...Object.values(en.sms),
      ...Object.values(en.email).map((e) => `${e.subject}\n${e.preheader}\n${e.markdown}`),
    ];
    for (const text of all) expect(text).not.toMatch(/\b(911|988|999|112)\b|\d{3}-\d{3}-\d{4}/);
  });

  it('do not use {{name}} in SMS', () => {
    for (const text of Object.values(en.sms)) expect(text).not.toContain('{{name}}');
  });

  it('keep discreet email subjects and previews', () => {
    for (const [key, email] of Object.entries(en.email)) {
      const shown = `${email.subject} ${email.preheader}`.toLowerCase();
      for (const word of LOCK_SCREEN_WORDS) expect(shown, `${key}: ${word}`).not.toContain(word);
    }
  });

  it('check-ins ask for a 1-5 rating or a few words', () => {
    for (const step of program.steps.filter((s) => s.kind === 'checkin')) {
      expect(sms(step.key), step.key).toMatch(/1 \(hard\) to 5 \(good\)/);
      expect(sms(step.key), step.key).toMatch(/few words/);
      expect(en.email[step.key]?.markdown, step.key).toMatch(/1 to 5/);
    }
  });

  it('say from week 1 that worry is not control, and how to reach help', () => {
    expect(sms('welcome')).toMatch(/not control/);
    expect(sms('welcome')).toMatch(/PAUSE or STOP/);
    const week1 = stepsOf(1).map((s) => sms(s.key));
    expect(week1.some((t) => t.includes('{{resources}}') && /control/.test(t))).toBe(true);
    expect(en.email.welcome?.markdown).toContain('{{resources}}');
  });

  it.each(['safety_abuse', 'safety_self_harm'])(
    '%s gives resources, says texts are not private, and how to stop with one word',
    (key) => {
      const text = sms(key);
      expect(text.split('\n')[0]).toBe('A note from {{programName}}.');
      for (const part of ['{{resources}}', '{{emergency}}', 'PAUSE', 'STOP', 'delete this thread'])
        expect(text.toLowerCase()).toContain(part.toLowerCase());
      expect(text).toMatch(/anyone with this phone can read/i);
      const email = en.email[key]?.markdown ?? '';
      for (const part of [
        '{{resources}}',
        '{{emergency}}',
        'PAUSE',
        'STOP',
        "isn't always private",
      ])
        expect(email).toContain(part);
    },
  );

  it('opt-in, help and re-subscribe texts carry what carriers require', () => {
    // Program name, frequency, "Msg frequency varies", rates, HELP, STOP, and the terms.
    const disclosure = [
      '{{programName}}',
      '{{perWeek}} msgs/wk',
      'Msg frequency varies',
      'Msg & data rates may apply',
      'HELP',
      'STOP',
      'Terms: {{termsUrl}}',
    ];
    for (const part of [...disclosure, 'YES']) expect(sms('optin_confirm')).toContain(part);
    for (const part of disclosure) expect(sms('start_confirm')).toContain(part);
    for (const part of [
      '{{programName}}',
      '{{supportContact}}',
      'STOP',
      'PAUSE',
      'PAUSE 7',
      'RESUME',
      'TIME 7pm',
      'TZ Central',
      'Msg frequency varies',
      'Msg & data rates may apply',
      'Terms: {{termsUrl}}',
    ])
      expect(sms('help')).toContain(part);
    expect(sms('optout_clarify')).toContain('Reply STOP to stop all messages');
  });

  it('fill {{days}} and {{setting}} where the code sends them', () => {
    expect(sms('pause_days_confirm')).toContain('{{days}}');
    expect(sms('settings_confirm')).toContain('{{setting}}');
    expect(en.email.confirm_email?.markdown).toContain('{{confirmUrl}}');
  });
});
