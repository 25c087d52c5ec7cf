// The local transport against the real test database.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listOutbox, outboxEmail, outboxSms } from '../../src/channels/outbox.ts';
import type { Db } from '../../src/db/client.ts';
import { freshEmail, freshPhone, testDb } from '../support/db.ts';

describe('outbox transport', () => {
  let db: Db;
  const ids: string[] = [];
  const lines: string[] = [];
  const log = (line: string) => lines.push(line);

  beforeAll(() => {
    db = testDb();
  });
  afterAll(async () => {
    await db.outboxItem.deleteMany({ where: { id: { in: ids } } });
    await db.$disconnect();
  });

  it('stores SMS, logs one masked line each, and lists them oldest first', async () => {
    const phone = await freshPhone(db);
    const other = await freshPhone(db);
    const sms = outboxSms(db, { from: '+12025550100', log });
    const first = await sms.send({
      messageId: randomUUID(),
      to: phone,
      body: 'Week 1: one small step.',
      kind: 'nudge',
    });
    const second = await sms.send({
      messageId: 'not-a-uuid',
      to: phone,
      body: 'How did it go? 1-5',
    });
    const elsewhere = await sms.send({ messageId: 'x', to: other, body: 'someone else' });
    ids.push(first.providerId, second.providerId, elsewhere.providerId);
    expect(first.status).toBe('sent');

    // Another test file may draw the same fictional number: look only at our own rows.
    const mine = (await listOutbox(db, { to: phone })).filter((r) => ids.includes(r.id));
    expect(mine.map((r) => r.id)).toEqual([first.providerId, second.providerId]);
    expect(mine[0]).toMatchObject({
      channel: 'sms',
      to: phone,
      from: '+12025550100',
      kind: 'nudge',
      body: 'Week 1: one small step.',
      subject: null,
      html: null,
      headers: {},
    });
    expect(mine[1]?.kind).toBe('message');
    expect(new Date(mine[0]!.createdAt).toISOString()).toBe(mine[0]!.createdAt);

    const masked = `+1*******${phone.slice(-2)}`;
    expect(lines).toContain(`outbox sms -> ${masked} (23 chars)`);
    for (const line of lines) {
      expect(line).not.toContain(phone);
      expect(line).not.toContain('small step');
    }
  });

  it('pages forward with `after` and keeps the newest `limit` without it', async () => {
    const phone = await freshPhone(db);
    const sms = outboxSms(db, { from: '+12025550100', log });
    const sent: string[] = [];
    for (let i = 0; i < 4; i++) {
      sent.push((await sms.send({ messageId: 'x', to: phone, body: `n${i}` })).providerId);
      await new Promise((r) => setTimeout(r, 5)); // distinct createdAt (millisecond precision)
    }
    ids.push(...sent);
    const mine = async (q: Parameters<typeof listOutbox>[1]) =>
      (await listOutbox(db, q)).filter((r) => sent.includes(r.id)).map((r) => r.body);

    expect(await mine({ to: phone, limit: 2 })).toEqual(['n2', 'n3']);
    const all = await listOutbox(db, { to: phone });
    const firstRow = all.find((r) => r.id === sent[0]);
    expect(await mine({ to: phone, after: new Date(firstRow!.createdAt) })).toEqual([
      'n1',
      'n2',
      'n3',
    ]);
  });

  it('stores email with subject, html and headers, and filters by channel', async () => {
    const to = freshEmail('outbox');
    const email = outboxEmail(db, { log });
    const result = await email.send({
      messageId: randomUUID(),
      to,
      from: 'Steady <hello@example.com>',
      subject: 'Welcome',
      text: 'Plain text',
      html: '<p>Plain text</p>',
      replyTo: 'r-1@reply.example.com',
      headers: { 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
      kind: 'confirm',
    });
    ids.push(result.providerId);

    const rows = await listOutbox(db, { to, channel: 'email' });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      id: result.providerId,
      channel: 'email',
      from: 'Steady <hello@example.com>',
      kind: 'confirm',
      subject: 'Welcome',
      body: 'Plain text',
      html: '<p>Plain text</p>',
      headers: {
        'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
        'Reply-To': 'r-1@reply.example.com',
      },
    });
    expect(await listOutbox(db, { to, channel: 'sms' })).toEqual([]);
    expect(lines).toContain(`outbox email -> ${to.slice(0, 1)}***@e***.com (10 chars)`);
  });
});
