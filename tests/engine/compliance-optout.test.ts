// Carrier and FCC compliance on the real path (signed Twilio webhook, real workers, the twilio SDK
// against the fake Twilio API, SMTP to the local listener): revocation in any wording, the clear
// yes needed to come back, HELP with the support contact on both channels, the disclosure that
// comes with a re-subscribe, safety before the opt-out, and the operator queue for unclear replies.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimDueSteps } from '../../src/flows/claim-due.ts';
import { expirePending } from '../../src/flows/sweep.ts';
import { recordInbound } from '../../src/flows/inbound.ts';
import {
  listOptOutQueries,
  resolveOptOutQuery,
  settleOptOutDeadlines,
} from '../../src/flows/optout-queries.ts';
import { buildApp } from '../../src/http/app.ts';
import { routeModules } from '../../src/http/modules.ts';
import { freshPhone, ownDatabase } from '../support/db.ts';
import { harness, waitFor, type Harness } from '../support/harness.ts';
import { textViaWebhook } from '../support/twilio-post.ts';
import { activeSubscriber, mailTo, type EmailTestbed } from '../email/helpers.ts';

let h: Harness;
let app: FastifyInstance;
let sid = 0;

beforeAll(async () => {
  h = await harness({
    start: '2026-05-04T14:00:00Z', // Monday 10:00 in New York
    env: { DATABASE_URL: await ownDatabase('compliance_optout') },
  });
  app = await buildApp(h.deps, { modules: routeModules });
});
afterAll(async () => {
  await app?.close();
  await h?.close();
});

async function text(from: string, body: string) {
  expect((await textViaWebhook(h, app, from, body)).statusCode).toBe(200);
}

const bodies = (phone: string) => h.smsTo(phone).map((m) => m.body);
const statusOf = async (phone: string) =>
  (await h.deps.db.subscriber.findFirstOrThrow({ where: { phone } })).status;

async function joined(): Promise<string> {
  const phone = await freshPhone(h.deps.db);
  await text(phone, 'JOIN');
  await text(phone, 'YES');
  expect(await statusOf(phone)).toBe('active');
  return phone;
}

/** Moves the clock a day on and runs the scheduler: what would the person get next? */
async function nextDay(): Promise<void> {
  h.clock.set(new Date(h.clock.now().getTime() + 26 * 3600_000));
  await claimDueSteps(h.deps);
  await h.settle();
}

describe('revocation in any reasonable wording', () => {
  it.each([
    "STOP. I didn't sign up for this",
    'please stop sending me these messages',
    'quit texting me',
  ])('"%s" stops the person: one confirmation, nothing after', async (wording) => {
    const phone = await joined();
    const before = bodies(phone).length;
    await text(phone, wording);
    expect(await statusOf(phone)).toBe('stopped');
    const after = bodies(phone).slice(before);
    expect(after).toHaveLength(1);
    expect(after[0]).toMatch(/unsubscribed/);
    await nextDay();
    expect(bodies(phone).slice(before)).toHaveLength(1);
  });

  it('"he won\'t stop checking my phone" does not stop them, and is screened for safety', async () => {
    const phone = await joined();
    await text(phone, "he won't stop checking my phone");
    expect(await statusOf(phone)).toBe('active');
    const sub = await h.deps.db.subscriber.findFirstOrThrow({ where: { phone } });
    const flags = await h.deps.db.safetyFlag.findMany({ where: { subscriberId: sub.id } });
    expect(flags.map((f) => f.category)).toContain('abuse');
    expect(bodies(phone).some((b) => /unsubscribed/.test(b))).toBe(false);
  });

  it('a disclosure that also says stop gets the safety message first, then the opt-out', async () => {
    const phone = await joined();
    const before = h.smsTo(phone).length;
    await text(phone, 'he hit me again last night. stop texting me');
    await waitFor(
      async () =>
        bodies(phone)
          .slice(before)
          .some((b) => /unsubscribed/.test(b)),
      { timeout: 15_000 },
    );
    await h.settle();
    const after = bodies(phone).slice(before);
    // The safety message(s) first (the screen may answer self-harm too), the confirmation last.
    expect(after.length).toBeGreaterThanOrEqual(2);
    expect(after.at(-1)).toMatch(/unsubscribed/);
    for (const safety of after.slice(0, -1)) expect(safety).toMatch(/^A note from Steady/);
    expect(after.join('\n')).toMatch(/Free, private help/);
    expect(await statusOf(phone)).toBe('stopped');
  });
});

describe('coming back needs a clear yes', () => {
  it('STOP then "yeah" leaves the person stopped, and nothing is sent', async () => {
    const phone = await joined();
    await text(phone, 'STOP');
    const before = bodies(phone).length;
    await text(phone, 'yeah');
    await text(phone, 'sure');
    expect(await statusOf(phone)).toBe('stopped');
    await nextDay();
    expect(bodies(phone)).toHaveLength(before);
  });

  it('STOP then START brings them back with the full disclosure', async () => {
    const phone = await joined();
    await text(phone, 'STOP');
    const before = bodies(phone).length;
    await text(phone, 'START');
    expect(await statusOf(phone)).toBe('active');
    const [confirmation] = bodies(phone).slice(before);
    expect(confirmation).toMatch(/^Steady: you're signed up again/);
    for (const part of [
      /msgs\/wk/,
      /Msg frequency varies/,
      /Msg & data rates may apply/,
      /HELP/,
      /STOP/,
      /Terms: http\S+\/terms/,
    ])
      expect(confirmation).toMatch(part);
  });

  it('STOP then JOIN asks again, and only the YES to that restarts', async () => {
    const phone = await joined();
    await text(phone, 'STOP');
    const before = bodies(phone).length;
    await text(phone, 'JOIN');
    expect(await statusOf(phone)).toBe('pending');
    expect(bodies(phone).slice(before)[0]).toMatch(/Reply YES to join/);
    await text(phone, 'YES');
    expect(await statusOf(phone)).toBe('active');
  });
});

describe('HELP carries the support contact', () => {
  it('by SMS: support contact, frequency, rates, STOP and the terms', async () => {
    const phone = await joined();
    const before = bodies(phone).length;
    await text(phone, 'HELP');
    const [help] = bodies(phone).slice(before);
    expect(help).toContain(h.config.supportContact);
    expect(help).toMatch(/Msg frequency varies/);
    expect(help).toMatch(/Msg & data rates may apply/);
    expect(help).toMatch(/STOP/);
    expect(help).toContain(`${h.config.publicUrl}/terms`);
  });

  it('by email: HELP and STOP replies are answered by email (no "cannot compose")', async () => {
    const t = Object.assign(h, { app }) as EmailTestbed;
    const s = await activeSubscriber(t, `help-${Date.now()}-${sid++}@example.com`);
    const reply = async (body: string) => {
      const { messageId } = await recordInbound(h.deps, {
        channel: 'email',
        from: s.email,
        text: body,
        providerId: `<help-${Date.now()}-${sid++}@mail.example.org>`,
        subscriberId: s.id,
      });
      await waitFor(async () => {
        const m = await h.deps.db.message.findUnique({ where: { id: messageId } });
        return Boolean(m?.processedAt);
      });
      await h.settle();
    };
    await reply('HELP\n\nThanks,\nAna');
    const help = mailTo(t, s.email).find((m) => /help/i.test(m.subject));
    expect(help?.text).toContain(h.config.supportContact);
    expect(help?.text).toContain(`${h.config.publicUrl}/terms`);
    await reply('Stop');
    const stop = mailTo(t, s.email).find((m) => /unsubscribed/i.test(m.subject));
    expect(stop?.text).toMatch(/no more emails will come/);
    const failed = await h.deps.db.message.count({
      where: { subscriberId: s.id, direction: 'out', status: 'failed' },
    });
    expect(failed).toBe(0);
  });
});

describe('unclear replies: one clarification, and an operator decides in time', () => {
  it('"how do I cancel?" asks once, queues the reply, and an operator opt-out sends the confirmation', async () => {
    const phone = await joined();
    const before = bodies(phone).length;
    await text(phone, 'how do I cancel?');
    await text(phone, 'not interested');
    expect(await statusOf(phone)).toBe('active');
    const asked = bodies(phone).slice(before);
    expect(asked).toHaveLength(1);
    expect(asked[0]).toMatch(/Reply STOP to stop all messages from Steady/);
    const sub = await h.deps.db.subscriber.findFirstOrThrow({ where: { phone } });
    const open = (await listOptOutQueries(h.deps, { open: true })).filter(
      (q) => q.subscriberId === sub.id,
    );
    expect(open).toHaveLength(2);
    expect(open[0]?.ageBusinessDays).toBe(0);
    await resolveOptOutQuery(h.deps, open[0]!.id, 'opted_out', 'operator:test');
    await h.settle();
    expect(await statusOf(phone)).toBe('stopped');
    expect(bodies(phone).at(-1)).toMatch(/unsubscribed/);
    // Stopping settled the other question too.
    const left = await h.deps.db.optOutQuery.count({
      where: { subscriberId: sub.id, resolvedAt: null },
    });
    expect(left).toBe(0);
    const audit = await h.deps.db.auditEvent.findFirst({
      where: { target: sub.id, action: 'optout_query.opted_out' },
    });
    expect(audit?.actor).toBe('operator:test');
  });

  /** An unclear reply from a person in New York (the clock's 10:00 there), asked once. */
  async function asked(wording = 'how do I cancel?') {
    const phone = await joined();
    const sub = await h.deps.db.subscriber.update({
      where: { phone },
      data: { timezone: 'America/New_York' },
    });
    await text(phone, wording);
    expect(await h.deps.db.optOutQuery.count({ where: { subscriberId: sub.id } })).toBe(1);
    return { phone, sub };
  }
  /** A Monday 10:00 in New York, far from earlier tests' clocks: business days count from it. */
  let mondays = 0;
  const monday = () => {
    const at = new Date(Date.UTC(2026, 5, 1 + 28 * mondays++, 14));
    h.clock.set(at);
    return at;
  };
  const later = (days: number) => h.clock.set(new Date(h.clock.now().getTime() + days * 86400_000));

  it('a question nobody decides is settled before the 10-business-day limit', async () => {
    const start = monday();
    const { phone, sub } = await asked();
    // Seven business days on: still open.
    later(9);
    await settleOptOutDeadlines(h.deps);
    expect(await statusOf(phone)).toBe('active');
    // Twelve calendar days (eight business days) on, but 23:00 in New York: not at night.
    h.clock.set(new Date(start.getTime() + 12 * 86400_000 + 13 * 3600_000));
    await settleOptOutDeadlines(h.deps);
    expect(await statusOf(phone)).toBe('active');
    // The next morning: settled as an opt-out, and the confirmation goes out in daytime.
    h.clock.set(new Date(start.getTime() + 13 * 86400_000));
    await settleOptOutDeadlines(h.deps);
    await h.settle();
    expect(await statusOf(phone)).toBe('stopped');
    expect(bodies(phone).at(-1)).toMatch(/unsubscribed/);
    const q = await h.deps.db.optOutQuery.findFirstOrThrow({ where: { subscriberId: sub.id } });
    expect({ resolution: q.resolution, by: q.resolvedBy }).toEqual({
      resolution: 'opted_out',
      by: 'deadline',
    });
    h.clock.set(start);
  });

  it('someone who wrote again since is kept at the deadline', async () => {
    const start = monday();
    const { phone, sub } = await asked();
    later(1);
    await text(phone, 'YES');
    h.clock.set(new Date(start.getTime() + 13 * 86400_000));
    await settleOptOutDeadlines(h.deps);
    expect(await statusOf(phone)).toBe('active');
    const q = await h.deps.db.optOutQuery.findFirstOrThrow({ where: { subscriberId: sub.id } });
    expect(q.resolution).toBe('kept');
    h.clock.set(start);
  });

  it('someone with an open safety flag waits for an operator, but never past the day before the limit', async () => {
    const start = monday();
    const { phone, sub } = await asked();
    await h.deps.db.safetyFlag.create({
      data: { subscriberId: sub.id, category: 'abuse', matched: [], band: 'act', createdAt: start },
    });
    // Eight business days on (Thursday of the second week): waits for an operator.
    h.clock.set(new Date(start.getTime() + 10 * 86400_000));
    const r = await settleOptOutDeadlines(h.deps);
    expect(r.needOperator).toBeGreaterThanOrEqual(1);
    expect(await statusOf(phone)).toBe('active');
    const q = await h.deps.db.optOutQuery.findFirstOrThrow({ where: { subscriberId: sub.id } });
    expect(q.resolvedAt).toBeNull();
    // Nine business days on (the day before the legal limit): settled whatever is open.
    h.clock.set(new Date(start.getTime() + 15 * 86400_000));
    await settleOptOutDeadlines(h.deps);
    const settled = await h.deps.db.optOutQuery.findFirstOrThrow({ where: { id: q.id } });
    expect(settled.resolution).toBe('opted_out');
    h.clock.set(start);
  });

  it('an unconfirmed number that sounds like it wants out is simply stopped', async () => {
    const phone = await freshPhone(h.deps.db);
    await text(phone, 'JOIN');
    await text(phone, 'I never signed up for this');
    expect(await statusOf(phone)).toBe('stopped');
    expect(bodies(phone).at(-1)).toMatch(/unsubscribed/);
  });

  it('STOP, JOIN, then the opt-in lapses: a later JOIN asks again and a bare yes does nothing', async () => {
    const start = h.clock.now();
    const phone = await joined();
    await text(phone, 'STOP');
    await text(phone, 'JOIN');
    expect(await statusOf(phone)).toBe('pending');
    // Not expired early: the 48 hours run from the new JOIN.
    await expirePending(h.deps);
    expect(await statusOf(phone)).toBe('pending');
    later(3);
    await expirePending(h.deps);
    expect(await statusOf(phone)).toBe('expired');
    const before = bodies(phone).length;
    await text(phone, 'yeah');
    expect(await statusOf(phone)).toBe('expired');
    await text(phone, 'JOIN');
    expect(await statusOf(phone)).toBe('pending');
    expect(bodies(phone).slice(before)).toEqual([expect.stringMatching(/Reply YES to join/)]);
    await text(phone, 'YES');
    expect(await statusOf(phone)).toBe('active');
    h.clock.set(start);
  });

  it('the admin API lists open questions with their age (no contacts) and settles them once', async () => {
    const phone = await joined();
    await text(phone, 'how do I cancel?');
    const sub = await h.deps.db.subscriber.findFirstOrThrow({ where: { phone } });
    const [q] = (await listOptOutQueries(h.deps, { open: true })).filter(
      (x) => x.subscriberId === sub.id,
    );
    expect(q).toBeDefined();
    const auth = { authorization: `Bearer ${h.config.adminToken}` };
    const listed = await app.inject({
      method: 'GET',
      url: '/admin/api/optout-queries',
      headers: auth,
    });
    expect(listed.statusCode).toBe(200);
    const mine = (
      listed.json() as { queries: { id: string; ageBusinessDays: number }[] }
    ).queries.find((x) => x.id === q!.id);
    expect(mine?.ageBusinessDays).toBe(0);
    expect(listed.body).not.toContain(phone);
    const bad = await app.inject({
      method: 'POST',
      url: `/admin/api/optout-queries/${q!.id}`,
      headers: auth,
      payload: { resolution: 'maybe' },
    });
    expect(bad.statusCode).toBe(400);
    const kept = await app.inject({
      method: 'POST',
      url: `/admin/api/optout-queries/${q!.id}`,
      headers: auth,
      payload: { resolution: 'kept' },
    });
    expect(kept.json()).toEqual({ ok: true, resolution: 'kept' });
    await expect(resolveOptOutQuery(h.deps, q!.id, 'opted_out', 'operator:test')).rejects.toThrow(
      /already settled/,
    );
    expect(await statusOf(phone)).toBe('active');
  });
});
