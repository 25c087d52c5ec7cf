// Carries out the actions decided for one inbound message, in one transaction: rows and message
// rows together, then the send jobs once it has committed. The inbound message is marked processed
// in the same transaction, so a retried job never applies the same reply twice.
import type { Enrollment, Message, Prisma, Subscriber } from '../db/client.ts';
import type { Deps } from '../deps.ts';
import type { Reading } from '../core/classify.ts';
import type { Action } from '../core/decide.ts';
import type { Program } from '../content/types.ts';
import { localDay, plannedAt } from '../core/schedule.ts';
import { findStep } from '../core/program.ts';
import { timezoneForNumber } from '../core/phone.ts';
import { maskEmail, maskPhone } from '../channels/mask.ts';
import { recordConsent, recordOptOut } from './consent.ts';
import { capLabel, pendingCapFor, pendingCapReached, startEnrollment } from './enroll.ts';
import { createOutbound, enqueueSends, type QueuedSend } from './outbound.ts';
import { notifyOperators } from './notify.ts';
import { isSuppressed } from './erase.ts';
import { metrics } from '../metrics.ts';
import { encryptText } from '../security/crypto.ts';
import { emitEvent } from '../webhooks/events.ts';
import { subscriberEvent } from '../webhooks/payloads.ts';

type Tx = Prisma.TransactionClient;

/** How long an opt-out confirmation waits behind the safety message sent for the same reply. */
const SAFETY_FIRST_MS = 3000;

export interface ApplyInput {
  message: Message;
  subscriber: Subscriber | null;
  enrollment: Enrollment | null;
  /** The reply's program: the enrollment's, or for a JOIN the program it names. */
  program: Program;
  reading: Reading;
  actions: Action[];
  now: Date;
  /** The message text, used only as consent evidence when the whole message is a keyword. */
  keywordText?: string;
}

export interface ApplyResult {
  actions: Action['kind'][];
  sends: number;
  flagged: string[];
}

export async function applyActions(deps: Deps, input: ApplyInput): Promise<ApplyResult | null> {
  const { db, config, log } = deps;
  const { message: m, reading, actions, now, program } = input;
  const channel = m.channel;
  const answersSafety = actions.some((a) => a.kind === 'send' && a.message === 'safety');
  // Disclosures from an unverified sender that operators are told of (nothing was sent).
  const unverified: string[] = [];
  // Counted only once the transaction commits: a rolled-back try (a lock wait that timed out, a
  // retried job) must not count the same JOIN twice.
  let capHit = false;
  const result = await db.$transaction(async (tx) => {
    capHit = false;
    const taken = await tx.message.updateMany({
      where: { id: m.id, processedAt: null },
      data: { processedAt: now },
    });
    if (taken.count === 0) return null; // another worker already applied it
    // Webhook events (src/webhooks/events.ts), in this transaction. A reply tells its intent only,
    // never its words; an unknown sender has no subscriber to report it for (JOIN: below).
    const replyReceived = (s: Subscriber, e: Enrollment | null) =>
      emitEvent(
        tx,
        subscriberEvent('reply.received', s, e, now, {
          messageId: m.id,
          intent: reading.intent,
        }),
      );
    if (input.subscriber) await replyReceived(input.subscriber, input.enrollment);
    const flagEvents: { category: string; band: string }[] = [];
    let sub = input.subscriber;
    let enrollment = input.enrollment;
    const sends: QueuedSend[] = [];
    const flagged: string[] = [];
    const asked: string[] = [];
    // Consent evidence: what the person sent and when. For a keyword the whole message is the
    // keyword, so it is kept; free text never is (it may be sensitive).
    const isKeyword = [
      'stop',
      'start',
      'yes',
      'join',
      'pause',
      'resume',
      'help',
      'language',
    ].includes(reading.intent);
    const evidence = {
      at: now.toISOString(),
      ...(isKeyword && input.keywordText ? { text: input.keywordText.trim().slice(0, 40) } : {}),
      source: channel === 'sms' ? 'sms_keyword' : 'email_reply',
      providerId: m.providerId,
      messageId: m.id,
      intent: reading.intent,
    };

    for (const a of actions) {
      switch (a.kind) {
        case 'join': {
          if (sub) {
            // Someone we know joins another program: once per program, whatever the channel.
            const inIt = await tx.enrollment.findFirst({
              where: { subscriberId: sub.id, program: program.key },
              select: { id: true },
            });
            if (inIt) break;
            enrollment = await tx.enrollment.create({
              data: { subscriberId: sub.id, program: program.key, channel, state: 'pending' },
            });
            // Already with us: their keyword is the request, and the number has consented.
            if (sub.status === 'active')
              sends.push(
                ...(await startEnrollment(tx, deps, sub.id, evidence, now, channel, program.key)),
              );
            break;
          }
          // An erased contact is never messaged again, even if the number texts JOIN.
          if (m.fromAddr && (await isSuppressed({ db: tx, config }, m.fromAddr)))
            return { actions: [], sends: [], flagged, asked };
          // The channel's own hourly cap on new pending people (SMS: PENDING_CAP_PER_HOUR, the
          // pumping guard; web sign-ups never count here). Counted under the channel's lock, so
          // concurrent JOINs never overshoot it. Anything already answered (safety) still goes.
          if (await pendingCapReached(tx, config, channel, now)) {
            capHit = true;
            log.warn(
              { cap: pendingCapFor(config, channel), channel },
              'new-contact cap reached: JOIN ignored (possible SMS pumping)',
            );
            return { actions: [], sends, flagged, asked };
          }
          // Two JOINs from one number at once: the first created the person (and sent the
          // opt-in); this one only joins its message to them.
          const twin =
            m.fromAddr &&
            (await tx.subscriber.findFirst({
              where: channel === 'sms' ? { phone: m.fromAddr } : { email: m.fromAddr },
              select: { id: true },
            }));
          if (twin) {
            await tx.message.update({ where: { id: m.id }, data: { subscriberId: twin.id } });
            return { actions: [], sends, flagged, asked };
          }
          sub = await tx.subscriber.create({
            data: {
              phone: channel === 'sms' ? m.fromAddr : null,
              email: channel === 'email' ? m.fromAddr : null,
              timezone:
                (channel === 'sms' && m.fromAddr && timezoneForNumber(m.fromAddr)) ||
                config.defaultTimezone,
              country: config.defaultCountry,
              // The language of the word they joined with (UNETE: es), else the program's own.
              locale: reading.locale ?? program.defaultLocale,
              status: 'pending',
              createdAt: now,
            },
          });
          enrollment = await tx.enrollment.create({
            data: { subscriberId: sub.id, program: program.key, channel, state: 'pending' },
          });
          await tx.message.update({ where: { id: m.id }, data: { subscriberId: sub.id } });
          await recordConsent(tx, sub.id, channel, 'opt_in', evidence, now);
          await emitEvent(tx, subscriberEvent('subscriber.enrolled', sub, enrollment, now));
          await replyReceived(sub, enrollment);
          break;
        }
        case 'rejoin':
          // Stopped (or never confirmed), and texted JOIN: pending again, from now (the opt_in
          // event restarts the 48-hour expiry). Only their own YES to the opt-in text that goes
          // with this brings the program back (decide.ts), as after a first JOIN.
          if (sub && (sub.status === 'stopped' || sub.status === 'expired')) {
            sub = await tx.subscriber.update({
              where: { id: sub.id },
              data: { status: 'pending' },
            });
            await recordConsent(tx, sub.id, channel, 'opt_in', evidence, now);
          }
          break;
        case 'optOutQuery':
          if (sub)
            await tx.optOutQuery.createMany({
              data: [
                {
                  subscriberId: sub.id,
                  messageId: m.id,
                  channel,
                  rule: a.rule,
                  createdAt: now,
                },
              ],
              skipDuplicates: true,
            });
          break;
        case 'confirm':
          if (sub) sends.push(...(await startEnrollment(tx, deps, sub.id, evidence, now, channel)));
          break;
        case 'optOut':
          if (sub) await recordOptOut(tx, sub.id, channel, evidence, now);
          break;
        case 'pause':
          if (enrollment) {
            const pause = {
              state: 'paused' as const,
              pausedUntil: a.days ? new Date(now.getTime() + a.days * 86400_000) : null,
            };
            await tx.enrollment.update({ where: { id: enrollment.id }, data: pause });
            // PAUSE pauses every program running on this channel, not only one of them.
            await tx.enrollment.updateMany({
              where: { subscriberId: enrollment.subscriberId, channel, state: 'active' },
              data: pause,
            });
            if (sub)
              await recordConsent(tx, sub.id, channel, 'pause', { ...evidence, days: a.days }, now);
          }
          break;
        case 'resume':
          if (enrollment && sub) {
            await resumeEnrollment(tx, enrollment.id, sub.timezone, now);
            const others = await tx.enrollment.findMany({
              where: {
                subscriberId: sub.id,
                channel,
                id: { not: enrollment.id },
                state: { in: ['paused', 'safety_hold'] },
              },
              select: { id: true },
            });
            for (const other of others) await resumeEnrollment(tx, other.id, sub.timezone, now);
            await recordConsent(tx, sub.id, channel, 'resume', evidence, now);
          }
          break;
        case 'settings':
          if (sub) {
            sub = await tx.subscriber.update({
              where: { id: sub.id },
              data: {
                ...(a.timezone ? { timezone: a.timezone } : {}),
                ...(a.hour !== undefined ? { preferredHour: a.hour } : {}),
              },
            });
            if (enrollment) await replanNextStep(tx, deps, enrollment.id, sub, now);
          }
          break;
        case 'setLocale':
          if (sub)
            sub = await tx.subscriber.update({
              where: { id: sub.id },
              data: { locale: a.locale },
            });
          break;
        case 'answerCheckin': {
          const answered = await tx.checkin.updateManyAndReturn({
            where: { id: a.checkinId, answeredAt: null },
            data: { answeredAt: now, rating: a.rating, replyMessageId: m.id },
            select: { id: true, step: true },
          });
          if (sub && answered[0])
            await emitEvent(
              tx,
              subscriberEvent('checkin.answered', sub, enrollment, now, {
                checkinId: answered[0].id,
                step: answered[0].step,
                rating: a.rating,
              }),
            );
          break;
        }
        case 'lowRating':
          if (enrollment)
            await tx.enrollment.update({
              where: { id: enrollment.id },
              data: { lowRatingRun: a.run },
            });
          break;
        case 'addEarlyStep':
          if (
            enrollment &&
            program.lowRatingStep &&
            !enrollment.extraSteps.includes(program.lowRatingStep)
          ) {
            // Sent at the next allowed window (the scheduler keeps one program message a day).
            await tx.$executeRaw`UPDATE enrollments SET "extraSteps" = array_append("extraSteps", ${program.lowRatingStep}),
              "nextRunAt" = LEAST(COALESCE("nextRunAt", ${now}), ${now}) WHERE id = ${enrollment.id}::uuid AND state = 'active'`;
          }
          break;
        case 'flag':
          if (sub) {
            await tx.safetyFlag.create({
              data: {
                subscriberId: sub.id,
                enrollmentId: enrollment?.id ?? null,
                messageId: m.id,
                category: a.category,
                band: a.band,
                matched: a.matched,
                risk: a.risk,
                // "why" may quote the person's words: encrypted like the reply itself.
                whyEnc: a.why.length
                  ? encryptText(config.encryptionKeys, JSON.stringify(a.why))
                  : null,
                createdAt: now,
              },
            });
          }
          if (sub) flagEvents.push({ category: a.category, band: a.band });
          // An unverified sender's disclosure: nothing was sent; operators are told of a grave one.
          if (a.unverified) {
            if (a.unverified === 'alert') unverified.push(a.category);
          } else if (a.band === 'act') flagged.push(a.category);
          else asked.push(a.category);
          break;
        case 'hold':
          // Advice is held in every program the person is in, not only the one replied to.
          if (enrollment) {
            await tx.enrollment.update({
              where: { id: enrollment.id },
              data: { state: 'safety_hold' },
            });
            await tx.enrollment.updateMany({
              where: { subscriberId: enrollment.subscriberId, state: { in: ['active', 'paused'] } },
              data: { state: 'safety_hold' },
            });
          }
          break;
        case 'send': {
          const s = await createOutbound(
            tx,
            {
              subscriberId: sub?.id ?? null,
              toAddr: sub ? undefined : (m.fromAddr ?? undefined),
              enrollmentId: enrollment?.id ?? null,
              channel,
              kind: a.message,
              template: a.template,
              vars: sendVars(a.vars, sub ? null : reading.locale, enrollment ? null : program.key),
              lane: 'priority',
              // A reply that discloses danger and says stop: the safety message first, then
              // the confirmation a moment later (both on the priority lane, run in parallel).
              ...(a.template === 'stop_confirm' && answersSafety
                ? { dueAt: new Date(now.getTime() + SAFETY_FIRST_MS) }
                : {}),
              // One answer of each kind per inbound message, however often the job is retried.
              dedupeKey: `re-${m.id}-${a.template}`,
            },
            now,
          );
          if (s) sends.push(s);
          break;
        }
      }
    }
    // After every action, so the event tells the enrollment's state as the reply left it.
    if (sub && flagEvents.length) {
      const state = enrollment
        ? (
            await tx.enrollment.findUnique({
              where: { id: enrollment.id },
              select: { state: true },
            })
          )?.state
        : null;
      for (const f of flagEvents)
        await emitEvent(
          tx,
          subscriberEvent('safety.flagged', sub, enrollment, now, {
            messageId: m.id,
            category: f.category,
            band: f.band,
            enrollmentState: state ?? null,
          }),
        );
    }
    return { actions: actions.map((a) => a.kind), sends, flagged, asked };
  });
  if (!result) return null;
  if (capHit) metrics.inc('steady_signup_cap_hits_total', { cap: capLabel(channel) });
  await enqueueSends(deps.queues, result.sends, now);
  metrics.inc('steady_safety_bands_total', { band: reading.band });
  if (result.asked.length) {
    metrics.inc('steady_safety_asks_total', { category: result.asked.join('+') });
    for (const category of result.asked)
      metrics.inc('steady_safety_flags_total', { category, band: 'ask' });
    log.info({ messageId: m.id, categories: result.asked }, 'safety check-in sent (ask)');
  }
  if (result.flagged.length) {
    const contact = m.channel === 'sms' ? maskPhone(m.fromAddr ?? '') : maskEmail(m.fromAddr ?? '');
    for (const category of result.flagged)
      metrics.inc('steady_safety_flags_total', { category, band: 'act' });
    log.warn(
      { messageId: m.id, categories: result.flagged, contact, channel: m.channel },
      'safety disclosure flagged',
    );
    await notifyOperators(deps, {
      categories: result.flagged,
      contact,
      channel: m.channel,
      messageId: m.id,
      at: now,
    }).catch((err) => log.error({ err: String(err) }, 'operator alert failed'));
  }
  if (unverified.length) {
    const contact = m.channel === 'sms' ? maskPhone(m.fromAddr ?? '') : maskEmail(m.fromAddr ?? '');
    log.warn(
      { messageId: m.id, categories: unverified, contact, channel: m.channel },
      'safety disclosure from an unverified sender flagged for review (nothing sent)',
    );
    await notifyOperators(deps, {
      categories: unverified,
      contact,
      channel: m.channel,
      messageId: m.id,
      at: now,
    }).catch((err) => log.error({ err: String(err) }, 'operator alert failed'));
  }
  return { actions: result.actions, sends: result.sends.length, flagged: result.flagged };
}

/** A send's vars, with how to write it when the row cannot tell: the language of a stranger's
 * keyword, and the program of an answer that has no enrollment (flows/compose.ts reads both). */
function sendVars(
  vars: Record<string, string> | undefined,
  locale: string | null | undefined,
  program: string | null,
): Record<string, string> | undefined {
  const hints = {
    ...(locale ? { locale } : {}),
    ...(program ? { program } : {}),
  };
  return Object.keys(hints).length ? { ...hints, ...vars } : vars;
}

/** After a new time zone or send hour, the next step moves to its new local time. */
async function replanNextStep(
  tx: Tx,
  deps: Pick<Deps, 'programs' | 'config'>,
  enrollmentId: string,
  sub: { timezone: string; preferredHour: number | null },
  now: Date,
): Promise<void> {
  const e = await tx.enrollment.findUnique({ where: { id: enrollmentId } });
  const step = e?.nextStep ? findStep(deps.programs.of(e.program), e.nextStep) : undefined;
  if (!e || !step || !e.startedAt || e.state !== 'active') return;
  const at = plannedAt(step, {
    timezone: sub.timezone,
    startDay: localDay(e.startedAt, sub.timezone),
    preferredHour: sub.preferredHour,
    quiet: deps.config.quietHours,
    lastSentDay: e.lastSentDay,
  });
  await tx.enrollment.update({ where: { id: e.id }, data: { nextRunAt: at < now ? now : at } });
}

/** Back to the program after a pause or a safety hold: the next step from tomorrow on. */
export async function resumeEnrollment(
  tx: Tx,
  enrollmentId: string,
  timezone: string,
  now: Date,
): Promise<void> {
  await tx.enrollment.updateMany({
    where: { id: enrollmentId, state: { in: ['paused', 'safety_hold'] } },
    data: {
      state: 'active',
      pausedUntil: null,
      nextRunAt: now,
      lastSentDay: localDay(now, timezone),
    },
  });
}
