// Inbound messages, from the Twilio webhook, the inbound SMTP listener, the email webhook and the
// local phone. Recording is quick (the webhook answers at once); reading and acting on the text
// happen on the `inbound` queue, which never waits behind nudges.
import type { Channel } from '../db/client.ts';
import type { ProgramRegistry } from '../content/programs.ts';
import type { Deps } from '../deps.ts';
import { INBOUND_JOB_OPTIONS, inboundJobId } from '../queues.ts';
import { decryptText, encryptText } from '../security/crypto.ts';
import { readReply } from '../core/classify.ts';
import { decideReply, HELP_LIMITS, type ReplyContext } from '../core/decide.ts';
import { applyActions, type ApplyResult } from './apply-actions.ts';
import { withSecondReader } from './second-reader.ts';
import type { SafetyCategory } from '../content/types.ts';
import type { SenderAuth } from '../email/auth-results.ts';
import { metrics } from '../metrics.ts';

export interface InboundInput {
  channel: Channel;
  /** E.164 phone or lower-cased email address. */
  from: string;
  to?: string;
  text: string;
  /** Provider id (Twilio MessageSid, email Message-ID): a replay is recorded once. */
  providerId: string;
  /** When set, the subscriber is already known (a verified reply address). */
  subscriberId?: string;
  /** Email: what the receiving relay found of the sender (src/email/auth-results.ts). */
  senderAuth?: SenderAuth;
}

export async function recordInbound(
  deps: Pick<Deps, 'db' | 'queues' | 'config' | 'clock'>,
  input: InboundInput,
): Promise<{ messageId: string; duplicate: boolean }> {
  const { db, config } = deps;
  const subscriber = input.subscriberId
    ? { id: input.subscriberId }
    : await db.subscriber.findFirst({
        where: input.channel === 'sms' ? { phone: input.from } : { email: input.from },
        select: { id: true },
      });
  const dedupeKey = `in-${input.channel}-${input.providerId}`;
  const rows = await db.message.createManyAndReturn({
    data: [
      {
        subscriberId: subscriber?.id ?? null,
        channel: input.channel,
        direction: 'in',
        kind: 'reply',
        status: 'received',
        providerId: input.providerId,
        dedupeKey,
        // The sender is needed to answer an unknown number; the text only ever encrypted.
        fromAddr: input.from,
        toAddr: input.to ?? null,
        senderAuth: input.senderAuth ?? null,
        bodyEnc: encryptText(config.encryptionKeys, input.text),
        createdAt: deps.clock.now(),
      },
    ],
    skipDuplicates: true,
    select: { id: true },
  });
  const row = rows[0];
  if (!row) {
    const existing = await db.message.findUniqueOrThrow({
      where: { dedupeKey },
      select: { id: true, processedAt: true },
    });
    // A replay of a message not read yet: the first attempt may have written the row and then
    // failed to queue it (Redis down), so queue it now. The jobId makes this a no-op otherwise.
    if (!existing.processedAt) await queueInbound(deps, existing.id);
    return { messageId: existing.id, duplicate: true };
  }
  await queueInbound(deps, row.id);
  return { messageId: row.id, duplicate: false };
}

function queueInbound(deps: Pick<Deps, 'queues'>, messageId: string) {
  return deps.queues.inbound.add(
    'inbound',
    { messageId },
    { ...INBOUND_JOB_OPTIONS, jobId: inboundJobId(messageId) },
  );
}

const DAY = 24 * 3600 * 1000;

/** The stored verdict as decide.ts reads it: SMS, and rows from before it was kept, are 'none'. */
function senderVerified(stored: string | null): SenderAuth {
  return stored === 'pass' || stored === 'fail' ? stored : 'none';
}

/** Reads one recorded inbound message and acts on it. Idempotent: a processed message is skipped. */
export async function handleInbound(deps: Deps, messageId: string): Promise<ApplyResult | null> {
  const { db, clock, config } = deps;
  const m = await db.message.findUnique({ where: { id: messageId } });
  if (!m || m.direction !== 'in' || m.processedAt || !m.bodyEnc) return null;
  const text = decryptText(config.encryptionKeys, m.bodyEnc);
  const reading = await withSecondReader(
    deps,
    readReply(text, {
      channel: m.channel,
      keywords: deps.content.keywords,
      programWords: deps.programs.words(),
      safety: deps.safety,
      explain: true,
    }),
    text,
    m.channel,
  );
  const now = clock.now();
  const since = new Date(now.getTime() - DAY);

  const sub = m.subscriberId
    ? await db.subscriber.findUnique({
        where: { id: m.subscriberId },
        include: { enrollments: { orderBy: { createdAt: 'desc' } } },
      })
    : null;
  // The program a JOIN (or a stranger's START) is for: its own keyword's, else the default one.
  const joinProgram =
    reading.intent === 'join' || reading.intent === 'start'
      ? (deps.programs.get(reading.program ?? '') ?? deps.programs.default)
      : null;
  const openCheckins = sub
    ? await db.checkin.findMany({
        where: {
          enrollmentId: { in: sub.enrollments.map((e) => e.id) },
          answeredAt: null,
          openedAt: { lte: now },
          closesAt: { gt: now },
        },
        orderBy: { openedAt: 'desc' },
        select: { id: true, enrollmentId: true },
      })
    : [];
  const enrollment = sub
    ? replyEnrollment(deps.programs, sub.enrollments, m.channel, {
        joinProgram: reading.intent === 'join' ? joinProgram?.key : undefined,
        openCheckin: openCheckins[0]?.enrollmentId,
      })
    : null;
  const program = deps.programs.of(enrollment?.program ?? joinProgram?.key);
  const checkin = openCheckins.find((c) => c.enrollmentId === enrollment?.id) ?? null;
  // Messages sent to this person: a stranger's by their number, so the check-in, the safety
  // messages and how to join go out at most once a day to a number that never joined too.
  const sentToThem = sub ? { subscriberId: sub.id } : { toAddr: m.fromAddr };
  const [recentSafety, recentSystem, lowStepSent, recentAsks] = await Promise.all([
    db.message.findMany({
      where: {
        kind: 'safety',
        direction: 'out',
        createdAt: { gte: since },
        ...sentToThem,
      },
      select: { template: true },
    }),
    db.message.findMany({
      where: {
        direction: 'out',
        template: { in: ['how_to_join', 'optin_confirm', 'optout_clarify', 'help'] },
        createdAt: { gte: since },
        ...sentToThem,
      },
      select: { template: true, createdAt: true },
    }),
    enrollment && program.lowRatingStep
      ? db.message.count({
          where: { enrollmentId: enrollment.id, step: program.lowRatingStep },
        })
      : 0,
    sub
      ? db.safetyFlag.findMany({
          where: {
            subscriberId: sub.id,
            band: 'ask',
            createdAt: { gte: new Date(now.getTime() - 14 * DAY) },
          },
          select: { category: true },
        })
      : [],
  ]);
  const ctx: ReplyContext = {
    subscriber: sub ? { status: sub.status } : null,
    enrollment: enrollment
      ? {
          state: enrollment.state,
          lowRatingRun: enrollment.lowRatingRun,
          lowRatingStepSent: lowStepSent > 0 || enrollment.extraSteps.length > 0,
        }
      : null,
    openCheckin: checkin ? { id: checkin.id } : null,
    joinsNewProgram:
      reading.intent === 'join' &&
      joinProgram !== null &&
      sub !== null &&
      !sub.enrollments.some((e) => e.program === joinProgram.key),
    waitingEnrollment:
      sub?.enrollments.some(
        (e) => e.channel === m.channel && e.state === 'pending' && deps.programs.get(e.program),
      ) ?? false,
    locales: Object.keys(program.locales),
    locale: sub?.locale ?? program.defaultLocale,
    safetySentRecently: recentSafety
      .map((r) => (r.template ?? '').replace('safety_', ''))
      .filter((c): c is SafetyCategory => c === 'abuse' || c === 'self_harm'),
    safetyCheckSentRecently: recentSafety.some((r) => r.template === 'safety_check'),
    recentConcern: [...new Set(recentAsks.map((f) => f.category))],
    howToJoinSentRecently: recentSystem.some((r) => r.template === 'how_to_join'),
    optinSentRecently: recentSystem.some((r) => r.template === 'optin_confirm'),
    clarifySentRecently: recentSystem.some((r) => r.template === 'optout_clarify'),
    senderVerified: senderVerified(m.senderAuth),
    ...helpCounts(recentSystem, now),
  };
  const actions = decideReply(ctx, reading);
  const result = await applyActions(deps, {
    message: m,
    subscriber: sub,
    enrollment,
    program,
    reading,
    actions,
    now,
    keywordText: text,
  });
  const helpLimited =
    reading.intent === 'help' &&
    !actions.some((a) => a.kind === 'send' && a.template === 'help') &&
    (ctx.helpSentLastHour! >= HELP_LIMITS.perHour || ctx.helpSentLastDay! >= HELP_LIMITS.perDay);
  if (result && helpLimited) metrics.inc('steady_replies_limited_total', { template: 'help' });
  return result;
}

const STATE_ORDER = ['active', 'safety_hold', 'paused', 'pending', 'completed', 'stopped'];

/**
 * Which of a person's enrollments a reply is about. A JOIN: the enrollment in the program it
 * names (none yet: null). Otherwise the one with an open check-in (a rating answers it), else the
 * one running (active, held, paused), else the newest; only enrollments on the reply's channel.
 * `enrollments` come newest first.
 */
export function replyEnrollment<
  E extends { id: string; program: string; channel: string; state: string },
>(
  programs: ProgramRegistry,
  enrollments: readonly E[],
  channel: string,
  opts: { joinProgram?: string; openCheckin?: string },
): E | null {
  const mine = enrollments.filter((e) => e.channel === channel);
  if (opts.joinProgram !== undefined)
    return mine.find((e) => e.program === opts.joinProgram) ?? null;
  const withCheckin = mine.find((e) => e.id === opts.openCheckin);
  if (withCheckin) return withCheckin;
  const rank = (e: E) =>
    (programs.get(e.program) ? 0 : STATE_ORDER.length) + STATE_ORDER.indexOf(e.state);
  return [...mine].sort((a, b) => rank(a) - rank(b))[0] ?? null;
}

/** HELP answers in the last hour and day, for decide's per-number limit (HELP_LIMITS). */
function helpCounts(rows: { template: string | null; createdAt: Date }[], now: Date) {
  const help = rows.filter((r) => r.template === 'help');
  const hourAgo = now.getTime() - 3600_000;
  return {
    helpSentLastHour: help.filter((r) => r.createdAt.getTime() >= hourAgo).length,
    helpSentLastDay: help.length,
  };
}
