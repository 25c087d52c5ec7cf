// An operator's one-off message to one person, from the console's subscriber page or the admin
// API. It is an ordinary outbound message row (kind `system`, template `operator`, the text in its
// vars and body) on the priority lane, so it goes through the same send worker and the same
// consent re-check as everything else: a person who stops or is erased before it goes gets
// nothing. Refused here, before any row is written: a stopped, expired, not yet confirmed or
// erased person, a channel they are not enrolled on (or whose address bounced), an empty text, an
// SMS over OPERATOR_SMS_MAX_SEGMENTS, a first line with a lock-screen word.
//
// Quiet hours: a message written in the person's quiet hours waits until they end (its row's
// dueAt, the job delayed until then), unless it answers the person's own message of the last hour.
// The row, the audit event (with the operator's id; never the text) and the job are written like
// every other send: rows in one transaction, the job after it commits (the sweep re-queues it if
// that enqueue is lost).
import type { Channel } from '../db/client.ts';
import type { Deps } from '../deps.ts';
import { LOCK_SCREEN_WORDS } from '../content/keys.ts';
import {
  checkOperatorText,
  OPERATOR_TEMPLATE,
  operatorSendTiming,
  type SendTiming,
  type TextCheck,
} from '../core/operator-message.ts';
import { isValidTimezone } from '../core/schedule.ts';
import { metrics } from '../metrics.ts';
import { createOutbound, enqueueSends } from './outbound.ts';

export class OperatorMessageError extends Error {
  constructor(
    public readonly status: number,
    public readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface OperatorMessageInput {
  channel: Channel;
  text: string;
  /** Who sends it: the console session's actor or the API token's. */
  actor: string;
  /** The starting text picked (operator.yaml key), for the audit event; none for free text. */
  startedFrom?: string;
  /** Stops one form post or API call sending twice (a double click, a client's retry). */
  idempotencyKey?: string;
}

export interface OperatorMessageResult {
  messageId: string;
  /** False when the idempotency key had already sent it: nothing new was written. */
  created: boolean;
  timing: SendTiming;
  segments: number | null;
}

type Who = {
  id: string;
  status: string;
  phone: string | null;
  email: string | null;
  timezone: string;
  undeliverableAt: Date | null;
  enrollments: { channel: Channel; state: string }[];
};

/** The channels this person may be written to on: enrolled (not stopped) with a contact kept. */
export function operatorChannels(sub: Who): Channel[] {
  const out: Channel[] = [];
  for (const e of sub.enrollments) {
    if (e.state === 'stopped' || out.includes(e.channel)) continue;
    if (e.channel === 'sms' && sub.phone) out.push('sms');
    if (e.channel === 'email' && sub.email && !sub.undeliverableAt) out.push('email');
  }
  return out;
}

/** Why nobody may write to this person now (a code and a sentence), or null. */
export function operatorRefusal(sub: Who | null): OperatorMessageError | null {
  if (!sub)
    return new OperatorMessageError(404, 'not_found', 'No subscriber with that id (erased?).');
  if (sub.status === 'stopped')
    return new OperatorMessageError(
      409,
      'stopped',
      'This person has opted out: nothing may be sent to them.',
    );
  if (sub.status === 'expired' || sub.status === 'pending')
    return new OperatorMessageError(
      409,
      'not_confirmed',
      'This person has not confirmed they want messages: nothing may be sent until they do.',
    );
  if (operatorChannels(sub).length === 0)
    return new OperatorMessageError(
      409,
      'no_channel',
      'This person has no channel we may write on (not enrolled, or their address bounced).',
    );
  return null;
}

/** The text as it would go, its size, and what is wrong with it (for the page's live count). */
export function previewOperatorText(channel: Channel, text: string): TextCheck {
  return checkOperatorText(channel, text, LOCK_SCREEN_WORDS);
}

const IDEMPOTENCY_KEY = /^[A-Za-z0-9_-]{8,64}$/;

export async function sendOperatorMessage(
  deps: Pick<Deps, 'db' | 'queues' | 'clock' | 'config' | 'log'>,
  subscriberId: string,
  input: OperatorMessageInput,
): Promise<OperatorMessageResult> {
  const refuse = (err: OperatorMessageError): never => {
    metrics.inc('steady_operator_messages_total', { channel: input.channel, outcome: 'refused' });
    throw err;
  };
  if (input.idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(input.idempotencyKey))
    refuse(
      new OperatorMessageError(
        400,
        'bad_idempotency_key',
        'The idempotency key must be 8-64 letters, digits, - or _.',
      ),
    );
  const check = previewOperatorText(input.channel, input.text);
  if (check.problem)
    refuse(new OperatorMessageError(400, check.problem.code, check.problem.message));
  const now = deps.clock.now();
  const dedupeKey = input.idempotencyKey ? `op-${subscriberId}-${input.idempotencyKey}` : undefined;

  const result = await deps.db.$transaction(async (tx) => {
    const sub = /^[0-9a-f-]{36}$/.test(subscriberId)
      ? await tx.subscriber.findUnique({
          where: { id: subscriberId },
          select: {
            id: true,
            status: true,
            phone: true,
            email: true,
            timezone: true,
            undeliverableAt: true,
            enrollments: { select: { id: true, channel: true, state: true } },
          },
        })
      : null;
    const refusal = operatorRefusal(sub);
    if (refusal || !sub) return refuse(refusal!);
    if (!operatorChannels(sub).includes(input.channel))
      return refuse(
        new OperatorMessageError(
          409,
          'channel_not_enrolled',
          `This person cannot be written to by ${input.channel === 'sms' ? 'SMS' : 'email'}: choose one of their channels.`,
        ),
      );
    const lastIn = await tx.message.findFirst({
      where: { subscriberId: sub.id, direction: 'in' },
      orderBy: { createdAt: 'desc' },
      select: { createdAt: true },
    });
    const zone = isValidTimezone(sub.timezone) ? sub.timezone : deps.config.defaultTimezone;
    const timing = operatorSendTiming(
      now,
      zone,
      deps.config.quietHours,
      lastIn?.createdAt ?? null,
      deps.config.defaultTimezone,
    );
    const enrollment = sub.enrollments.find((e) => e.channel === input.channel);
    const send = await createOutbound(
      tx,
      {
        subscriberId: sub.id,
        enrollmentId: enrollment?.id ?? null,
        channel: input.channel,
        kind: 'system',
        template: OPERATOR_TEMPLATE,
        vars: { operatorText: check.text },
        lane: 'priority',
        dueAt: timing.kind === 'held' ? timing.until : undefined,
        dedupeKey,
      },
      now,
    );
    if (!send) {
      const existing = await tx.message.findUnique({
        where: { dedupeKey: dedupeKey! },
        select: { id: true },
      });
      return { send: null, messageId: existing?.id ?? '', timing };
    }
    // The text shows in the timeline (and the API) from now on, not only once it is sent.
    await tx.message.update({ where: { id: send.messageId }, data: { body: check.text } });
    await tx.auditEvent.create({
      data: {
        actor: input.actor,
        action: 'message.send',
        target: sub.id,
        detail: {
          subscriberId: sub.id,
          messageId: send.messageId,
          channel: input.channel,
          startedFrom: input.startedFrom ?? null,
          segments: check.size?.segments ?? null,
          heldUntil: timing.kind === 'held' ? timing.until.toISOString() : null,
        },
      },
    });
    return { send, messageId: send.messageId, timing };
  });

  if (result.send) {
    await enqueueSends(deps.queues, [result.send], now);
    metrics.inc('steady_operator_messages_total', {
      channel: input.channel,
      outcome: result.timing.kind === 'held' ? 'held' : 'queued',
    });
    deps.log.info(
      {
        actor: input.actor,
        subscriberId,
        messageId: result.messageId,
        channel: input.channel,
        timing: result.timing.kind,
      },
      'operator message queued',
    );
  }
  return {
    messageId: result.messageId,
    created: Boolean(result.send),
    timing: result.timing,
    segments: check.size?.segments ?? null,
  };
}
