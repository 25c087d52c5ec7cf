// messages/pages/<locale>.yaml: the web pages' words. Every locale has exactly English's keys, so
// a page never shows a key name or a blank in one language; `content check` says which is missing.
import { afterEach, describe, expect, it } from 'vitest';
import { checkContent } from '../../src/content/check.ts';
import { copyMessages, REAL_MESSAGES, type Fixture } from './fixture.ts';

let fx: Fixture | undefined;
afterEach(() => {
  fx?.cleanup();
  fx = undefined;
});

describe('messages/pages', () => {
  it('the real pages pass: English and Spanish have the same keys', async () => {
    const r = await checkContent(REAL_MESSAGES);
    expect(r.errors.filter((e) => e.includes('/pages/') || e.includes('/legal/'))).toEqual([]);
  });

  it('fails when es.yaml lacks a key that en.yaml has, naming the key and the file', async () => {
    fx = copyMessages();
    fx.edit('pages/es.yaml', (text) => text.replace(/^signup_button:.*\n/m, ''));
    const r = await checkContent(fx.dir);
    expect(r.ok).toBe(false);
    expect(r.errors).toContain(
      'messages/pages/es.yaml: has no "signup_button" (messages/pages/en.yaml has it)',
    );
  });

  it('fails when es.yaml has a key English does not', async () => {
    fx = copyMessages();
    fx.edit('pages/es.yaml', (text) => `${text}\nsignup_extra: Algo más\n`);
    const r = await checkContent(fx.dir);
    expect(r.errors).toContain(
      'messages/pages/es.yaml: has "signup_extra", which messages/pages/en.yaml does not',
    );
  });

  it('fails when en.yaml is missing', async () => {
    fx = copyMessages();
    fx.remove('pages/en.yaml');
    const r = await checkContent(fx.dir);
    expect(r.errors).toContain(
      'messages/pages/en.yaml: file is missing (the web pages’ words, one key per string)',
    );
  });

  it('checks the Spanish legal pages like the English ones', async () => {
    fx = copyMessages();
    fx.edit('legal/es/terms.md', (text) => text.replace('{{postalAddress}}', '{{postal}}'));
    const r = await checkContent(fx.dir);
    expect(r.errors.some((e) => e.startsWith('messages/legal/es/terms.md: uses unknown'))).toBe(
      true,
    );
  });
});
