// Erasure: removes a person's data and their queued jobs, and keeps only a suppression entry (a
// keyed hash of the contact, not the contact) so that they are never messaged again.
import type { Deps } from '../deps.ts';
import { QUEUE_NAMES, inboundJobId, sendJobId } from '../queues.ts';
import { keyedHash } from '../security/crypto.ts';

export interface EraseResult {
  found: boolean;
  subscribers: number;
  messages: number;
  jobs: number;
  consents: number;
  flags: number;
  outbox: number;
}

export const suppressionHash = (secret: string, contact: string) =>
  keyedHash(secret, 'contact:' + contact);

export async function isSuppressed(
  deps: Pick<Deps, 'db' | 'config'>,
  contact: string,
): Promise<boolean> {
  return (
    (await deps.db.suppression.count({
      where: { hash: suppressionHash(deps.config.appSecret, contact) },
    })) > 0
  );
}

export async function eraseContact(
  deps: Pick<Deps, 'db' | 'queues' | 'config' | 'log'>,
  contact: { phone?: string; email?: string },
  actor = 'cli',
): Promise<EraseResult> {
  const value = contact.phone ?? contact.email?.trim().toLowerCase();
  if (!value) throw new Error('erase needs a phone number or an email address');
  const { db } = deps;
  const subs = await db.subscriber.findMany({
    where: contact.phone ? { phone: value } : { email: value },
    select: { id: true },
  });
  const ids = subs.map((s) => s.id);
  // Messages to or from this contact, including answers to it before it was a subscriber.
  const messages = await db.message.findMany({
    where: { OR: [{ subscriberId: { in: ids } }, { toAddr: value }, { fromAddr: value }] },
    select: { id: true },
  });
  let jobs = 0;
  for (const m of messages) {
    for (const q of QUEUE_NAMES) {
      const id = q === 'inbound' ? inboundJobId(m.id) : sendJobId(m.id);
      const removed = await deps.queues[q].remove(id).catch(() => 0);
      jobs += removed ? 1 : 0;
    }
  }
  const result = await db.$transaction(async (tx) => {
    const consents = await tx.consentEvent.count({ where: { subscriberId: { in: ids } } });
    const flags = await tx.safetyFlag.count({ where: { subscriberId: { in: ids } } });
    const msgs = await tx.message.deleteMany({ where: { id: { in: messages.map((m) => m.id) } } });
    const outbox = await tx.outboxItem.deleteMany({ where: { to: value } });
    await tx.subscriber.deleteMany({ where: { id: { in: ids } } }); // cascades to the rest
    await tx.suppression.upsert({
      where: { hash: suppressionHash(deps.config.appSecret, value) },
      create: { hash: suppressionHash(deps.config.appSecret, value), reason: 'erased' },
      update: {},
    });
    await tx.auditEvent.create({
      data: {
        actor,
        action: 'subscriber.erase',
        target: `${ids.length} subscriber(s)`,
        detail: { messages: msgs.count },
      },
    });
    return { consents, flags, messages: msgs.count, outbox: outbox.count };
  });
  deps.log.info({ subscribers: ids.length, ...result, jobs }, 'erased');
  return { found: ids.length > 0 || messages.length > 0, subscribers: ids.length, jobs, ...result };
}
