// The local default transport: with no Twilio or SMTP settings, messages land in the `outbox`
// table instead, where `/dev/...` pages and tests read them (and reply as the subscriber). The
// log line is masked like every other log: a developer's terminal is still a log.
import type { Db } from '../db/client.ts';
import { maskEmail, maskPhone } from './mask.ts';
import type { EmailSender, OutgoingEmail, OutgoingSms, SendResult, SmsSender } from './port.ts';

type Log = (line: string) => void;

// stderr, so CLI commands that print results on stdout stay pipeable while the service runs.
const defaultLog: Log = (line) => process.stderr.write(line + '\n');

// outbox.messageId is a uuid column; ids from elsewhere (tests, ad-hoc sends) are kept out of it
// rather than failing the send.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const asUuid = (id: string) => (UUID.test(id) ? id : null);

export function outboxSms(db: Db, opts: { from: string; log?: Log }): SmsSender {
  const log = opts.log ?? defaultLog;
  return {
    name: 'outbox',
    async send(msg: OutgoingSms): Promise<SendResult> {
      const row = await db.outboxItem.create({
        data: {
          channel: 'sms',
          to: msg.to,
          from: opts.from,
          kind: msg.kind ?? 'message',
          body: msg.body,
          messageId: asUuid(msg.messageId),
          headers: msg.statusCallback ? { statusCallback: msg.statusCallback } : {},
        },
        select: { id: true },
      });
      log(`outbox sms -> ${maskPhone(msg.to)} (${msg.body.length} chars)`);
      // Nothing is in flight afterwards, so the message is as sent as it will ever be.
      return { providerId: row.id, status: 'sent' };
    },
  };
}

export function outboxEmail(db: Db, opts: { log?: Log } = {}): EmailSender {
  const log = opts.log ?? defaultLog;
  return {
    name: 'outbox',
    async send(msg: OutgoingEmail): Promise<SendResult> {
      const headers: Record<string, string> = { ...msg.headers };
      if (msg.replyTo) headers['Reply-To'] = msg.replyTo;
      const row = await db.outboxItem.create({
        data: {
          channel: 'email',
          to: msg.to,
          from: msg.from,
          kind: msg.kind ?? 'message',
          subject: msg.subject,
          body: msg.text,
          html: msg.html,
          headers,
          messageId: asUuid(msg.messageId),
        },
        select: { id: true },
      });
      log(`outbox email -> ${maskEmail(msg.to)} (${msg.text.length} chars)`);
      return { providerId: row.id, status: 'sent' };
    },
  };
}

/** One outbox row as `/dev/` routes and tests see it. */
export interface OutboxEntry {
  id: string;
  channel: 'sms' | 'email';
  to: string;
  from: string;
  kind: string;
  body: string;
  subject: string | null;
  html: string | null;
  headers: Record<string, string>;
  createdAt: string; // ISO 8601
}

export interface OutboxQuery {
  to?: string;
  channel?: 'sms' | 'email';
  /** Only rows created strictly after this instant (poll with the last row's createdAt). */
  after?: Date;
  /** Default 50, at most 1000. */
  limit?: number;
}

/** Outbox rows, oldest first (newest last, like a conversation). With `after` it pages forward
 * from there; without it, it returns the latest `limit` rows. */
export async function listOutbox(db: Db, q: OutboxQuery = {}): Promise<OutboxEntry[]> {
  const limit = Math.min(Math.max(Math.trunc(q.limit ?? 50), 1), 1000);
  const forward = q.after !== undefined;
  const rows = await db.outboxItem.findMany({
    where: {
      ...(q.to !== undefined ? { to: q.to } : {}),
      ...(q.channel !== undefined ? { channel: q.channel } : {}),
      ...(q.after !== undefined ? { createdAt: { gt: q.after } } : {}),
    },
    orderBy: [{ createdAt: forward ? 'asc' : 'desc' }, { id: forward ? 'asc' : 'desc' }],
    take: limit,
  });
  if (!forward) rows.reverse();
  return rows.map((r) => ({
    id: r.id,
    channel: r.channel,
    to: r.to,
    from: r.from,
    kind: r.kind,
    body: r.body,
    subject: r.subject,
    html: r.html,
    headers: (r.headers ?? {}) as Record<string, string>,
    createdAt: r.createdAt.toISOString(),
  }));
}
