// Replies by email through the real inbound SMTP listener (on a free port), sent with nodemailer
// as a mail server would: a quoted reply is recorded against its subscriber; forged reply
// addresses, other senders and out-of-office answers leave no row; relaying and oversized mail
// are refused; the List-Unsubscribe mailto unsubscribes.
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readReply } from '../../src/core/classify.ts';
import { inboundJobId } from '../../src/queues.ts';
import { decryptText } from '../../src/security/crypto.ts';
import { startInboundSmtp, type InboundSmtp } from '../../src/email/inbound-smtp.ts';
import { freshEmail } from '../support/db.ts';
import { activeSubscriber, emailTestbed, type EmailTestbed } from './helpers.ts';

let t: EmailTestbed;
let smtp: InboundSmtp;
let mta: ReturnType<typeof nodemailer.createTransport>;

beforeAll(async () => {
  t = await emailTestbed();
  smtp = await startInboundSmtp(t.deps, { port: 0 });
  mta = nodemailer.createTransport({
    host: '127.0.0.1',
    port: smtp.port,
    secure: false,
    ignoreTLS: true,
  });
});
afterAll(async () => {
  mta?.close();
  await smtp?.stop();
  await t?.close();
});

function subscriber() {
  return activeSubscriber(t, freshEmail('reply'));
}

const QUOTED = (n: string) =>
  `${n}\n\nOn Mon, May 4, 2026 at 9:00 AM Steady <hello@example.com> wrote:\n> Welcome, and thank you for signing up.\n> Reply with a number from 1 to 5.\n`;

const inboundRows = (where: { subscriberId?: string; toAddr?: string; fromAddr?: string }) =>
  t.deps.db.message.findMany({ where: { direction: 'in', channel: 'email', ...where } });

describe('inbound SMTP listener', () => {
  it('records a quoted reply, encrypted, attached to its subscriber, and queues it for reading', async () => {
    const s = await subscriber();
    const messageId = `<reply-${Date.now()}@mail.example.org>`;
    await mta.sendMail({
      from: `Someone <${s.email.toUpperCase()}>`,
      to: s.replyTo,
      subject: 'Re: Welcome to Steady',
      text: QUOTED('4'),
      messageId,
    });
    const rows = await inboundRows({ subscriberId: s.id });
    expect(rows).toHaveLength(1);
    const row = rows[0]!;
    expect(row).toMatchObject({
      kind: 'reply',
      status: 'received',
      providerId: messageId,
      fromAddr: s.email,
      body: null,
    });
    // The pipeline strips the quote; we keep the text as received, only encrypted.
    expect(decryptText(t.config.encryptionKeys, row.bodyEnc!)).toContain(
      '4\n\nOn Mon, May 4, 2026',
    );
    expect(await t.deps.queues.inbound.getJob(inboundJobId(row.id))).toBeTruthy();
    // What we recorded reads as the person meant it once the pipeline strips the quote.
    const text = decryptText(t.config.encryptionKeys, row.bodyEnc!);
    const reading = readReply(text, {
      channel: 'email',
      keywords: t.deps.content.keywords,
      safety: t.deps.safety,
    });
    expect(reading).toMatchObject({ rating: 4, safety: [] });

    // The same mail again (a retrying server) is recorded once.
    await mta.sendMail({
      from: s.email,
      to: s.replyTo,
      subject: 'Re: Welcome to Steady',
      text: QUOTED('4'),
      messageId,
    });
    expect(await inboundRows({ subscriberId: s.id })).toHaveLength(1);
  });

  it('drops a reply to a forged reply address (bad mac): no row at all', async () => {
    const s = await subscriber();
    const [local, domain] = s.replyTo.split('@') as [string, string];
    const forged = `${local.slice(0, -1)}${local.endsWith('0') ? '1' : '0'}@${domain}`;
    await mta.sendMail({ from: s.email, to: forged, subject: 'Re: hi', text: QUOTED('5') });
    expect(await inboundRows({ fromAddr: s.email })).toHaveLength(0);
    expect(await inboundRows({ toAddr: forged })).toHaveLength(0);
  });

  it('drops a reply from anyone but the subscriber: no row at all', async () => {
    const s = await subscriber();
    await mta.sendMail({
      from: 'partner@example.net',
      to: s.replyTo,
      subject: 'Re: hi',
      text: QUOTED('1'),
    });
    expect(await inboundRows({ toAddr: s.replyTo })).toHaveLength(0);
    expect(await inboundRows({ subscriberId: s.id })).toHaveLength(0);
  });

  it('drops out-of-office answers (no reply loops)', async () => {
    const s = await subscriber();
    await mta.sendMail({
      from: s.email,
      to: s.replyTo,
      subject: 'Out of office',
      text: 'I am away until Monday.',
      headers: { 'Auto-Submitted': 'auto-replied' },
    });
    expect(await inboundRows({ subscriberId: s.id })).toHaveLength(0);
  });

  it('refuses mail for other domains at RCPT (never a relay) and mail over 1 MB', async () => {
    await expect(
      mta.sendMail({
        from: 'a@example.org',
        to: 'someone@elsewhere.example',
        subject: 'x',
        text: 'x',
      }),
    ).rejects.toMatchObject({
      responseCode: 550,
    });
    const s = await subscriber();
    const big = 'x'.repeat(1024 * 1024 + 10);
    await expect(
      mta.sendMail({ from: s.email, to: s.replyTo, subject: 'big', text: big }),
    ).rejects.toMatchObject({ responseCode: 552 });
    expect(await inboundRows({ subscriberId: s.id })).toHaveLength(0);
  });

  it('reads 8-bit mail in its own charset (ISO-8859-1), not as UTF-8', async () => {
    const s = await subscriber();
    const messageId = `<latin1-${Date.now()}@mail.example.org>`;
    const text = '¿Cómo estás? Mañana';
    // The bytes a Spanish mail client sends: Latin-1, 8bit transfer encoding, no MIME words.
    const raw = Buffer.concat([
      Buffer.from(
        [
          `From: ${s.email}`,
          `To: ${s.replyTo}`,
          'Subject: Re: Welcome',
          `Message-ID: ${messageId}`,
          'MIME-Version: 1.0',
          'Content-Type: text/plain; charset=ISO-8859-1',
          'Content-Transfer-Encoding: 8bit',
          '',
          '',
        ].join('\r\n'),
        'ascii',
      ),
      Buffer.from(`${text}\r\n`, 'latin1'),
    ]);
    expect(raw.includes(Buffer.from([0xf1]))).toBe(true); // ñ as one Latin-1 byte
    await mta.sendMail({ envelope: { from: s.email, to: [s.replyTo] }, raw });
    const rows = await inboundRows({ subscriberId: s.id });
    expect(rows).toHaveLength(1);
    expect(decryptText(t.config.encryptionKeys, rows[0]!.bodyEnc!).trim()).toBe(text);
  });

  it('unsubscribes through the List-Unsubscribe mailto', async () => {
    const s = await subscriber();
    // The mailto of List-Unsubscribe (its exact form is checked in mail-format.test.ts).
    const mailto = [
      null,
      'unsubscribe@reply.example.com',
      `unsubscribe-${s.unsubscribeToken}`,
    ] as const;
    await mta.sendMail({ from: s.email, to: mailto[1], subject: mailto[2], text: '' });
    const sub = await t.deps.db.subscriber.findUniqueOrThrow({
      where: { id: s.id },
      include: { consents: true },
    });
    expect(sub.status).toBe('stopped');
    expect(sub.consents.find((c) => c.kind === 'opt_out')).toMatchObject({
      source: 'unsubscribe_mailto',
    });
    // A wrong token does nothing (and does not fail the SMTP transaction).
    const other = await subscriber();
    await mta.sendMail({
      from: other.email,
      to: 'unsubscribe@reply.example.com',
      subject: 'unsubscribe-abc.def',
      text: '',
    });
    expect((await t.deps.db.subscriber.findUniqueOrThrow({ where: { id: other.id } })).status).toBe(
      'active',
    );
  });

  it('says what to do when its port is taken', async () => {
    await expect(startInboundSmtp(t.deps, { port: smtp.port })).rejects.toThrow(
      /INBOUND_SMTP_PORT/,
    );
  });
});
