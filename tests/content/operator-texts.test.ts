// The operators' starting texts (messages/<program>/<locale>/operator.yaml): the shipped file
// keeps the rules, and a file that breaks them is refused with its name and key.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { operatorTexts, parseOperatorTexts } from '../../src/content/operator-texts.ts';
import { MESSAGES_DIR } from '../../src/paths.ts';

describe('operator.yaml', () => {
  it('the shipped texts load: neutral, plain, short, with the program name filled', () => {
    const texts = operatorTexts(
      MESSAGES_DIR,
      { dirs: ['steady'], name: 'Steady', defaultLocale: 'en' },
      'en',
    );
    expect(texts.subject).toBe('A note from Steady');
    expect(texts.templates.length).toBeGreaterThanOrEqual(3);
    expect(texts.templates.length).toBeLessThanOrEqual(4);
    for (const t of texts.templates) {
      expect(t.text).not.toContain('{{');
      expect(t.text.split('\n')[0]).toBe("Hi, it's Steady.");
    }
    // A locale without its own file falls back to the program's default language.
    expect(
      operatorTexts(MESSAGES_DIR, { dirs: ['steady'], name: 'Steady', defaultLocale: 'en' }, 'xx'),
    ).toEqual(texts);
  });

  it('every operator.yaml under messages/ keeps the rules', () => {
    const found: string[] = [];
    for (const program of readdirSync(MESSAGES_DIR, { withFileTypes: true })) {
      if (!program.isDirectory()) continue;
      for (const locale of readdirSync(join(MESSAGES_DIR, program.name), { withFileTypes: true })) {
        if (!locale.isDirectory()) continue;
        if (!existsSync(join(MESSAGES_DIR, program.name, locale.name, 'operator.yaml'))) continue;
        const texts = operatorTexts(
          MESSAGES_DIR,
          { dirs: [program.name], name: 'Steady', defaultLocale: locale.name },
          locale.name,
        );
        expect(texts.templates.length, `${program.name}/${locale.name}`).toBeGreaterThan(0);
        found.push(`${program.name}/${locale.name}`);
      }
    }
    expect(found).toContain('steady/en');
  });

  const file = (text: string, subject = 'A note from {{programName}}') =>
    `subject: ${subject}\ntemplates:\n  one:\n    label: One\n    text: ${JSON.stringify(text)}\n`;

  it.each([
    [file('Hi there.\nAll good?'), null],
    [file('About your partner\nok'), /"one" shows a lock-screen word/],
    [file('Hi {{name}}'), /"one" uses \{\{name\}\}/],
    [file('It’s fine'), /"one" is UCS-2/],
    [file('a'.repeat(460)), /"one": This text needs 4 SMS segments/],
    [file('Hello', 'Your safety'), /the subject shows "safety"/],
    ['subject: x\ntemplates: []\n', /messages\/x\/en\/operator.yaml: templates/],
  ])('%#', (yamlText, error) => {
    const parse = () => parseOperatorTexts(yamlText, 'messages/x/en/operator.yaml', 'Steady');
    if (error) expect(parse).toThrow(error);
    else
      expect(parse()).toMatchObject({ templates: [{ key: 'one', text: 'Hi there.\nAll good?' }] });
  });
});
