// End to end through the real worker and SMTP transport into a local SMTP sink, read back with mailparser as
// a mail client would: the confirmation and the welcome are well-formed (List-Unsubscribe with
// both URLs and One-Click, Reply-To, Message-ID, text and HTML parts, a discreet subject), and a
// first name carrying CR/LF stays in the body and never becomes a header.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enroll } from '../../src/flows/enroll.ts';
import { freshEmail } from '../support/db.ts';
import type { SinkMessage } from '../support/smtp-sink.ts';
import { emailTestbed, freshIp, postJson, type EmailTestbed } from './helpers.ts';

let t: EmailTestbed;
beforeAll(async () => {
  // The harness's workers send through nodemailer (pooled, as production) to its SMTP listener.
  t = await emailTestbed({ env: { BOUNCE_ADDRESS: 'bounces@reply.example.com' } });
});
afterAll(async () => {
  await t?.close();
});

const received = (to: string) => t.mailTo(to);
const headerBlock = (m: SinkMessage) => m.raw.split(/\r?\n\r?\n/)[0]!;

async function confirmFromSink(email: string) {
  await t.settle();
  const confirm = received(email).find((m) => /confirm/i.test(m.subject ?? ''));
  const token = /\/confirm\/([\w-]+\.[\w-]+)/.exec(confirm?.text ?? '')?.[1];
  if (!token) throw new Error('no confirmation link arrived');
  const res = await t.app.inject({
    method: 'POST', // the confirmation page's button
    url: `/confirm/${token}`,
    headers: { 'x-forwarded-for': freshIp() },
  });
  expect(res.statusCode).toBe(200);
  await t.settle();
  const welcome = received(email).find((m) => m.subject?.startsWith('Welcome'));
  if (!welcome) throw new Error('no welcome arrived');
  return welcome;
}

describe('mail as a client sees it', () => {
  it('the welcome after confirming is well-formed and discreet', async () => {
    const email = freshEmail('format');
    expect(
      (await postJson(t, '/subscribe', { email, firstName: 'Zoë', timezone: 'America/Chicago' }))
        .statusCode,
    ).toBe(200);
    const welcome = await confirmFromSink(email);
    const sub = await t.deps.db.subscriber.findUniqueOrThrow({ where: { email } });
    const row = await t.deps.db.message.findFirstOrThrow({
      where: { subscriberId: sub.id, template: 'welcome' },
    });

    expect(welcome.envelope).toEqual({ from: 'bounces@reply.example.com', to: [email] });
    expect(welcome.messageId).toMatch(new RegExp(`^<${row.id}@example\\.com>$`));
    expect(welcome.replyTo?.value[0]?.address).toMatch(
      /^reply\+[0-9a-f]{32}\.[0-9a-f]{20}@reply\.example\.com$/,
    );
    const list = welcome.headers.get('list') as { unsubscribe?: { url?: string; mail?: string } };
    expect(list.unsubscribe?.url).toMatch(
      /^https:\/\/steady\.example\.com\/unsubscribe\/[\w-]+\.[\w-]+$/,
    );
    expect(list.unsubscribe?.mail).toMatch(
      /^unsubscribe@reply\.example\.com\?subject=unsubscribe-[\w-]+\.[\w-]+$/,
    );
    // Long headers are folded on the wire; a client unfolds them before reading.
    const unfolded = headerBlock(welcome).replace(/\r?\n[ \t]+/g, ' ');
    expect(unfolded).toMatch(
      /^List-Unsubscribe:\s+<https:\/\/steady\.example\.com\/unsubscribe\/[^>]+>,\s+<mailto:unsubscribe@reply\.example\.com\?subject=unsubscribe-[^>]+>/m,
    );
    expect(unfolded).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click\r?$/m);
    expect(welcome.raw).toMatch(/Content-Type: multipart\/alternative/i);
    expect(welcome.text).toContain('Hi Zoë,');
    expect(welcome.text).toContain('Unsubscribe: https://steady.example.com/unsubscribe/');
    expect(welcome.html).toContain('Unsubscribe</a>');
    expect(welcome.text).toContain(t.config.email.postalAddress);
    // Discreet: the subject and sender name say nothing about the topic.
    const visible = `${welcome.subject} ${welcome.from?.text}`.toLowerCase();
    for (const word of [
      'trust',
      'abuse',
      'partner',
      'relationship',
      'control',
      'jealous',
      'safety',
    ])
      expect(visible).not.toContain(word);
  });

  it('a first name with CR/LF from the form never becomes a header', async () => {
    const email = freshEmail('inject-form');
    const res = await postJson(t, '/subscribe', {
      email,
      firstName: 'Eve\r\nBcc: victim@example.com',
      timezone: 'UTC',
    });
    expect(res.statusCode).toBe(200);
    const welcome = await confirmFromSink(email);
    expect(headerBlock(welcome)).not.toMatch(/^bcc:/im);
    expect(headerBlock(welcome)).not.toContain('victim@example.com');
    expect(welcome.envelope.to).toEqual([email]);
    expect(t.mailTo('victim@example.com')).toHaveLength(0);
  });

  it('a first name with CR/LF stored by another path stays in the body too', async () => {
    const email = freshEmail('inject-direct');
    await enroll(t.deps, {
      email,
      firstName: 'Eve\r\nBcc: victim@example.com\r\nSubject: x',
      timezone: 'UTC',
      confirm: false,
      evidence: { source: 'test' },
    });
    const welcome = await confirmFromSink(email);
    expect(headerBlock(welcome)).not.toMatch(/^bcc:/im);
    expect(headerBlock(welcome)).not.toContain('victim@example.com');
    expect(welcome.subject).toBe('Welcome to Steady');
    expect(welcome.envelope.to).toEqual([email]);
    expect(welcome.text).toContain('Bcc: victim@example.com'); // harmless text in the body
  });
});
