import { afterEach, describe, expect, it } from 'vitest';
import { checkContent } from '../../src/content/check.ts';
import { SMS_SYSTEM_KEYS } from '../../src/content/keys.ts';
import { inspectContent } from '../../src/content/load.ts';
import { copyMessages, REAL_MESSAGES, sharedFilesPresent, type Fixture } from './fixture.ts';

const SMS = 'messages/steady/en/sms.yaml';

describe('content check of the real messages/', () => {
  it.skipIf(!sharedFilesPresent)(
    'passes, every SMS within 2 segments (skipped until messages/keywords.yaml and messages/safety.yaml exist)',
    async () => {
      const result = await checkContent(REAL_MESSAGES);
      expect(result.errors).toEqual([]);
      expect(result.warnings).toEqual([]);
      expect(result.ok).toBe(true);
      const [sizes = '', ...perLocale] = result.report.split('\n\n');
      const rows = sizes.split('\n').slice(2);
      // Every program: its steps and the system messages, in each of its locales (steady: 28
      // steps; calm: 8).
      const { content } = await inspectContent(REAL_MESSAGES);
      for (const program of Object.values(content!.programs)) {
        const mine = rows.filter((r) => r.split(/ +/)[0] === program.key);
        const locales = Object.keys(program.locales);
        // A step with variants has a row per variant ("w2-d2.a", "w2-d2.b"): counted once.
        const keys = new Set(mine.map((r) => r.split(/ +/).slice(1, 3).join(' ').split('.')[0]));
        expect(keys.size).toBe((program.steps.length + SMS_SYSTEM_KEYS.length) * locales.length);
        // A program in several languages gets a table of segments side by side.
        if (locales.length > 1)
          expect(
            perLocale.some((t) => t.startsWith(`${program.key}: SMS segments per locale`)),
          ).toBe(true);
      }
      expect(rows.map((r) => r.split(/ +/)[0])).toContain('calm');
      for (const row of rows) expect(row).toMatch(/ GSM-7 +\d+ +[12]$/);
    },
  );
});

describe('content check of a copy', () => {
  let fx: Fixture;
  afterEach(() => fx.cleanup());

  it('reports every SMS with encoding, units and segments', async () => {
    fx = copyMessages();
    const result = await checkContent(fx.dir);
    expect(result.ok).toBe(true);
    const lines = result.report.split('\n');
    expect(lines[1]).toMatch(/^program +locale +key +encoding +units +segments$/);
    expect(lines[2]).toMatch(/^steady +en +w1-d1 +GSM-7 +\d+ +[12]$/);
    for (const key of ['w7-checkin', 'optin_confirm', 'help', 'safety_abuse', 'program_complete']) {
      expect(result.report).toMatch(new RegExp(`^steady +en +${key} `, 'm'));
    }
  });

  it('fails an opt-in, re-subscribe or HELP text that leaves out a carrier disclosure', async () => {
    fx = copyMessages();
    fx.edit('steady/en/sms.yaml', (t) => t.replace(/ Msg frequency varies\./, ''));
    fx.edit('steady/es/sms.yaml', (t) =>
      t.replace(/ AYUDA para ayuda \(\{\{supportContact\}\}\),/, ' AYUDA para ayuda,'),
    );
    const result = await checkContent(fx.dir);
    expect(result.ok).toBe(false);
    expect(result.errors).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /steady\/en\/sms\.yaml: system\.optin_confirm must carry what carriers check; missing "Msg frequency varies"/,
        ),
        expect.stringMatching(
          /steady\/es\/sms\.yaml: system\.optin_confirm must carry what carriers check; missing \{\{supportContact\}\}/,
        ),
      ]),
    );
  });

  it('fails an SMS longer than 2 segments', async () => {
    fx = copyMessages();
    fx.edit('steady/en/sms.yaml', (t) =>
      t.replace(
        'Week 2 starts today.\n',
        `Week 2 starts today.\n    ${'Long words here. '.repeat(10)}\n`,
      ),
    );
    const result = await checkContent(fx.dir);
    expect(result.ok).toBe(false);
    expect(result.errors).toEqual([
      expect.stringMatching(
        new RegExp(
          `^${SMS}: "w2-d0" needs 3 segments \\(\\d+ GSM-7 units\\) with the US resources`,
        ),
      ),
    ]);
  });

  it('fails a text that only a long resource list pushes over, naming the country', async () => {
    fx = copyMessages();
    fx.edit('safety.yaml', (t) =>
      t.replace(
        'resources:\n',
        `resources:\n  GB:\n    abuse: ['${'A long helpline description. '.repeat(5)}']\n    self_harm: ['Samaritans: call 116 123']\n    emergency: '999'\n`,
      ),
    );
    const result = await checkContent(fx.dir);
    expect(
      result.errors.some((e) => /"w1-d3" needs 3 segments .* with the GB resources/.test(e)),
    ).toBe(true);
    expect(result.errors.some((e) => e.includes('"safety_self_harm"'))).toBe(false);
  });

  it('warns about UCS-2 (a curly quote)', async () => {
    fx = copyMessages();
    fx.edit('steady/en/sms.yaml', (t) => t.replace("You won't get", 'You won’t get'));
    const result = await checkContent(fx.dir);
    expect(result.ok).toBe(true);
    expect(result.warnings).toEqual([expect.stringContaining(`${SMS}: "pause_confirm" is UCS-2`)]);
    expect(result.report).toMatch(/^steady +en +pause_confirm +UCS-2 +67 +1$/m);
  });

  it.each([
    ['Week 2 starts today.', 'Your partner and week 2.'],
    ['A note just for you.', 'A safety note.'],
    ['Still time for', 'Trust issues and'],
  ])('fails an alarming lock-screen preview: %s -> %s', async (from, to) => {
    fx = copyMessages();
    fx.edit('steady/en/sms.yaml', (t) => t.replace(from, to));
    const result = await checkContent(fx.dir);
    expect(result.ok).toBe(false);
    expect(result.errors).toEqual([expect.stringContaining('on a lock screen')]);
  });

  it.each([
    ['Empieza la semana 2.', 'Tu pareja y la semana 2.'],
    ['Semana 1, un primer paso.', 'Semana 1: celos y calma.'],
  ])('fails an alarming Spanish lock-screen preview: %s -> %s', async (from, to) => {
    fx = copyMessages();
    fx.edit('steady/es/sms.yaml', (t) => t.replace(from, to));
    const result = await checkContent(fx.dir);
    expect(result.ok).toBe(false);
    expect(result.errors).toEqual([expect.stringContaining('on a lock screen')]);
  });

  it('carries the loader errors (a missing message)', async () => {
    fx = copyMessages();
    fx.remove('steady/en/email/w6-d4.md');
    const result = await checkContent(fx.dir);
    expect(result.ok).toBe(false);
    expect(result.errors).toEqual([
      'messages/steady/program.yaml: step "w6-d4" has no email in messages/steady/en/email/w6-d4.md',
    ]);
  });
});
