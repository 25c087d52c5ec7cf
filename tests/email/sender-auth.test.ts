// Sender proof for email replies: the From header can be forged by anyone who knows a person's
// reply address, so the SPF/DKIM/DMARC verdict our relay wrote (Authentication-Results) is kept on
// the reply and a failing one is never acted on automatically. Replies go through the real inbound
// SMTP listener (sent with nodemailer, as the MX in front of it would) and the signed webhook, and
// the real workers read them.
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decideReply, type ReplyContext } from '../../src/core/decide.ts';
import { startInboundSmtp, type InboundSmtp } from '../../src/email/inbound-smtp.ts';
import { listOptOutQueries } from '../../src/flows/optout-queries.ts';
import { signInboundBody } from '../../src/http/email-inbound.ts';
import { freshEmail } from '../support/db.ts';
import { reading, replyContext } from '../support/readings.ts';
import { activeSubscriber, emailTestbed, type EmailTestbed } from './helpers.ts';

const SECRET = 'test-inbound-secret-0123456789';
const OPS = 'ops-sender-auth@example.com';
const FAIL = 'mx.example.com; dmarc=fail (p=reject dis=none) header.from=example.com';
const PASS =
  'mx.example.com; spf=pass smtp.mailfrom=example.com; dkim=pass header.d=example.com; dmarc=pass header.from=example.com';
const DISCLOSURE = 'he hit me last night and I am scared';

let t: EmailTestbed;
let smtp: InboundSmtp;
let mta: ReturnType<typeof nodemailer.createTransport>;

beforeAll(async () => {
  t = await emailTestbed({ env: { INBOUND_EMAIL_SECRET: SECRET, OPERATOR_EMAIL: OPS } });
  smtp = await startInboundSmtp(t.deps, { port: 0 });
  mta = transport(smtp.port);
});
afterAll(async () => {
  mta?.close();
  await smtp?.stop();
  await t?.close();
});

function transport(port: number) {
  return nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true });
}

const subscriber = () => activeSubscriber(t, freshEmail('auth'));
type Sub = Awaited<ReturnType<typeof subscriber>>;

/** A reply as the MX hands it on: Authentication-Results first (topmost), as relays prepend. */
async function reply(s: Sub, text: string, results?: string | string[], via = mta) {
  await via.sendMail({
    from: s.email,
    to: s.replyTo,
    subject: 'Re: Week 1',
    text,
    messageId: `<auth-${Date.now()}-${Math.random().toString(36).slice(2)}@example.com>`,
    ...(results ? { headers: { 'Authentication-Results': results } } : {}),
  });
  await t.settle();
}

async function state(s: Sub) {
  const db = t.deps.db;
  const [sub, enrollment, inbound, out, flags, queries] = await Promise.all([
    db.subscriber.findUniqueOrThrow({ where: { id: s.id } }),
    db.enrollment.findFirstOrThrow({ where: { subscriberId: s.id } }),
    db.message.findMany({ where: { subscriberId: s.id, direction: 'in' } }),
    db.message.findMany({
      where: { subscriberId: s.id, direction: 'out', kind: { in: ['system', 'safety'] } },
      select: { template: true, kind: true },
    }),
    db.safetyFlag.findMany({ where: { subscriberId: s.id } }),
    db.optOutQuery.findMany({ where: { subscriberId: s.id } }),
  ]);
  return {
    status: sub.status,
    enrollment: enrollment.state,
    senderAuth: inbound.map((m) => m.senderAuth),
    processed: inbound.every((m) => m.processedAt !== null),
    templates: out.map((m) => m.template),
    flags,
    queries,
  };
}

const alerts = () => t.mailTo(OPS).length;

describe('STOP from a sender the relay could not verify', () => {
  it('dmarc=fail: the person is not stopped; an opt-out question goes to an operator', async () => {
    const s = await subscriber();
    await reply(s, 'STOP', FAIL);
    const st = await state(s);
    expect(st.senderAuth).toEqual(['fail']);
    expect(st.processed).toBe(true);
    expect(st.status).toBe('active');
    expect(st.enrollment).toBe('active');
    expect(st.templates).not.toContain('stop_confirm');
    expect(st.templates).not.toContain('optout_clarify');
    expect(st.queries).toHaveLength(1);
    expect(st.queries[0]).toMatchObject({ rule: 'stop sender:unverified', resolvedAt: null });
    // It is in the operators' queue, named as such.
    const open = await listOptOutQueries(t.deps, { open: true, take: 1000 });
    expect(open.find((q) => q.subscriberId === s.id)?.rule).toBe('stop sender:unverified');
  });

  it('dmarc=pass: stopped at once, as always', async () => {
    const s = await subscriber();
    await reply(s, 'STOP', PASS);
    const st = await state(s);
    expect(st.senderAuth).toEqual(['pass']);
    expect(st.status).toBe('stopped');
    expect(st.templates).toContain('stop_confirm');
    expect(st.queries).toHaveLength(0);
  });

  it('no Authentication-Results at all (many relays add none): stopped at once', async () => {
    const s = await subscriber();
    await reply(s, 'STOP');
    const st = await state(s);
    expect(st.senderAuth).toEqual(['none']);
    expect(st.status).toBe('stopped');
    expect(st.templates).toContain('stop_confirm');
  });

  it('an opt-out in other words (core/revocation.ts) is held the same way', async () => {
    const s = await subscriber();
    await reply(s, 'no more of these emails please', FAIL);
    const st = await state(s);
    expect(st.status).toBe('active');
    expect(st.queries.map((q) => q.rule)).toEqual(['no-more sender:unverified']);
  });

  it('other keywords are not acted on either (PAUSE)', async () => {
    const s = await subscriber();
    await reply(s, 'PAUSE', FAIL);
    const st = await state(s);
    expect(st.enrollment).toBe('active');
    expect(st.templates).not.toContain('pause_confirm');
    expect(st.processed).toBe(true);
  });
});

describe('a disclosure from a sender the relay could not verify', () => {
  it('dmarc=fail: flagged for review (sender:unverified) and operators alerted; no safety message, no hold', async () => {
    const s = await subscriber();
    const before = alerts();
    await reply(s, DISCLOSURE, FAIL);
    const st = await state(s);
    expect(st.senderAuth).toEqual(['fail']);
    expect(st.flags).toHaveLength(1);
    expect(st.flags[0]).toMatchObject({ category: 'abuse', band: 'ask', status: 'open' });
    expect(st.flags[0]!.matched).toContain('sender:unverified');
    expect(st.flags[0]!.risk).toBeGreaterThan(0.5); // sorted with the gravest in the queue
    expect(st.templates.filter((x) => x?.startsWith('safety_'))).toEqual([]);
    expect(st.enrollment).toBe('active');
    await expect.poll(alerts).toBe(before + 1);
  });

  it('dmarc=pass: acted on as always (safety message, hold)', async () => {
    const s = await subscriber();
    await reply(s, DISCLOSURE, PASS);
    const st = await state(s);
    expect(st.flags).toHaveLength(1);
    expect(st.flags[0]).toMatchObject({ category: 'abuse', band: 'act' });
    expect(st.flags[0]!.matched).not.toContain('sender:unverified');
    expect(st.templates).toContain('safety_abuse');
    expect(st.enrollment).toBe('safety_hold');
  });

  it('a disclosure that also says stop, dmarc=fail: a flag and an opt-out question, nothing sent', async () => {
    const s = await subscriber();
    const before = (await state(s)).templates; // the confirmation and the welcome
    await reply(s, 'he hit me last night. stop texting me', FAIL);
    const st = await state(s);
    expect(st.status).toBe('active');
    expect(st.flags.map((f) => f.band)).toEqual(['ask']);
    expect(st.queries.map((q) => q.rule)).toEqual(['verb-ing sender:unverified']);
    expect(st.templates.sort()).toEqual(before.sort());
  });
});

describe('which Authentication-Results header is trusted', () => {
  it('by default the topmost one, which our relay prepended', async () => {
    const s = await subscriber();
    // The sender's own header (below ours) claims a pass: it counts for nothing.
    await reply(s, 'STOP', [FAIL, PASS]);
    expect((await state(s)).status).toBe('active');
  });

  it('with INBOUND_AUTHSERV_ID, only headers of that authserv-id', async () => {
    const config = {
      ...t.config,
      email: { ...t.config.email, inboundAuthservId: 'mx.steady.example' },
    };
    const ours = await startInboundSmtp({ ...t.deps, config }, { port: 0 });
    const via = transport(ours.port);
    try {
      // An unknown authserv-id on top (a forged header) is ignored; ours says fail.
      const s = await subscriber();
      await reply(
        s,
        'STOP',
        [
          'mx.attacker.example; dmarc=pass header.from=example.com',
          'MX.STEADY.EXAMPLE;\r\n\tdmarc=fail header.from=example.com',
        ],
        via,
      );
      let st = await state(s);
      expect(st.senderAuth).toEqual(['fail']);
      expect(st.status).toBe('active');
      // Only other ids: our MX never saw this mail (it reached the listener some other way), so
      // it is unverified, whatever the others claim: not acted on.
      const other = await subscriber();
      await reply(other, 'STOP', 'mx.attacker.example; dmarc=pass header.from=example.com', via);
      st = await state(other);
      expect(st.senderAuth).toEqual(['fail']);
      expect(st.status).toBe('active');
    } finally {
      via.close();
      await ours.stop();
    }
  });
});

describe('POST /webhooks/email/inbound with authenticationResults', () => {
  function post(body: Record<string, unknown>) {
    const raw = JSON.stringify(body);
    return t.app.inject({
      method: 'POST',
      url: '/webhooks/email/inbound',
      headers: {
        'content-type': 'application/json',
        'x-steady-signature': signInboundBody(SECRET, raw),
      },
      payload: raw,
    });
  }
  const body = (s: Sub, extra: Record<string, unknown>) => ({
    from: s.email,
    to: s.replyTo,
    subject: 'Re: hi',
    text: 'STOP',
    messageId: `<hook-${Date.now()}-${Math.random().toString(36).slice(2)}@example.com>`,
    ...extra,
  });

  it('reads the field as the header: a DMARC fail holds the STOP for an operator', async () => {
    const s = await subscriber();
    const res = await post(body(s, { authenticationResults: `Authentication-Results: ${FAIL}` }));
    expect(res.statusCode).toBe(200);
    await t.settle();
    const st = await state(s);
    expect(st.senderAuth).toEqual(['fail']);
    expect(st.status).toBe('active');
    expect(st.queries).toHaveLength(1);
  });

  it('a pass (array form) or no field: stopped', async () => {
    const a = await subscriber();
    expect((await post(body(a, { authenticationResults: [PASS] }))).statusCode).toBe(200);
    const b = await subscriber();
    expect((await post(body(b, {}))).statusCode).toBe(200);
    await t.settle();
    expect((await state(a)).senderAuth).toEqual(['pass']);
    expect((await state(a)).status).toBe('stopped');
    expect((await state(b)).senderAuth).toEqual(['none']);
    expect((await state(b)).status).toBe('stopped');
  });

  it('refuses a field of the wrong type (400) and records nothing', async () => {
    const s = await subscriber();
    const res = await post(body(s, { authenticationResults: { dmarc: 'pass' } }));
    expect(res.statusCode).toBe(400);
    expect((await state(s)).senderAuth).toEqual([]);
  });
});

describe('decideReply with senderVerified', () => {
  const ctx = (over: Partial<ReplyContext> = {}) =>
    replyContext({ openCheckin: { id: 'c1' }, ...over });

  it('fail: no keyword, rating or SAFE is acted on', () => {
    for (const r of [
      reading({ intent: 'pause', matched: ['keyword:pause'] }),
      reading({ intent: 'rating', rating: 1 }),
      reading({ intent: 'safe' }),
      reading({ intent: 'help' }),
    ])
      expect(decideReply(ctx({ senderVerified: 'fail' }), r)).toEqual([]);
    // The same replies verified, or without a verdict, are acted on.
    for (const v of ['pass', 'none', undefined] as const)
      expect(
        decideReply(ctx({ senderVerified: v }), reading({ intent: 'rating', rating: 1 })).map(
          (a) => a.kind,
        ),
      ).toContain('answerCheckin');
  });

  it('fail: an ask is a flag for review only; a stopped person gets no question', () => {
    const ask = reading({
      band: 'ask',
      concern: ['self_harm'],
      risk: { abuse: 0, self_harm: 0.3 },
      matched: ['self_harm:x'],
    });
    expect(decideReply(ctx({ senderVerified: 'fail' }), ask)).toEqual([
      {
        kind: 'flag',
        category: 'self_harm',
        band: 'ask',
        matched: ['self_harm:x', 'sender:unverified'],
        risk: 0.3,
        why: [],
        unverified: 'review',
      },
    ]);
    expect(
      decideReply(
        ctx({ senderVerified: 'fail', subscriber: { status: 'stopped' } }),
        reading({ intent: 'stop', matched: ['keyword:stop'] }),
      ),
    ).toEqual([]);
  });
});
