// `simulate`: runs the whole program for one made-up subscriber on a virtual clock, through the
// same enrollment, scheduling, reply and rendering code as production, on real PostgreSQL and
// Redis (a scratch Redis prefix; the subscriber is removed afterwards). Prints a transcript with
// local times, or with --json one line per message. Same input, same output.
//
// It may run against a database with real people in it, its clock weeks ahead of theirs, so every
// flow it calls is limited to its own scratch program and subscriber (the scheduler's claim by
// program key, the reminder and pause sweeps by an explicit scope), it sends through capturing
// senders only, and it raises no operator alerts.
import { randomBytes } from 'node:crypto';
import { DateTime } from 'luxon';
import type { EmailSender, OutgoingEmail, OutgoingSms, SmsSender } from '../channels/port.ts';
import { fakeClock } from '../clock.ts';
import type { Config } from '../config.ts';
import { isValidTimezone } from '../core/schedule.ts';
import type { Deps } from '../deps.ts';
import { claimDueSteps } from '../flows/claim-due.ts';
import { deliver } from '../flows/deliver.ts';
import { enroll } from '../flows/enroll.ts';
import { handleInbound, recordInbound } from '../flows/inbound.ts';
import { endTimedPauses, sendCheckinReminders } from '../flows/sweep.ts';
import { programRegistry, withKeySuffix } from '../content/programs.ts';
import { buildDeps, closeDeps } from '../main.ts';
import type { QueueName } from '../queues.ts';
import { parse, UsageError } from './args.ts';

const USAGE =
  'simulate --channel sms|email [--program key] [--locale en|es] [--replies "4,rough week,..."] [--tz Zone] [--start ISO] [--json]';
/** A fixed default start keeps the output the same from run to run (a Monday, 10:00 in New York). */
const DEFAULT_START = '2026-03-02T15:00:00Z';

export interface TranscriptLine {
  /** The program simulated (its key in messages/) and the language it was read in. */
  program: string;
  locale: string;
  at: string;
  local: string;
  direction: 'out' | 'in';
  kind: string;
  step: string | null;
  /** The experiment variant this step's message was sent as (null: the step has none). */
  variant: string | null;
  subject: string | null;
  text: string;
}

class CapturingSms implements SmsSender {
  readonly name = 'simulate';
  sent: OutgoingSms[] = [];
  async send(m: OutgoingSms) {
    this.sent.push(m);
    return { providerId: 'SIM' + this.sent.length, status: 'sent' };
  }
}
class CapturingEmail implements EmailSender {
  readonly name = 'simulate';
  sent: OutgoingEmail[] = [];
  async send(m: OutgoingEmail) {
    this.sent.push(m);
    return { providerId: 'SIM' + this.sent.length, status: 'sent' };
  }
}

/** Delivers every job waiting in the scratch queues, in queue order. */
async function drain(deps: Deps): Promise<number> {
  let n = 0;
  for (let round = 0; round < 20; round++) {
    let did = 0;
    for (const name of ['inbound', 'priority', 'sms', 'email'] as Exclude<QueueName, 'events'>[]) {
      const jobs = await deps.queues[name].getJobs(
        ['waiting', 'delayed', 'prioritized'],
        0,
        -1,
        true,
      );
      for (const job of jobs) {
        if (name !== 'inbound') {
          // A send held back to a later time (quiet hours) waits for the virtual clock.
          const row = await deps.db.message.findUnique({
            where: { id: job.data.messageId },
            select: { dueAt: true },
          });
          if (row?.dueAt && row.dueAt > deps.clock.now()) continue;
        }
        await job.remove();
        if (name === 'inbound') await handleInbound(deps, job.data.messageId);
        else await deliver(deps, job.data.messageId);
        did++;
      }
    }
    n += did;
    if (!did) break;
  }
  return n;
}

export async function simulate(
  cfg: Config,
  opts: {
    channel: 'sms' | 'email';
    replies: string[];
    tz: string;
    start: string;
    /** A live program's key; default: PROGRAM. */
    program?: string;
    /** One of its languages; default: the program's own default. */
    locale?: string;
  },
): Promise<TranscriptLine[]> {
  const clock = fakeClock(opts.start);
  const sms = new CapturingSms();
  const email = new CapturingEmail();
  const scratch = `${cfg.redisPrefix}-sim-${randomBytes(4).toString('hex')}`;
  const deps = await buildDeps(
    // No operator alerts: a scripted disclosure is not a person who needs one.
    {
      ...cfg,
      redisPrefix: scratch,
      logLevel: 'silent',
      operatorEmail: undefined,
      operatorWebhookUrl: undefined,
    },
    { clock, sms, email },
  );
  // A scratch copy of the program: the scheduler claims only this run's enrollment, never the
  // real subscribers in the same database.
  const chosen = opts.program ? deps.programs.get(opts.program) : deps.programs.default;
  if (!chosen) {
    await closeDeps(deps);
    throw new UsageError(
      `--program "${opts.program}" is not a live program (have: ${deps.programs
        .all()
        .map((p) => p.key)
        .join(', ')})`,
    );
  }
  const locale = opts.locale ?? chosen.defaultLocale;
  if (!chosen.locales[locale]) {
    await closeDeps(deps);
    throw new UsageError(
      `--locale "${locale}": program "${chosen.key}" is written in ${Object.keys(chosen.locales).join(', ')}`,
    );
  }
  deps.programs = withKeySuffix(programRegistry([chosen], chosen.key), `sim-${scratch.slice(-8)}`);
  const lines: TranscriptLine[] = [];
  // Fictional (555-01XX) and outside the numbers tests use, so nothing else ever deletes it mid-run.
  const phone = '+19075550199';
  const address = `simulate-${randomBytes(4).toString('hex')}@example.com`;
  const contact = opts.channel === 'sms' ? phone : address;
  const record = (
    direction: 'out' | 'in',
    kind: string,
    step: string | null,
    subject: string | null,
    text: string,
    variant: string | null = null,
  ) => {
    const at = clock.now();
    lines.push({
      program: chosen.key,
      locale,
      at: at.toISOString(),
      local: DateTime.fromJSDate(at, { zone: opts.tz }).toISO({ suppressMilliseconds: true }) ?? '',
      direction,
      kind,
      step,
      variant,
      subject,
      text,
    });
  };
  let subscriberId: string | null = null;
  try {
    // A previous simulate run that was interrupted may have left this number behind (only ever
    // enrolled in simulations' scratch programs; anything else on it is left alone).
    if (opts.channel === 'sms')
      await deps.db.subscriber.deleteMany({
        where: { phone, enrollments: { every: { program: { contains: '-sim-' } } } },
      });
    const r = await enroll(deps, {
      ...(opts.channel === 'sms' ? { phone } : { email: address }),
      timezone: opts.tz,
      locale,
      confirm: true,
      evidence: { source: 'simulate' },
    });
    subscriberId = r.subscriberId;
    const replies = [...opts.replies];
    let replyAt: Date | null = null;
    let seen = 0;
    const flush = async () => {
      await drain(deps);
      const all = opts.channel === 'sms' ? sms.sent : email.sent;
      for (; seen < all.length; seen++) {
        const m = all[seen]!;
        const row = await deps.db.message.findUnique({
          where: { id: m.messageId },
          select: { kind: true, step: true, variant: true },
        });
        const text = 'body' in m ? m.body : m.text;
        record(
          'out',
          row?.kind ?? m.kind ?? 'system',
          row?.step ?? null,
          'subject' in m ? m.subject : null,
          text,
          row?.variant ?? null,
        );
        // A check-in is answered two hours later with the next scripted reply.
        if (row?.kind === 'checkin' && replies.length)
          replyAt = new Date(clock.now().getTime() + 2 * 3600_000);
      }
    };
    await flush();
    for (let i = 0; i < 500; i++) {
      const e = await deps.db.enrollment.findUniqueOrThrow({ where: { id: r.enrollmentId } });
      const reminder = await deps.db.checkin.findFirst({
        where: {
          enrollmentId: e.id,
          answeredAt: null,
          reminderSentAt: null,
          closesAt: { gt: clock.now() },
        },
        orderBy: { reminderDueAt: 'asc' },
      });
      const held = await deps.db.message.findFirst({
        where: {
          subscriberId: r.subscriberId,
          direction: 'out',
          status: 'queued',
          dueAt: { gt: clock.now() },
        },
        orderBy: { dueAt: 'asc' },
        select: { dueAt: true },
      });
      const candidates = [
        held?.dueAt ?? null,
        e.state === 'active' ? e.nextRunAt : null,
        replyAt,
        reminder?.reminderDueAt ?? null,
        e.state === 'paused' ? e.pausedUntil : null,
      ]
        .filter((d): d is Date => d instanceof Date)
        .map((d) => d.getTime());
      if (candidates.length === 0) break;
      clock.set(new Date(Math.max(clock.now().getTime(), Math.min(...candidates))));
      if (replyAt && clock.now().getTime() >= (replyAt as Date).getTime()) {
        replyAt = null;
        const text = replies.shift()!;
        record('in', 'reply', null, null, text);
        const rec = await recordInbound(deps, {
          channel: opts.channel,
          from: contact,
          text,
          providerId: `SIM${i}${randomBytes(4).toString('hex')}`,
        });
        await handleInbound(deps, rec.messageId);
      }
      // Experiments: variants chosen from this run's inputs, not the random enrollment id, so the
      // same input prints the same transcript.
      await claimDueSteps(deps, {
        lookaheadMs: 0,
        assignmentId: () => `simulate|${opts.channel}|${opts.tz}|${opts.start}`,
      });
      // Scoped to this run: the clock is weeks ahead of the real people in the same database.
      const scope = { program: deps.programs.default.key, subscriberId: r.subscriberId };
      await sendCheckinReminders(deps, scope);
      await endTimedPauses(deps, scope);
      await flush();
    }
    return lines;
  } finally {
    if (subscriberId)
      await deps.db.subscriber.delete({ where: { id: subscriberId } }).catch(() => {});
    for (const q of Object.values(deps.queues)) await q.obliterate({ force: true }).catch(() => {});
    await closeDeps(deps);
  }
}

export async function simulateCommand(cfg: Config, args: string[]): Promise<number> {
  const { values } = parse(
    args,
    {
      channel: { type: 'string' },
      replies: { type: 'string' },
      tz: { type: 'string' },
      start: { type: 'string' },
      program: { type: 'string' },
      locale: { type: 'string' },
      json: { type: 'boolean' },
    },
    USAGE,
  );
  const channel = values.channel ?? 'sms';
  if (channel !== 'sms' && channel !== 'email')
    throw new UsageError(`--channel must be sms or email\nUsage: ${USAGE}`);
  const tz = values.tz ?? cfg.defaultTimezone;
  if (!isValidTimezone(tz))
    throw new UsageError(`--tz "${tz}" is not an IANA time zone (e.g. America/Chicago)`);
  const start = values.start ?? DEFAULT_START;
  if (Number.isNaN(new Date(start).getTime()))
    throw new UsageError(`--start "${start}" is not an ISO time (e.g. 2026-03-02T15:00:00Z)`);
  const replies = (values.replies ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const lines = await simulate(cfg, {
    channel,
    replies,
    tz,
    start,
    ...(values.program ? { program: values.program } : {}),
    ...(values.locale ? { locale: values.locale } : {}),
  });
  if (values.json) {
    for (const l of lines) process.stdout.write(JSON.stringify(l) + '\n');
    return 0;
  }
  const first = lines[0];
  if (first) console.log(`Program ${first.program}, in ${first.locale}, by ${channel}\n`);
  for (const l of lines) {
    const when = DateTime.fromISO(l.local, { setZone: true }).toFormat('ccc dd LLL HH:mm');
    const variant = l.variant ? ` (variant ${l.variant})` : '';
    const head = `${when}  ${l.direction === 'out' ? '->' : '<-'} ${l.kind}${l.step ? ` ${l.step}` : ''}${variant}`;
    console.log(head + (l.subject ? `  "${l.subject}"` : ''));
    console.log(
      l.text
        .split('\n')
        .map((t) => `      ${t}`)
        .join('\n'),
    );
  }
  const out = lines.filter((l) => l.direction === 'out').length;
  console.log(
    `\n${first?.program ?? ''}: ${out} messages out, ${lines.length - out} replies in (${tz}).`,
  );
  return 0;
}
