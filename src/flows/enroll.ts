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

type Tx = Prisma.TransactionClient;

export class EnrollError extends Error {
  constructor(
    public readonly code:
      | 'invalid_phone'
      | 'invalid_email'
      | 'invalid_timezone'
      | 'missing_contact'
      | 'suppressed'
      | 'capped',
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
  locale?: string;
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

type EnrollDeps = Pick<Deps, 'db' | 'queues' | 'clock' | 'config' | 'program' | 'log'>;

export async function enroll(deps: EnrollDeps, input: EnrollInput): Promise<EnrollResult> {
  const { config } = deps;
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
          locale: input.locale ?? 'en',
          country: country ?? config.defaultCountry,
          status: 'pending',
          createdAt: now,
        },
      }));
    if (!existing) await recordConsent(tx, subscriber.id, channel, 'opt_in', input.evidence, now);
    const enrollment = await tx.enrollment.upsert({
      where: {
        subscriberId_program_channel: {
          subscriberId: subscriber.id,
          program: deps.program.key,
          channel,
        },
      },
      create: { subscriberId: subscriber.id, program: deps.program.key, channel, state: 'pending' },
      update: {},
    });
    const sends: QueuedSend[] = [];
    if (input.confirm)
      sends.push(...(await startEnrollment(tx, deps, subscriber.id, input.evidence, now, channel)));
    else if (subscriber.status === 'pending') {
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
 * Returns the sends to enqueue after the transaction commits.
 */
export async function startEnrollment(
  tx: Tx,
  deps: Pick<Deps, 'config' | 'program'>,
  subscriberId: string,
  evidence: Evidence,
  now: Date,
  channel: Channel,
): Promise<QueuedSend[]> {
  const sub = await tx.subscriber.findUniqueOrThrow({
    where: { id: subscriberId },
    include: { enrollments: true },
  });
  const enrollment = sub.enrollments.find(
    (e) => e.program === deps.program.key && e.channel === channel,
  );
  if (!enrollment) return [];
  const wasStopped = sub.status === 'stopped';
  if (sub.status !== 'active') {
    await tx.subscriber.update({ where: { id: subscriberId }, data: { status: 'active' } });
    await recordConsent(
      tx,
      subscriberId,
      channel,
      wasStopped ? 'resubscribe' : 'confirm',
      evidence,
      now,
    );
  }
  if (
    enrollment.state === 'active' ||
    enrollment.state === 'safety_hold' ||
    enrollment.state === 'paused'
  )
    return [];
  const restart = enrollment.state === 'stopped' && enrollment.nextStep !== null;
  const plan = restart ? null : firstRun(deps.program, now, sub, deps.config.quietHours);
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
      // START's short confirmation is an SMS idea; by email a returning person gets the welcome.
      template: wasStopped && channel === 'sms' ? 'start_confirm' : 'welcome',
      lane: 'priority',
      dedupeKey: `${wasStopped ? 'start' : 'welcome'}-${enrollment.id}-${now.getTime()}`,
    },
    now,
  );
  return welcome ? [welcome] : [];
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
