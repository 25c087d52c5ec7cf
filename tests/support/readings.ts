// Builders for decideReply's inputs in pure tests: a reply context for an active person with no
// history, and a reading of plain text; each test overrides what it is about.
import type { Reading } from '../../src/core/classify.ts';
import type { ReplyContext } from '../../src/core/decide.ts';

export const replyContext = (over: Partial<ReplyContext> = {}): ReplyContext => ({
  subscriber: { status: 'active' },
  enrollment: { state: 'active', lowRatingRun: 0, lowRatingStepSent: false },
  openCheckin: null,
  safetySentRecently: [],
  safetyCheckSentRecently: false,
  recentConcern: [],
  howToJoinSentRecently: false,
  optinSentRecently: false,
  ...over,
});

export const reading = (over: Partial<Reading> = {}): Reading => ({
  intent: 'text',
  rating: null,
  safety: [],
  band: 'none',
  concern: [],
  risk: { abuse: 0, self_harm: 0 },
  concernRisk: { abuse: 0, self_harm: 0 },
  why: [],
  matched: [],
  ...over,
});
