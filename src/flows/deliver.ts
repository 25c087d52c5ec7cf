// Sends one message. Right before calling the provider it re-reads consent and enrollment state:
// a stopped, paused or erased person gets nothing and the message is marked suppressed. It also
// re-checks quiet hours: a program message that would land in them (a backlog, the rate limit or a
// retry brought it past 21:00 local) stays queued until they end (SendLater).
//
// Delivery semantics: the row moves queued -> sending before the provider call (a conditional
// update, so two workers never both send it). If the process dies during the call the row stays
// `sending`; the sweep then marks program messages `unknown` (never resent: at most once) and
// puts safety messages and opt-out confirmations back in the queue (at least once). Every status
// write is guarded by the ranks in core/message-status.ts: a status callback can land at any time
// after the provider call, and a report it brought is never written over.
import { SendError, type SendResult } from '../channels/port.ts';
import { maskEmail, maskPhone } from '../channels/mask.ts';
import type { Deps } from '../deps.ts';
import {
  composeEmail,
  composeSms,
  MissingContentError,
  programOfMessage,
  strangerRecipient,
} from './compose.ts';
import type { Program } from '../content/types.ts';
import { recordOptOut } from './consent.ts';
import { metrics } from '../metrics.ts';
import { isSuppressed } from './erase.ts';
import { findStep } from '../core/program.ts';
import { isValidTimezone, localDay, quietUntil } from '../core/schedule.ts';
import type { Db } from '../db/client.ts';
import { coalesce } from './coalesce.ts';
import { deliveryStore, type DeliveryRow, type SentRecord } from './delivery-store.ts';
import { below, RETRY_FROM } from '../core/message-status.ts';
import { markFailed } from '../webhooks/message-events.ts';

/** Messages that must arrive even across crashes (possibly twice, never zero); every other
 * message is sent at most once. The sweep resends these when a worker died mid-send. */
export const AT_LEAST_ONCE_TEMPLATES: ReadonlySet<string> = new Set([
  'safety_abuse',
  'safety_self_harm',
  'stop_confirm',
]);

/** Messages that may go to someone who is not (or no longer) active. */
// HELP must be answered even after STOP (carrier rules).
const ALWAYS_ALLOWED = new Set(['stop_confirm', 'help']);
const ALLOWED_WHILE_PENDING = new Set([
  'optin_confirm',
  'confirm_email',
  'how_to_join',
  'help',
  'stop_confirm',
  // A person waiting to confirm may still change language, and must see that it worked.
  'language_menu',
  'language_confirm',
]);

export type DeliverOutcome = 'sent' | 'skipped' | 'suppressed' | 'failed' | 'retry';

export class RetryLater extends Error {
  constructor(public readonly code: string) {
    super(`send failed (${code}); will retry`);
    this.name = 'RetryLater';
  }
}

/**
 * A program message must not go out in the subscriber's quiet hours, whenever the worker gets to
 * it: `until` is when it may (the end of the quiet hours in their zone). The row stays `queued`
 * with its `dueAt` moved there, so the sweep re-queues it only from then on; the worker puts the
 * job back in the delayed set for that time.
 */
export class SendLater extends Error {
  constructor(public readonly until: Date) {
    super(`quiet hours: send at ${until.toISOString()}`);
    this.name = 'SendLater';
  }
}

type Loaded = DeliveryRow;

/** The message with its subscriber and enrollment state (one statement for many jobs at once). */
function load(deps: Pick<Deps, 'db'>, id: string): Promise<Loaded | null> {
  return deliveryStore(deps.db).load(id);
}

/**
 * What may be sent to a number we do not know, in answer to their message. A stranger whose
 * message reads as worrying gets the discreet check-in (decide.ts sends it instead of how to
 * join): without it they would get no answer at all, and reply SAFE brings the safety message.
 */
const STRANGER_ALLOWED = new Set([
  'how_to_join',
  'help',
  'safety_check',
  'safety_abuse',
  'safety_self_harm',
]);

/**
 * Program messages keep to quiet hours: the program's steps (nudges and check-ins), and the sends
 * the scheduler and the sweep make on the program lane (the check-in reminder, the closing
 * message). Safety messages and answers to a person's own message (STOP, HELP, confirmations,
 * acknowledgements: all on the priority lane) go out at once.
 */
export function heldByQuietHours(m: Pick<Loaded, 'kind' | 'lane' | 'template'>): boolean {
  if (m.kind === 'safety' || AT_LEAST_ONCE_TEMPLATES.has(m.template ?? '')) return false;
  if (ALWAYS_ALLOWED.has(m.template ?? '')) return false;
  if (m.kind === 'nudge' || m.kind === 'checkin') return true;
  return m.kind === 'system' && m.lane !== 'priority';
}

/** Subscribers' time zones for the quiet-hours check, one statement for the jobs run at once. */
const zoneLookups = new WeakMap<Db, (id: string) => Promise<string | null>>();
function timezoneOf(db: Db, subscriberId: string): Promise<string | null> {
  let lookup = zoneLookups.get(db);
  if (!lookup) {
    lookup = coalesce(async (ids: string[]) => {
      const rows = await db.$queryRaw<{ id: string; timezone: string }[]>`
        SELECT id, timezone FROM subscribers WHERE id = ANY(${ids}::uuid[])`;
      const byId = new Map(rows.map((r) => [r.id, r.timezone]));
      return ids.map((id) => byId.get(id) ?? null);
    });
    zoneLookups.set(db, lookup);
  }
  return lookup(subscriberId);
}

/**
 * Holds a program message for quiet hours: its row stays queued and its `dueAt` moves to `until`.
 * A program step held to the next local day counts as that day's program message, so the next
 * step is not sent the same day (at most one a day). False when the row is no longer waiting.
 */
async function holdForQuietHours(
  deps: Pick<Deps, 'db' | 'log'>,
  m: Loaded,
  until: Date,
  timezone: string,
): Promise<boolean> {
  const held = await deps.db.message.updateMany({
    where: { id: m.id, status: { in: below('sending') } },
    data: { dueAt: until },
  });
  if (!held.count) return false;
  const day = localDay(until, timezone);
  if (day && m.enrollmentId && m.step && (m.kind === 'nudge' || m.kind === 'checkin')) {
    await deps.db.enrollment.updateMany({
      where: { id: m.enrollmentId, OR: [{ lastSentDay: null }, { lastSentDay: { lt: day } }] },
      data: { lastSentDay: day },
    });
  }
  metrics.inc('steady_quiet_hours_deferrals_total', { channel: m.channel, kind: m.kind });
  countSend(m, 'deferred');
  deps.log.info(
    { messageId: m.id, channel: m.channel, kind: m.kind, template: m.template, until },
    'program message held: quiet hours',
  );
  return true;
}

async function suppressionReason(
  deps: Pick<Deps, 'db' | 'config'>,
  m: Loaded,
): Promise<string | null> {
  const s = m.subscriber;
  const t = m.template ?? '';
  if (!s) {
    if (m.subscriberId !== null || !m.toAddr || !STRANGER_ALLOWED.has(t)) return 'erased';
    return (await isSuppressed(deps, m.toAddr)) ? 'erased' : null;
  }
  if (ALWAYS_ALLOWED.has(t)) return null;
  // A safety message still queued for a stopped person answers the reply that also said stop
  // (recordOptOut suppressed every older one): it goes, ahead of the confirmation.
  if (s.status === 'stopped' && m.kind === 'safety') return null;
  if (s.status === 'stopped') return 'stopped';
  if (s.status === 'expired') return 'expired';
  if (s.status === 'pending' && !ALLOWED_WHILE_PENDING.has(t) && m.kind !== 'safety')
    return 'not_confirmed';
  if (m.channel === 'email' && s.undeliverableAt) return 'undeliverable';
  if ((m.kind === 'nudge' || m.kind === 'checkin') && m.enrollment?.state !== 'active')
    return m.enrollment?.state ?? 'no_enrollment';
  return null;
}

export async function deliver(
  deps: Pick<Deps, 'db' | 'sms' | 'email' | 'clock' | 'log' | 'config' | 'content' | 'programs'>,
  messageId: string,
  opts: { finalAttempt: boolean } = { finalAttempt: true },
): Promise<DeliverOutcome> {
  const { db, clock, log } = deps;
  const m = await load(deps, messageId);
  if (!m || m.direction !== 'out' || (m.status !== 'queued' && m.status !== 'pending'))
    return 'skipped';

  const reason = await suppressionReason(deps, m);
  if (reason) {
    await db.message.updateMany({
      where: { id: m.id, status: { in: below('sending') } },
      data: { status: 'suppressed', error: reason },
    });
    log.info({ messageId: m.id, reason }, 'send suppressed');
    countSend(m, 'suppressed');
    return 'suppressed';
  }
  // Quiet hours, judged now in the subscriber's zone (as the scheduler judges a claim): the step
  // was claimed outside them, but the send may come later.
  if (m.subscriber && heldByQuietHours(m)) {
    const stored = await timezoneOf(db, m.subscriber.id);
    const zone = stored && isValidTimezone(stored) ? stored : deps.config.defaultTimezone;
    const until = quietUntil(clock.now(), zone, deps.config.quietHours);
    if (until) {
      if (!(await holdForQuietHours(deps, m, until, zone))) return 'skipped';
      throw new SendLater(until);
    }
  }
  const program = programOfMessage(deps.programs, m);
  const sub = m.subscriber ?? strangerRecipient(program, m.channel, m.toAddr);
  let outgoing;
  try {
    const input = { message: m, subscriber: sub };
    outgoing =
      m.channel === 'sms'
        ? composeSms(deps.config, deps.content, program, input)
        : composeEmail(deps.config, deps.content, program, input);
  } catch (err) {
    if (!(err instanceof MissingContentError)) throw err;
    await db.message.updateMany({
      // Not claimed yet: only a row still waiting (nobody else has sent it) fails for its content.
      where: { id: m.id, status: { in: below('sending') } },
      data: { status: 'failed', error: `content: ${err.message}` },
    });
    log.error({ messageId: m.id, template: m.template }, `cannot compose message: ${err.message}`);
    countSend(m, 'failed');
    return 'failed';
  }

  // Claim the send (queued/pending -> sending, conditionally). If another worker got here first,
  // it owns the message.
  if (!(await deliveryStore(db).claim(m.id))) return 'skipped';

  const to = m.channel === 'sms' ? maskPhone(sub.phone ?? '') : maskEmail(sub.email ?? '');
  const sender = m.channel === 'sms' ? deps.sms : deps.email;
  let result: SendResult;
  // Metrics: lateness runs from when the message was due (or created) to this hand-over, on the
  // program clock; the call itself is timed on the real one.
  const handedAt = clock.now();
  const byKind = { channel: m.channel, kind: m.kind };
  const dueAt = m.dueAt ?? m.createdAt;
  metrics.observe(
    'steady_send_lateness_seconds',
    Math.max(0, handedAt.getTime() - dueAt.getTime()) / 1000,
    byKind,
  );
  const callStart = performance.now();
  try {
    result = await sender.send(outgoing as never);
  } catch (err) {
    const code = err instanceof SendError ? err.code : 'provider_down';
    const providerCode = err instanceof SendError ? String(err.providerCode ?? '') : '';
    metrics.observe('steady_provider_call_seconds', (performance.now() - callStart) / 1000, {
      channel: m.channel,
      outcome: 'error',
    });
    metrics.inc('steady_provider_errors_total', {
      channel: m.channel,
      code,
      provider_code: providerCode.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 24),
    });
    return settleFailedSend(deps, m, m.subscriber?.id ?? null, to, err, opts.finalAttempt);
  }
  metrics.observe('steady_provider_call_seconds', (performance.now() - callStart) / 1000, {
    channel: m.channel,
    outcome: 'ok',
  });
  // The provider has the message. Only the provider call sits inside the try above: a database
  // error from here on (a dropped connection) must never put the message back in the queue, or it
  // goes out twice. The writes are retried briefly; if they still fail the row stays `sending` and
  // the sweep settles it (unknown, or resent for safety messages).
  // One statement records it sent and, for a check-in, opens the check-in.
  const sentAt = clock.now();
  const record: SentRecord = {
    id: m.id,
    providerId: result.providerId,
    sentAt,
    body: 'body' in outgoing ? outgoing.body : outgoing.text,
    subject: 'subject' in outgoing ? outgoing.subject : null,
    toAddr: outgoing.to,
    checkin:
      m.kind === 'checkin' && m.enrollmentId && m.step
        ? checkinWindow(deps, program, m.step, sentAt)
        : undefined,
  };
  await withDbRetry(() => deliveryStore(db).recordSent(record));
  metrics.inc('steady_messages_sent_total', byKind);
  countSend(m, 'sent');
  log.info({ messageId: m.id, channel: m.channel, kind: m.kind, recipient: to }, 'sent');
  if (m.kind === 'safety') await observeSafetyLatency(db, m, handedAt);
  return 'sent';
}

/** steady_sends_total: what became of one send attempt. */
function countSend(m: Pick<Loaded, 'channel' | 'kind'>, outcome: string): void {
  metrics.inc('steady_sends_total', { channel: m.channel, kind: m.kind, outcome });
}

/**
 * steady_safety_latency_seconds: from the inbound message that disclosed danger being recorded (the
 * webhook or the SMTP listener) to its safety message being handed to the provider. The answer's
 * dedupe key names the inbound message (`re-<id>-<template>`, apply-actions.ts); a safety message
 * an operator's review sent later has none and is not measured. Never fails the send.
 */
async function observeSafetyLatency(db: Db, m: Loaded, handedAt: Date): Promise<void> {
  try {
    const rows = await db.$queryRaw<{ at: Date }[]>`
      SELECT i."createdAt" AS at FROM messages o
      JOIN messages i ON i.id = CASE WHEN o."dedupeKey" ~ '^re-[0-9a-f-]{36}-'
                                     THEN substring(o."dedupeKey" from 4 for 36)::uuid END
      WHERE o.id = ${m.id}::uuid AND i.direction = 'in'`;
    const at = rows[0]?.at;
    if (at)
      metrics.observe(
        'steady_safety_latency_seconds',
        Math.max(0, handedAt.getTime() - at.getTime()) / 1000,
        { channel: m.channel },
      );
  } catch {
    /* a metric is never worth a failed send */
  }
}

// Network errors that prove the request never reached the provider (no connection was made).
// Any other network error (a reset or a timeout after the request went out) leaves us not knowing
// whether the provider took the message.
const NOT_SENT_ERRNOS = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
  'ECONNECTION',
  'EDNS',
  'EPROXY',
]);

async function settleFailedSend(
  deps: Pick<Deps, 'db' | 'clock' | 'log' | 'sms'>,
  m: Loaded,
  /** Null for an answer to a stranger: no one to record an opt-out for. */
  subscriberId: string | null,
  to: string,
  err: unknown,
  finalAttempt: boolean,
): Promise<DeliverOutcome> {
  const { db, clock, log } = deps;
  // Adapters turn their provider's errors into SendError; anything else (e.g. the outbox's own
  // database write failing) happened before the message was handed over, and may be retried.
  const e =
    err instanceof SendError
      ? err
      : new SendError('provider_down', { retryable: true, message: String(err) });
  if (e.code === 'opted_out') {
    await withDbRetry(() =>
      db.$transaction(async (tx) => {
        // With its message.failed webhook event (src/webhooks/).
        await markFailed(tx, m.id, 'opted_out', clock.now());
        if (subscriberId !== null)
          await recordOptOut(
            tx,
            subscriberId,
            m.channel,
            { source: 'carrier', providerCode: e.providerCode ?? null },
            clock.now(),
          );
      }),
    );
    log.warn(
      { messageId: m.id, to },
      subscriberId !== null
        ? 'recipient opted out at the carrier; subscriber stopped'
        : 'a number we do not know opted out at the carrier; nothing sent',
    );
    countSend(m, 'opted_out');
    return 'failed';
  }
  // At most once: a program message that may have reached the provider is never sent again. It
  // is marked `unknown`, and the provider's status callback settles it if it did go out.
  const ambiguous = e.code === 'network' && !NOT_SENT_ERRNOS.has(String(e.providerCode ?? ''));
  if (ambiguous && m.channel === 'sms' && deps.sms.recentTo) {
    // The provider can be asked: the row stays `sending`, and the sweep settles it from the
    // provider's own record (sent, or sent now if it never arrived). See reconcile.ts.
    log.warn(
      { messageId: m.id, code: e.code, providerCode: e.providerCode, to },
      'send outcome unknown; the sweep will ask the provider',
    );
    countSend(m, 'unknown');
    return 'failed';
  }
  if (ambiguous && !AT_LEAST_ONCE_TEMPLATES.has(m.template ?? '')) {
    await withDbRetry(() =>
      db.message.updateMany({
        where: { id: m.id, status: { in: below('unknown') } },
        data: { status: 'unknown', error: `network:${e.providerCode ?? '?'}` },
      }),
    );
    log.warn(
      { messageId: m.id, code: e.code, providerCode: e.providerCode, to },
      'send outcome unknown (not resent)',
    );
    countSend(m, 'unknown');
    return 'failed';
  }
  if (e.retryable && !finalAttempt) {
    // The provider did not take it (or this message must arrive at least once): try again later.
    await withDbRetry(() =>
      db.message.updateMany({
        where: { id: m.id, status: RETRY_FROM },
        data: { status: 'queued', error: e.code },
      }),
    );
    log.warn(
      { messageId: m.id, code: e.code, providerCode: e.providerCode },
      'send failed, will retry',
    );
    countSend(m, 'retry');
    throw new RetryLater(e.code);
  }
  // With its message.failed webhook event (src/webhooks/), in one transaction.
  await withDbRetry(() => db.$transaction((tx) => markFailed(tx, m.id, e.code, clock.now())));
  metrics.inc('steady_send_failures_total', { channel: m.channel, code: e.code });
  countSend(m, 'failed');
  log.warn(
    { messageId: m.id, code: e.code, providerCode: e.providerCode, to },
    'send failed permanently',
  );
  return 'failed';
}

/** Retries a write a few times (about 3 s in all): a dropped database connection is replaced by
 * the pool, and these writes are idempotent. */
async function withDbRetry<T>(fn: () => Promise<T>, attempts = 5): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i >= attempts) throw err;
      await new Promise((r) => setTimeout(r, 100 * 2 ** i));
    }
  }
}

/** Sending a check-in opens it: replies within the window answer it; one reminder if none comes. */
export function checkinWindow(
  deps: Pick<Deps, 'config'>,
  program: Program,
  stepKey: string,
  now: Date,
): NonNullable<SentRecord['checkin']> {
  const hours = 3600_000;
  return {
    week: findStep(program, stepKey)?.week ?? 0,
    openedAt: now,
    closesAt: new Date(now.getTime() + deps.config.checkinWindowHours * hours),
    reminderDueAt: new Date(now.getTime() + deps.config.checkinReminderHours * hours),
  };
}
