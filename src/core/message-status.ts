// The states of an outbound message, ranked once. Every write of an outbound message's status
// moves it up this ladder and never down, and says so in its WHERE clause (`status IN
// below(target)`), so writers that race (the worker recording a send, Twilio's status callbacks,
// the sweep) end in the same state whatever order they land in, and a duplicate changes nothing.
//
//   pending < queued < sending < unknown < sent < delivered < undelivered < failed = suppressed
//
// - pending, queued, sending: still in our hands. `unknown` (a worker died or the network broke
//   mid-call) sits below `sent` so that the provider's word, when it comes, settles it.
// - delivered < undelivered < failed: when a delivery receipt and a failure report both arrive
//   for one message, the failure wins. A failure is the provider's last word (Twilio's `failed`
//   means it never left, `undelivered` that the carrier reported it lost; a later report never
//   turns either into a delivery), and for our purposes the pessimistic reading is the safe one:
//   operators see it in the failure counts instead of trusting a receipt that was contradicted.
// - failed and suppressed are terminal: nothing leaves them (equal rank, so neither replaces the
//   other: a suppressed message never went out, so no report can be about it).
//
// The one move down, and it is never a status report: `sending` back to `queued`, to send again
// a message the provider does not have. A worker whose call was refused (throttled, provider
// down) does it; so does the sweep, for a dead worker's row that the provider says it never got
// (reconcile.ts) or an at-least-once message it cannot ask about. Those writes match
// `status = 'sending'` exactly (RETRY_FROM), so they cannot undo a report that landed meanwhile.
import type { MessageStatus } from '../db/client.ts';

export type OutboundStatus = Exclude<MessageStatus, 'received'>;

export const STATUS_RANK: Readonly<Record<OutboundStatus, number>> = {
  pending: 0,
  queued: 1,
  sending: 2,
  unknown: 3,
  sent: 4,
  delivered: 5,
  undelivered: 6,
  failed: 7,
  suppressed: 7,
};

const ALL = Object.keys(STATUS_RANK) as OutboundStatus[];

/** The statuses a row may be in for a write to move it to `target`: every lower rank. */
export function below(target: OutboundStatus): OutboundStatus[] {
  return ALL.filter((s) => STATUS_RANK[s] < STATUS_RANK[target]);
}

/** True when a row in `from` may be moved to `to` by a status report or a worker's record. */
export function movesUp(from: OutboundStatus, to: OutboundStatus): boolean {
  return STATUS_RANK[from] < STATUS_RANK[to];
}

/** The one state a retry may send back to `queued` (see the top of this file). */
export const RETRY_FROM = 'sending' satisfies OutboundStatus;

/** A state nothing ever leaves. */
export function isTerminal(s: OutboundStatus): boolean {
  return STATUS_RANK[s] === STATUS_RANK.failed;
}
