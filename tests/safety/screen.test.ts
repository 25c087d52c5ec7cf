// The whole screen as the inbound pipeline runs it: the shipped rules and the shipped model.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { MESSAGES_DIR } from '../../src/paths.ts';
import { loadScreener } from '../../src/safety/load.ts';
import { screenReply, type SafetyVerdict } from '../../src/safety/screen.ts';

const yaml = parse(readFileSync(new URL('../../messages/safety.yaml', import.meta.url), 'utf8'));
const screener = await loadScreener(yaml, MESSAGES_DIR);
const sms = (text: string) => screenReply(text, 'sms', screener);
const email = (text: string) => screenReply(text, 'email', screener);
const atLeastAsk = (v: SafetyVerdict) => v.band !== 'none';

const QUOTED = [
  '',
  'On Tue, Mar 3, 2026 at 9:30 AM Steady <hello@example.com> wrote:',
  '> This week: notice one small promise you kept. Reply with a word or two about how it went.',
].join('\n');

describe('the examples of the safety issue', () => {
  it('acts on danger that names no danger word', () => {
    const v = sms(
      'slept in the car with the baby again, waiting till hes passed out before i go back in',
    );
    expect(v.band).toBe('act');
    expect(v.categories).toContain('abuse');
  });

  it('asks about a worrying but unclear reply, and does not act', () => {
    const v = sms('money is tight and hes been moody all week, not sure what to do');
    expect(v.band).toBe('ask');
    expect(v.categories).toEqual([]);
  });
});

describe('laughter and hypotheticals never hide self-harm', () => {
  it.each([
    'i want to die lol',
    'what if i just didnt wake up tomorrow haha',
    'honestly everyone would be better off without me 😂',
    'quiero morirme jajaja',
  ])('%s -> act or ask, about self-harm', (text) => {
    const v = sms(text);
    expect(atLeastAsk(v), JSON.stringify(v)).toBe(true);
    expect([...v.categories, ...v.concern]).toContain('self_harm');
  });
});

describe('email: what the screen reads', () => {
  it('reads a disclosure written below a "--" signature line', () => {
    const v = email(
      `Thanks for this week's note.\n\nBest,\nAna\n--\nps he took my car keys and my phone again and said i cant leave the house${QUOTED}`,
    );
    expect(atLeastAsk(v)).toBe(true);
  });

  it('reads a "Sent from ..." line', () => {
    const v = email(
      `All good here, 4.\nSent from my iPhone, which he checks every night before he lets me sleep${QUOTED}`,
    );
    expect(atLeastAsk(v)).toBe(true);
  });

  it("does not read our own quoted words as the person's", () => {
    const quotedWarning = [
      '4',
      '',
      'On Tue, Mar 3, 2026 at 9:30 AM Steady <hello@example.com> wrote:',
      '> Warning signs: checking your phone, deciding whom you may see, threats, hitting.',
    ].join('\n');
    expect(email(quotedWarning).band).not.toBe('act');
  });

  it('reads the body again, capped at ask, when the stripped reply is almost empty', () => {
    const outlookCut = [
      'see below',
      '',
      'From: Steady <hello@example.com>',
      'Sent: Tuesday, March 3, 2026 9:30 AM',
      'Subject: This week',
      '',
      'he locked me in the bedroom all weekend and took my phone so i could not call anyone',
    ].join('\n');
    const v = email(outlookCut);
    expect(v.band).toBe('ask');
    expect(v.concern).toContain('abuse');
  });
});

describe('ordinary replies', () => {
  it.each([
    '4',
    'Good week, we talked about trust and it went well. 4',
    'this traffic is killing me',
    'me muero de risa con mi esposo',
    'Can I change the time of the texts?',
  ])('%s -> none', (text) => {
    expect(sms(text).band).toBe('none');
  });
});

describe('the verdict', () => {
  it('is deterministic and names rules, never the words, in matched', () => {
    const text = 'he said hed kill me if i leave lol';
    expect(sms(text)).toEqual(sms(text));
    for (const label of sms(text).matched)
      expect(label).toMatch(/^(abuse|self_harm):[a-z0-9-]+(~lol)?$/);
  });

  it('explains itself only when asked', () => {
    const text = 'he hid my passport and says he will send the kids to his mother';
    expect(sms(text).why).toEqual([]);
    expect(screenReply(text, 'sms', screener, { explain: true }).why.length).toBeGreaterThan(0);
  });

  it('screens a reply in well under a millisecond of CPU', () => {
    const texts = [
      'he checks my phone every night and gets mad if i dont answer',
      'Good week, we talked about trust and it went well. 4',
      'me revisa el cel todas las noches y no me deja salir',
      'i dont see the point anymore honestly',
    ];
    for (const t of texts) sms(t);
    const cpu = () => {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1000;
    };
    const t0 = cpu();
    const rounds = 100;
    for (let i = 0; i < rounds; i++) for (const t of texts) sms(t);
    const perReply = (cpu() - t0) / (rounds * texts.length);
    console.log(`safety screen: ${perReply.toFixed(3)} ms CPU per reply`);
    // The target is well under 1 ms; the bound leaves room for a loaded CI machine.
    expect(perReply).toBeLessThan(3);
  });
});
