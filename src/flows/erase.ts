// Erasure: removes a person's data and their queued jobs, and keeps only a suppression entry (a
// keyed hash of the contact, not the contact) so that they are never messaged again.
//
// "The person" is every contact point we know for them: the subscriber rows matching the phone or
// address given, the other contact point on those rows (a row may hold both), and the addresses
// their own messages went to or came from; rows matching any of those are erased too. Each contact
// point gets its own suppression entry. Their safety flags (with the encrypted reasons) and consent
// events go with the rows. Audit rows that name them (their id, a flag or message of theirs) stay,
// since what was done and by whom is the audit, but name only a keyed hash of the id, notes removed.
//
// A job that cannot be removed (a worker holds it, or Redis does not answer) does not stop the
// rest: everything else is erased, and the job is reported in `notRemoved` so the caller can say
// so and exit non-zero. Jobs carry only a message id, and that row is gone, so a leftover job
// finds nothing to send.
import type { Deps } from '../deps.ts';
import { Prisma } from '../db/client.ts';
import { QUEUE_NAMES, inboundJobId, sendJobId, type QueueName } from '../queues.ts';
import { keyedHash } from '../security/crypto.ts';

export interface EraseResult {
  found: boolean;
  subscribers: number;
  /** Contact points suppressed (the one given, and any other of the same person). */
  contacts: number;
  messages: number;
  jobs: number;
  consents: number;
  flags: number;
  outbox: number;
  /** Audit rows rewritten to name a keyed hash instead of the person. */
  audit: number;
  /** What could not be removed, each a sentence naming it (empty when everything went). */
  notRemoved: string[];
}

type EraseDeps = Pick<Deps, 'db' | 'queues' | 'config' | 'log'>;

export const suppressionHash = (secret: string, contact: string) =>
  keyedHash(secret, 'contact:' + contact);

/** What an erased person's audit rows name instead of their subscriber id. */
export const erasedSubjectHash = (secret: string, subscriberId: string) =>
  'erased-' + keyedHash(secret, 'subscriber:' + subscriberId);

/** Audit detail fields that name a person, a flag or a message of theirs, or hold free text. */
const IDENTIFYING_DETAIL = ['note', 'subscriberId', 'messageId', 'flagId'];

/** Whether a contact was erased. Inside a transaction pass `{ db: tx, config }`: a second pool
 * connection taken while the transaction holds one can starve the pool (every connection held by
 * a transaction waiting for another) until the transaction times out. */
export async function isSuppressed(
  deps: { db: Pick<Prisma.TransactionClient, 'suppression'>; config: Deps['config'] },
  contact: string,
): Promise<boolean> {
  // Every key of APP_SECRET, not only the signing one: people erased before a rotation stay
  // suppressed after it.
  const keys = deps.config.appSecrets.length ? deps.config.appSecrets : [deps.config.appSecret];
  return (
    (await deps.db.suppression.count({
      where: { hash: { in: keys.map((k) => suppressionHash(k, contact)) } },
    })) > 0
  );
}

/** A phone number (E.164) or an address (lower-cased); anything else is not a contact point. */
function contactPoint(value: string | null | undefined): string | null {
  const v = value?.trim();
  if (!v) return null;
  if (/^\+[1-9]\d{6,14}$/.test(v)) return v;
  if (/^[^\s@<>]+@[^\s@<>]+$/.test(v)) return v.toLowerCase();
  return null;
}

/**
 * The person behind a contact: subscriber rows and contact points, followed until nothing new
 * turns up (a row with both a phone and an address; a reply from another address of theirs).
 */
async function findPerson(
  deps: EraseDeps,
  first: string,
): Promise<{ ids: string[]; contacts: string[] }> {
  // Our own sender addresses appear on every message; they are never the person's.
  const ours = new Set(
    [deps.config.sms.from, deps.config.email.from]
      .map((v) => contactPoint(v?.match(/<([^>]+)>/)?.[1] ?? v))
      .filter((v): v is string => v !== null),
  );
  const contacts = new Set([first]);
  const ids = new Set<string>();
  for (let round = 0; round < 10; round++) {
    const before = contacts.size + ids.size;
    const list = [...contacts];
    const subs = await deps.db.subscriber.findMany({
      where: { OR: [{ phone: { in: list } }, { email: { in: list } }, { id: { in: [...ids] } }] },
      select: { id: true, phone: true, email: true },
    });
    for (const s of subs) {
      ids.add(s.id);
      for (const c of [s.phone, s.email].map(contactPoint)) if (c) contacts.add(c);
    }
    const theirs = await deps.db.message.findMany({
      where: { subscriberId: { in: [...ids] } },
      select: { direction: true, toAddr: true, fromAddr: true },
      distinct: ['direction', 'toAddr', 'fromAddr'],
    });
    for (const m of theirs) {
      const c = contactPoint(m.direction === 'in' ? m.fromAddr : m.toAddr);
      if (c && !ours.has(c)) contacts.add(c);
    }
    if (contacts.size + ids.size === before) break;
  }
  return { ids: [...ids], contacts: [...contacts] };
}

/** Removes the jobs for these messages; returns how many went and what could not be removed. */
async function removeJobs(
  deps: Pick<Deps, 'queues'>,
  messages: { id: string; direction: 'in' | 'out' }[],
): Promise<{ removed: number; notRemoved: string[] }> {
  let removed = 0;
  const notRemoved: string[] = [];
  for (const m of messages) {
    const names: readonly QueueName[] =
      m.direction === 'in' ? ['inbound'] : QUEUE_NAMES.filter((q) => q !== 'inbound');
    for (const name of names) {
      const jobId = name === 'inbound' ? inboundJobId(m.id) : sendJobId(m.id);
      const queue = deps.queues[name];
      try {
        const state = await queue.getJobState(jobId);
        if (state === 'unknown') continue; // no such job
        // 0: BullMQ would not remove it because a worker holds its lock (it is running now).
        if ((await queue.remove(jobId)) === 1) removed++;
        else notRemoved.push(`${name} job ${jobId} (${state}: a worker is running it)`);
      } catch (err) {
        notRemoved.push(`${name} job ${jobId} (Redis: ${(err as Error).message})`);
      }
    }
  }
  return { removed, notRemoved };
}

export async function eraseContact(
  deps: EraseDeps,
  contact: { phone?: string; email?: string },
  actor = 'cli',
): Promise<EraseResult> {
  const value = contactPoint(contact.phone ?? contact.email);
  if (!value) throw new Error('erase needs a phone number or an email address');
  const { db } = deps;
  const secret = deps.config.appSecret;
  const { ids, contacts } = await findPerson(deps, value);
  // Messages to or from any of their contact points, including answers before they subscribed.
  const mine = {
    OR: [
      { subscriberId: { in: ids } },
      { toAddr: { in: contacts } },
      { fromAddr: { in: contacts } },
    ],
  };
  const before = await db.message.findMany({ where: mine, select: { id: true, direction: true } });
  const first = await removeJobs(deps, before);

  const result = await db.$transaction(
    async (tx) => {
      // Read again inside the transaction: a step the scheduler wrote meanwhile goes too.
      const messages = await tx.message.findMany({
        where: mine,
        select: { id: true, direction: true, subscriberId: true },
      });
      const flags = await tx.safetyFlag.findMany({
        where: { subscriberId: { in: ids } },
        select: { id: true, subscriberId: true },
      });
      const consents = await tx.consentEvent.count({ where: { subscriberId: { in: ids } } });
      const audit = await scrubAudit(tx, secret, ids[0] ?? value, [
        ...ids.map((id) => [id, id] as const),
        ...flags.map((f) => [f.id, f.subscriberId] as const),
        ...messages.map((m) => [m.id, m.subscriberId] as const),
      ]);
      // A flag's reasons (whyEnc) may quote the person: explicit, not only by cascade.
      await tx.safetyFlag.deleteMany({ where: { id: { in: flags.map((f) => f.id) } } });
      const msgs = await tx.message.deleteMany({
        where: { id: { in: messages.map((m) => m.id) } },
      });
      const outbox = await tx.outboxItem.deleteMany({ where: { to: { in: contacts } } });
      // Webhook events about them (ids and masked contacts), with their deliveries not yet sent:
      // nothing more is told about an erased person (src/webhooks/).
      await tx.webhookEvent.deleteMany({ where: { subscriberId: { in: ids } } });
      await tx.subscriber.deleteMany({ where: { id: { in: ids } } }); // cascades to the rest
      for (const c of contacts)
        await tx.suppression.upsert({
          where: { hash: suppressionHash(secret, c) },
          create: { hash: suppressionHash(secret, c), reason: 'erased' },
          update: {},
        });
      return {
        consents,
        flags: flags.length,
        messages,
        deleted: msgs.count,
        outbox: outbox.count,
        audit,
      };
    },
    { timeout: 60_000 },
  );
  const known = new Set(before.map((m) => m.id));
  const late = await removeJobs(
    deps,
    result.messages.filter((m) => !known.has(m.id)),
  );
  const notRemoved = [...first.notRemoved, ...late.notRemoved];
  const jobs = first.removed + late.removed;
  await db.auditEvent.create({
    data: {
      actor,
      action: 'subscriber.erase',
      target: `${ids.length} subscriber(s)`,
      detail: {
        messages: result.deleted,
        contacts: contacts.length,
        audit: result.audit,
        notRemoved: notRemoved.length,
      },
    },
  });
  const out: EraseResult = {
    found: ids.length > 0 || before.length > 0 || result.messages.length > 0,
    subscribers: ids.length,
    contacts: contacts.length,
    messages: result.deleted,
    jobs,
    consents: result.consents,
    flags: result.flags,
    outbox: result.outbox,
    audit: result.audit,
    notRemoved,
  };
  const counts = { ...out, notRemoved: notRemoved.length };
  if (notRemoved.length) deps.log.warn(counts, 'erased, but some jobs could not be removed');
  else deps.log.info(counts, 'erased');
  return out;
}

/**
 * Rewrites the audit rows that name the person (as target, or a subscriber, message or flag id in
 * the detail) to name a keyed hash of their subscriber id, and drops operators' notes. `owners`
 * maps each of their ids (subscriber, flag, message) to the subscriber it belongs to.
 */
async function scrubAudit(
  tx: Prisma.TransactionClient,
  secret: string,
  fallbackSubject: string,
  owners: (readonly [string, string | null])[],
): Promise<number> {
  if (owners.length === 0) return 0;
  const ownerOf = new Map(owners.map(([id, sub]) => [id, sub ?? fallbackSubject]));
  const all = [...ownerOf.keys()];
  const rows = await tx.$queryRaw<{ id: string; target: string; detail: unknown }[]>(Prisma.sql`
    SELECT id, target, detail FROM audit_events
    WHERE target = ANY(${all}::text[])
       OR detail->>'subscriberId' = ANY(${all}::text[])
       OR detail->>'messageId' = ANY(${all}::text[])
       OR detail->>'flagId' = ANY(${all}::text[])`);
  for (const row of rows) {
    const detail =
      row.detail && typeof row.detail === 'object' && !Array.isArray(row.detail)
        ? (row.detail as Record<string, unknown>)
        : {};
    const named = [row.target, ...IDENTIFYING_DETAIL.map((k) => detail[k])].find(
      (v): v is string => typeof v === 'string' && ownerOf.has(v),
    );
    const subject = ownerOf.get(named ?? '') ?? fallbackSubject;
    const kept = Object.fromEntries(
      Object.entries(detail).filter(([k]) => !IDENTIFYING_DETAIL.includes(k)),
    );
    await tx.auditEvent.update({
      where: { id: row.id },
      data: { target: erasedSubjectHash(secret, subject), detail: kept as Prisma.InputJsonObject },
    });
  }
  // A list view (contact.list) names many people in detail.subscriberIds: only this person's ids
  // become keyed hashes there; the row stays the operator's record of what they were shown.
  const subjects = [...new Set(owners.map(([, sub]) => sub).filter((s): s is string => !!s))];
  const lists = subjects.length
    ? await tx.$queryRaw<{ id: string; detail: Record<string, unknown> }[]>(Prisma.sql`
        SELECT id, detail FROM audit_events
        WHERE jsonb_typeof(detail->'subscriberIds') = 'array'
          AND detail->'subscriberIds' ?| ${subjects}::text[]`)
    : [];
  for (const row of lists) {
    const ids = (row.detail.subscriberIds as unknown[]).map((v) =>
      typeof v === 'string' && subjects.includes(v) ? erasedSubjectHash(secret, v) : v,
    );
    await tx.auditEvent.update({
      where: { id: row.id },
      data: { detail: { ...row.detail, subscriberIds: ids } as Prisma.InputJsonObject },
    });
  }
  return rows.length + lists.length;
}
