// The ranks of outbound message states (src/core/message-status.ts): which writes may move a row.
import { describe, expect, it } from 'vitest';
import {
  below,
  isTerminal,
  movesUp,
  STATUS_RANK,
  type OutboundStatus,
} from '../../src/core/message-status.ts';

describe('outbound message status ranks', () => {
  it.each<[OutboundStatus, OutboundStatus, boolean]>([
    ['pending', 'sending', true],
    ['queued', 'sending', true],
    ['sending', 'sent', true],
    ['sending', 'delivered', true], // a receipt can beat the worker's own record
    ['sending', 'unknown', true],
    ['unknown', 'sent', true], // the provider's word settles an unknown send
    ['sent', 'delivered', true],
    ['delivered', 'failed', true], // a failure report outranks a receipt
    ['delivered', 'undelivered', true],
    ['undelivered', 'failed', true],
    ['delivered', 'sent', false], // the worker's late record never undoes a receipt
    ['failed', 'sent', false],
    ['failed', 'delivered', false],
    ['failed', 'suppressed', false],
    ['suppressed', 'failed', false],
    ['suppressed', 'sent', false],
    ['sent', 'unknown', false],
    ['sending', 'queued', false], // a retry is not a move up: it matches `sending` exactly
    ['delivered', 'delivered', false], // a duplicate changes nothing
  ])('%s -> %s: %s', (from, to, allowed) => {
    expect(movesUp(from, to)).toBe(allowed);
    expect(below(to).includes(from)).toBe(allowed);
  });

  it('leaves no terminal state', () => {
    const all = Object.keys(STATUS_RANK) as OutboundStatus[];
    const terminal = all.filter(isTerminal);
    expect(terminal.sort()).toEqual(['failed', 'suppressed']);
    for (const t of terminal) for (const to of all) expect(movesUp(t, to)).toBe(false);
  });
});
