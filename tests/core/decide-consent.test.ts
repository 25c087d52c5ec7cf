// decideReply's consent branches, as a table: who may come back and how, what an unclear reply
// does, and what goes first when a reply both discloses danger and says stop. Pure: no I/O.
import { describe, expect, it } from 'vitest';
import { decideReply, type Action, type ReplyContext } from '../../src/core/decide.ts';
import { reading, replyContext } from '../support/readings.ts';

const ctx = (over: Partial<ReplyContext> = {}) => replyContext(over);

/** "kind" or "send:template", in order. */
const summary = (actions: Action[]) =>
  actions.map((a) => (a.kind === 'send' ? `send:${a.template}` : a.kind));
const stopped = (over: Partial<ReplyContext> = {}) =>
  ctx({ subscriber: { status: 'stopped' }, enrollment: null, ...over });
const expired = (over: Partial<ReplyContext> = {}) =>
  ctx({ subscriber: { status: 'expired' }, enrollment: null, ...over });

describe('coming back needs a clear yes', () => {
  it.each([
    ['stopped + yes', stopped(), 'yes', []],
    ['stopped + START', stopped(), 'start', ['confirm']],
    ['stopped + JOIN', stopped(), 'join', ['rejoin', 'send:optin_confirm']],
    // After a STOP a JOIN is always asked again, even if an opt-in text went out today.
    [
      'stopped + JOIN, opt-in sent today',
      stopped({ optinSentRecently: true }),
      'join',
      ['rejoin', 'send:optin_confirm'],
    ],
    ['expired + yes, no recent opt-in text', expired(), 'yes', []],
    [
      'expired + yes, answering an opt-in text',
      expired({ optinSentRecently: true }),
      'yes',
      ['confirm'],
    ],
    ['expired + JOIN', expired(), 'join', ['rejoin', 'send:optin_confirm']],
    ['expired + JOIN, opt-in sent today', expired({ optinSentRecently: true }), 'join', ['rejoin']],
    ['pending + yes', ctx({ subscriber: { status: 'pending' } }), 'yes', ['confirm']],
  ] as const)('%s', (_name, context, intent, expected) => {
    expect(summary(decideReply(context, reading({ intent })))).toEqual(expected);
  });
});

describe('unclear replies', () => {
  const unclear = reading({ optOutUnclear: true, matched: ['optout-unclear:want-to-quit'] });
  it('asks once and queues the question, with no acknowledgement', () => {
    expect(summary(decideReply(ctx({ openCheckin: { id: 'c1' } }), unclear))).toEqual([
      'optOutQuery',
      'send:optout_clarify',
      'answerCheckin',
    ]);
    const [query] = decideReply(ctx(), unclear);
    expect(query).toEqual({ kind: 'optOutQuery', rule: 'want-to-quit' });
  });
  it('does not ask twice in a day', () => {
    expect(summary(decideReply(ctx({ clarifySentRecently: true }), unclear))).toEqual([
      'optOutQuery',
    ]);
  });
  it('beside a safety message, the safety message is the answer (the question still queues)', () => {
    const r = { ...unclear, safety: ['self_harm' as const], band: 'act' as const };
    expect(summary(decideReply(ctx(), r))).toEqual([
      'flag',
      'hold',
      'send:safety_self_harm',
      'optOutQuery',
    ]);
  });
  it('from someone who never confirmed, it is a stop', () => {
    expect(summary(decideReply(ctx({ subscriber: { status: 'pending' } }), unclear))).toEqual([
      'optOut',
      'send:stop_confirm',
    ]);
  });
  it('from someone already stopped, nothing', () => {
    expect(summary(decideReply(stopped(), unclear))).toEqual([]);
  });
});

describe('stop beside a safety reading', () => {
  it('act: the safety message first, then the opt-out and its confirmation', () => {
    const r = reading({ intent: 'stop', safety: ['abuse'], band: 'act' });
    expect(summary(decideReply(ctx(), r))).toEqual([
      'flag',
      'hold',
      'send:safety_abuse',
      'optOut',
      'send:stop_confirm',
    ]);
  });
  it('ask: the flag reaches an operator, but no "reply SAFE" to someone who asked us to stop', () => {
    const r = reading({ intent: 'stop', band: 'ask', concern: ['abuse'] });
    expect(summary(decideReply(ctx(), r))).toEqual(['flag', 'optOut', 'send:stop_confirm']);
  });
});

describe("a changed setting is confirmed in the person's language", () => {
  const setting = (context: ReplyContext, over: Parameters<typeof reading>[0]) => {
    const send = decideReply(context, reading({ intent: 'settings', ...over })).find(
      (a) => a.kind === 'send',
    );
    return send?.kind === 'send' ? send.vars?.setting : undefined;
  };
  it.each([
    ['en', { hour: 19 }, 'send time 19:00'],
    ['en', { timezone: 'America/Chicago' }, 'time zone America/Chicago'],
    ['es', { hour: 7 }, 'hora de los mensajes 07:00'],
    ['es', { timezone: 'America/Chicago' }, 'zona horaria America/Chicago'],
    // A language without its own words falls back to English rather than sending nothing.
    ['fr', { hour: 9 }, 'send time 09:00'],
  ] as const)('%s %j -> %s', (locale, over, expected) => {
    expect(setting(ctx({ locale }), over)).toBe(expected);
  });
});
