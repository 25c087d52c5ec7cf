// Enrolling a person and starting their program. Used by the CLI, the signup form, the SMS JOIN
// keyword and the admin API; the differences are only where the consent evidence comes from.
import type { Channel, Db, Prisma } from '../db/client.ts';
import type { Config } from '../config.ts';
import type { Deps } from '../deps.ts';
import { checkPhone } from '../core/phone.ts';
import { isValidTimezone, localDay } from '../core/schedule.ts';
import { firstRun } from './claim-due.ts';
import { recordConsent, type Evidence } from './consent.ts';
import { createOutbound, enqueueSends, type QueuedSend } from './outbound.ts';
import { signToken } from '../security/tokens.ts';
import { isSuppressed } from './erase.ts';
import { metrics } from '../metrics.ts';
import { emitEvent } from '../webhooks/events.ts';
import { subscriberEvent } from '../webhooks/payloads.ts';

type Tx = Prisma.TransactionClient;

export class EnrollError extends Error {
  constructor(
    public readonly code:
      | 'invalid_phone'
      | 'invalid_email'
      | 'invalid_timezone'
      | 'missing_contact'
      | 'suppressed'
      | 'capped'
      | 'unknown_program'
      | 'unknown_locale'
      | 'already_enrolled',
    message: string,
  ) {
    super(message);
    this.name = 'EnrollError';
  }
}

export interface EnrollInput {
  phone?: string;
  email?: string;
  timezone?: string;
  firstName?: string;
  /** The person's language (a locale folder of the program, e.g. "es"); a new person only gets
   * the program's default language without it. Someone already known keeps theirs unless given. */
  locale?: string;
  /** A live program's key; default: PROGRAM. */
  program?: string;
  /** Confirmed consent (YES, the confirm link, or an operator's --confirm). */
  confirm: boolean;
  evidence: Evidence;
}

export interface EnrollResult {
  subscriberId: string;
  enrollmentId: string;
  channel: Channel;
  state: string;
  created: boolean;
}

// No control characters (NUL would fail in PostgreSQL), no spaces, no address punctuation.
// eslint-disable-next-line no-control-regex
const EMAIL_RE = /^[^\s@<>()[\]\\,;:"\x00-\x1f\x7f]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/;

export function normalizeEmail(raw: string): string | null {
  const e = raw.trim().toLowerCase();
  return e.length <= 254 && EMAIL_RE.test(e) ? e : null;
}

type EnrollDeps = Pick<Deps, 'db' | 'queues' | 'clock' | 'config' | 'programs' | 'log'>;

export async function enroll(deps: EnrollDeps, input: EnrollInput): Promise<EnrollResult> {
  const { config } = deps;
  const program =
    input.program === undefined ? deps.programs.default : deps.programs.get(input.program);
  if (!program)
    throw new EnrollError(
      'unknown_program',
      `"${input.program}" is not a live program (have: ${deps.programs
        .all()
        .map((p) => p.key)
        .join(', ')})`,
    );
  if (input.locale !== undefined && !program.locales[input.locale])
    throw new EnrollError(
      'unknown_locale',
      `program "${program.key}" has no language "${input.locale}" (have: ${Object.keys(program.locales).join(', ')})`,
    );
  let phone: string | undefined;
  let country: string | undefined;
  let zone = input.timezone;
  if (zone !== undefined && !isValidTimezone(zone))
    throw new EnrollError(
      'invalid_timezone',
      `"${zone}" is not a time zone; use an IANA name such as America/Chicago`,
    );
  if (input.phone !== undefined) {
    const p = checkPhone(input.phone, config.allowedCountries, config.defaultCountry);
    if (!p.ok) throw new EnrollError('invalid_phone', `Phone number refused: ${p.message}`);
    phone = p.e164;
    country = p.country;
    zone ??= p.timezone ?? undefined;
  }
  let email: string | undefined;
  if (input.email !== undefined) {
    const e = normalizeEmail(input.email);
    if (!e)
      throw new EnrollError(
        'invalid_email',
        'Email address refused: it does not look like name@example.com',
      );
    email = e;
  }
  if (!phone && !email)
    throw new EnrollError('missing_contact', 'Give a phone number or an email address');
  const channel: Channel = phone ? 'sms' : 'email';
  const now = deps.clock.now();
  if (await isSuppressed(deps, (phone ?? email)!))
    throw new EnrollError(
      'suppressed',
      'This contact asked for its data to be erased and is never messaged again',
    );

  // A sign-up anyone can make (the web form) is held to the channel's hourly cap on new pending
  // people; an operator's (CLI) and the simulator's are not.
  const capped = input.evidence.source === 'web_form';

  const { result, sends } = await deps.db.$transaction(async (tx) => {
    let existing = await tx.subscriber.findFirst({ where: phone ? { phone } : { email } });
    if (!existing && capped) {
      if (await pendingCapReached(tx, config, channel, now)) {
        metrics.inc('steady_signup_cap_hits_total', { cap: capLabel(channel) });
        throw new EnrollError('capped', 'Too many new sign-ups this hour; try again later');
      }
      // Under the lock: the same contact may have signed up a moment ago.
      existing = await tx.subscriber.findFirst({ where: phone ? { phone } : { email } });
    }
    const subscriber =
      existing ??
      (await tx.subscriber.create({
        data: {
          phone,
          email,
          firstName: input.firstName?.trim() || null,
          timezone: zone ?? config.defaultTimezone,
          locale: input.locale ?? program.defaultLocale,
          country: country ?? config.defaultCountry,
          status: 'pending',
          createdAt: now,
        },
      }));
    if (!existing) await recordConsent(tx, subscriber.id, channel, 'opt_in', input.evidence, now);
    // One person is in a program once: on one channel, never on two.
    const elsewhere = await tx.enrollment.findFirst({
      where: { subscriberId: subscriber.id, program: program.key, channel: { not: channel } },
      select: { channel: true },
    });
    if (elsewhere)
      throw new EnrollError(
        'already_enrolled',
        `Already in program "${program.key}" by ${elsewhere.channel}: a person is in a program once`,
      );
    if (existing && input.locale !== undefined && existing.locale !== input.locale)
      await tx.subscriber.update({ where: { id: existing.id }, data: { locale: input.locale } });
    const enrollment = await tx.enrollment.upsert({
      where: {
        subscriberId_program_channel: {
          subscriberId: subscriber.id,
          program: program.key,
          channel,
        },
      },
      create: { subscriberId: subscriber.id, program: program.key, channel, state: 'pending' },
      update: {},
    });
    // Webhook event, in this transaction (src/webhooks/events.ts).
    if (!existing)
      await emitEvent(tx, subscriberEvent('subscriber.enrolled', subscriber, enrollment, now));
    const sends: QueuedSend[] = [];
    if (input.confirm)
      sends.push(
        ...(await startEnrollment(
          tx,
          deps,
          subscriber.id,
          input.evidence,
          now,
          channel,
          program.key,
        )),
      );
    // A new person, or someone already with us joining another program: asked to confirm.
    else if (subscriber.status === 'pending' || enrollment.state === 'pending') {
      const ask = await requestConfirmation(tx, deps, subscriber.id, enrollment.id, channel, now);
      if (ask) sends.push(ask);
    }
    const state = (await tx.enrollment.findUniqueOrThrow({ where: { id: enrollment.id } })).state;
    return {
      result: {
        subscriberId: subscriber.id,
        enrollmentId: enrollment.id,
        channel,
        state,
        created: !existing,
      },
      sends,
    };
  });
  await enqueueSends(deps.queues, sends, now);
  return result;
}

/**
 * Confirms consent and starts the program (idempotent: an active enrollment is left as it is).
 * With `programKey`, that program's enrollment on the channel; without, every enrollment on the
 * channel in a live program (a YES or a START after STOP answers for all the programs the person
 * joined on this channel; running ones are left as they are). Returns the sends to enqueue after the transaction
 * commits.
 */
export async function startEnrollment(
  tx: Tx,
  deps: Pick<Deps, 'config' | 'programs'>,
  subscriberId: string,
  evidence: Evidence,
  now: Date,
  channel: Channel,
  programKey?: string,
): Promise<QueuedSend[]> {
  const sub = await tx.subscriber.findUniqueOrThrow({
    where: { id: subscriberId },
    include: { enrollments: { orderBy: { createdAt: 'asc' } } },
  });
  // Someone already active confirms only what is waiting (a program they joined since).
  const waiting = (e: { state: string }) => sub.status !== 'active' || e.state === 'pending';
  const enrollments = sub.enrollments.filter(
    (e) =>
      e.channel === channel &&
      deps.programs.get(e.program) !== undefined &&
      (programKey === undefined ? waiting(e) : e.program === programKey),
  );
  if (enrollments.length === 0) return [];
  const wasStopped = sub.status === 'stopped';
  if (sub.status !== 'active') {
    await tx.subscriber.update({ where: { id: subscriberId }, data: { status: 'active' } });
    // Webhook event, in this transaction (src/webhooks/events.ts).
    await emitEvent(
      tx,
      subscriberEvent('subscriber.confirmed', sub, enrollments[0], now, {
        resubscribed: wasStopped,
      }),
    );
    await recordConsent(
      tx,
      subscriberId,
      channel,
      wasStopped ? 'resubscribe' : 'confirm',
      evidence,
      now,
    );
  }
  const sends: QueuedSend[] = [];
  for (const enrollment of enrollments) {
    const send = await startOne(tx, deps, sub, enrollment, wasStopped, now, channel);
    if (send) sends.push(send);
  }
  return sends;
}

async function startOne(
  tx: Tx,
  deps: Pick<Deps, 'config' | 'programs'>,
  sub: { id: string; timezone: string; preferredHour: number | null },
  enrollment: { id: string; program: string; state: string; nextStep: string | null },
  wasStopped: boolean,
  now: Date,
  channel: Channel,
): Promise<QueuedSend | null> {
  const subscriberId = sub.id;
  if (
    enrollment.state === 'active' ||
    enrollment.state === 'safety_hold' ||
    enrollment.state === 'paused'
  )
    return null;
  const restart = enrollment.state === 'stopped' && enrollment.nextStep !== null;
  // Coming back after STOP (by START, or by signing up again and confirming, as email does).
  const back = wasStopped || enrollment.state === 'stopped';
  const program = deps.programs.of(enrollment.program);
  const plan = restart ? null : firstRun(program, now, sub, deps.config.quietHours);
  await tx.enrollment.update({
    where: { id: enrollment.id },
    data: plan
      ? {
          state: 'active',
          nextStep: plan.nextStep,
          nextRunAt: plan.nextRunAt,
          startedAt: plan.startedAt,
          completedAt: null,
        }
      : // Back after a STOP: pick up where they left off, from tomorrow (not two messages today).
        { state: 'active', nextRunAt: now, lastSentDay: localDay(now, sub.timezone) },
  });
  const welcome = await createOutbound(
    tx,
    {
      subscriberId,
      enrollmentId: enrollment.id,
      channel,
      kind: 'system',
      // Coming back after STOP: the full disclosure again (the email one also carries the safety
      // note and the help lines, as the welcome does).
      template: back ? 'start_confirm' : 'welcome',
      lane: 'priority',
      dedupeKey: `${back ? 'start' : 'welcome'}-${enrollment.id}-${now.getTime()}`,
    },
    now,
  );
  return welcome;
}

/** Asks a pending person to confirm: the SMS opt-in text (reply YES) or the confirmation email. */
export async function requestConfirmation(
  tx: Tx,
  deps: Pick<Deps, 'config'>,
  subscriberId: string,
  enrollmentId: string,
  channel: Channel,
  now: Date,
): Promise<QueuedSend | null> {
  const confirmUrl =
    channel === 'email'
      ? `${deps.config.publicUrl}/confirm/${signToken(deps.config.appSecret, 'confirm', subscriberId, new Date(now.getTime() + CONFIRM_TTL_MS))}`
      : undefined;
  return createOutbound(
    tx,
    {
      subscriberId,
      enrollmentId,
      channel,
      kind: 'system',
      template: channel === 'sms' ? 'optin_confirm' : 'confirm_email',
      vars: confirmUrl ? { confirmUrl } : undefined,
      lane: 'priority',
      // At most one confirmation per contact per day, however often the form or JOIN is sent.
      dedupeKey: `confirm-${subscriberId}-${Math.floor(now.getTime() / 86400_000)}`,
    },
    now,
  );
}

/** The window of the hourly caps on new pending people. */
export const PENDING_CAP_WINDOW_MS = 3600_000;

/** Each channel's cap lock: a transaction-scoped advisory lock on (this namespace, channel). */
const PENDING_CAP_LOCK = 0x53746479; // "Stdy"
const CAP_LOCK_CHANNEL: Record<Channel, number> = { sms: 1, email: 2 };

/** New pending people allowed per hour on a channel: SMS numbers that text JOIN (the SMS-pumping
 * guard) and addresses from the sign-up form are capped each on their own. */
export function pendingCapFor(
  config: Pick<Config, 'pendingCapPerHour' | 'emailPendingCapPerHour'>,
  channel: Channel,
): number {
  return channel === 'sms' ? config.pendingCapPerHour : config.emailPendingCapPerHour;
}

/** The `cap` label of steady_signup_cap_hits_total (`pending_per_hour` is the SMS cap's, as
 * before the caps were split). */
export function capLabel(channel: Channel): string {
  return channel === 'sms' ? 'pending_per_hour' : 'email_pending_per_hour';
}

/** Pending people of one channel who arrived in the window: a phone and an SMS enrollment, or an
 * address and an email enrollment. */
export function countNewPending(db: Tx | Db, channel: Channel, now: Date): Promise<number> {
  return db.subscriber.count({ where: newPendingWhere(channel, now) });
}

function newPendingWhere(channel: Channel, now: Date) {
  return {
    status: 'pending' as const,
    createdAt: { gte: new Date(now.getTime() - PENDING_CAP_WINDOW_MS) },
    ...(channel === 'sms' ? { phone: { not: null } } : { email: { not: null } }),
    enrollments: { some: { channel } },
  };
}

/**
 * Whether the channel's hourly cap on new pending people is full. Takes the channel's advisory
 * lock first, held until the transaction ends: concurrent sign-ups count and create one at a time,
 * so the cap is never overshot. Call it right before creating the person, in the same transaction.
 */
export async function pendingCapReached(
  tx: Tx,
  config: Pick<Config, 'pendingCapPerHour' | 'emailPendingCapPerHour'>,
  channel: Channel,
  now: Date,
): Promise<boolean> {
  // $executeRaw: the lock function returns void, which the query path cannot read back.
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(${PENDING_CAP_LOCK}::int4, ${CAP_LOCK_CHANNEL[channel]}::int4)`;
  return (await countNewPending(tx, channel, now)) >= pendingCapFor(config, channel);
}

/**
 * Outside a transaction (no lock): whether the cap is full now, and if so in how many seconds the
 * oldest counted person leaves the window. The sign-up form asks first, so everyone, known address
 * or not, gets the same "try later" while the cap is full.
 */
export async function pendingCapStatus(
  db: Db,
  config: Pick<Config, 'pendingCapPerHour' | 'emailPendingCapPerHour'>,
  channel: Channel,
  now: Date,
): Promise<{ full: boolean; retryAfter: number }> {
  if ((await countNewPending(db, channel, now)) < pendingCapFor(config, channel))
    return { full: false, retryAfter: 0 };
  const oldest = await db.subscriber.findFirst({
    where: newPendingWhere(channel, now),
    orderBy: { createdAt: 'asc' },
    select: { createdAt: true },
  });
  const frees = (oldest?.createdAt.getTime() ?? now.getTime()) + PENDING_CAP_WINDOW_MS;
  return { full: true, retryAfter: Math.max(60, Math.ceil((frees - now.getTime()) / 1000)) };
}

/** Confirmation links work for 7 days; an expired one offers a new link. */
export const CONFIRM_TTL_MS = 7 * 86400_000;
