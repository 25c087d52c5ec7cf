// The SMS subscription end to end through the signed Twilio webhook: opt-in, carrier keywords,
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
// replays, bad signatures, unknown and premium-rate numbers, check-in replies and safety.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signTwilioRequest } from '../../src/channels/twilio-webhook.ts';
import { claimDueSteps } from '../../src/flows/claim-due.ts';
import { buildApp } from '../../src/http/app.ts';
import { metrics } from '../../src/metrics.ts';
import { freshPhone, ownDatabase } from '../support/db.ts';
import { harness, waitFor, type Harness } from '../support/harness.ts';
import { postToTwilioWebhook } from '../support/twilio-post.ts';

let h: Harness;
let app: FastifyInstance;
let sid = 0;

beforeAll(async () => {
  h = await harness({
    start: '2026-05-04T14:00:00Z',
    env: { DATABASE_URL: await ownDatabase('sms_inbound') },
  }); // Monday 10:00 in New York
  app = await buildApp(h.deps);
});
afterAll(async () => {
  await app?.close();
  await h?.close();
});

function form(params: Record<string, string>) {
  return new URLSearchParams(params).toString();
}

async function text(
  from: string,
  body: string,
  opts: { messageSid?: string; signature?: string | null } = {},
) {
  const params = {
    MessageSid:
      opts.messageSid ?? `SM${Date.now().toString(16)}${(sid++).toString().padStart(8, '0')}test`,
    From: from,
    To: '+12025550100',
    Body: body,
  };
  const res = await postToTwilioWebhook(
    app,
    h.config,
    '/webhooks/twilio/sms',
    params,
    opts.signature,
  );
  // Done when the workers have read the reply (if it was recorded) and sent every answer.
  const row = await h.deps.db.message.findFirst({
    where: { providerId: params.MessageSid, direction: 'in' },
  });
  if (row)
    await waitFor(async () => {
      const m = await h.deps.db.message.findUnique({ where: { id: row.id } });
      return !m || m.processedAt;
    });
  await h.settle();
  return res;
}

const sentTo = (phone: string) => h.smsTo(phone);
const templatesTo = async (phone: string) => {
  const sub = await h.deps.db.subscriber.findFirst({ where: { phone } });
  const rows = await h.deps.db.message.findMany({
    where: {
      direction: 'out',
      status: 'sent',
      OR: [{ subscriberId: sub?.id ?? '00000000-0000-0000-0000-000000000000' }, { toAddr: phone }],
    },
    // The fake clock stands still within a test, so order by when each was really sent.
    orderBy: { updatedAt: 'asc' },
  });
  return rows.map((r) => r.template);
};

async function joined(): Promise<string> {
  const phone = await freshPhone(h.deps.db);
  await text(phone, 'JOIN');
  await text(phone, 'YES');
  return phone;
}

describe('opt-in', () => {
  it('JOIN creates a pending subscriber and sends the confirmation; YES confirms and welcomes', async () => {
    const phone = await freshPhone(h.deps.db);
    const res = await text(phone, 'JOIN');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('xml');
    expect(res.body).toContain('<Response');
    const pending = await h.deps.db.subscriber.findFirstOrThrow({ where: { phone } });
    expect(pending.status).toBe('pending');
    expect(await templatesTo(phone)).toEqual(['optin_confirm']);
    const confirm = sentTo(phone)[0]!.body;
    expect(confirm).toMatch(/STOP/);
    expect(confirm).toMatch(/HELP/);
    expect(confirm).toMatch(/Msg & data rates may apply/i);

    await text(phone, 'yes');
    const sub = await h.deps.db.subscriber.findFirstOrThrow({
      where: { phone },
      include: { consents: true, enrollments: true },
    });
    expect(sub.status).toBe('active');
    expect(sub.enrollments[0]!.state).toBe('active');
    const confirmEvent = sub.consents.find((c) => c.kind === 'confirm')!;
    expect(confirmEvent.source).toBe('sms_keyword');
    expect(confirmEvent.evidence).toMatchObject({ intent: 'yes' });
    expect(await templatesTo(phone)).toEqual(['optin_confirm', 'welcome']);
  });

  it('a second JOIN within a day does not send a second confirmation', async () => {
    const phone = await freshPhone(h.deps.db);
    await text(phone, 'JOIN');
    await text(phone, 'join');
    expect(await templatesTo(phone)).toEqual(['optin_confirm']);
  });

  it('any other text from an unknown number gets one how-to-join reply a day, and no subscriber', async () => {
    const phone = await freshPhone(h.deps.db);
    await text(phone, 'hello? who is this');
    await text(phone, 'hello again');
    expect(await templatesTo(phone)).toEqual(['how_to_join']);
    expect(await h.deps.db.subscriber.count({ where: { phone } })).toBe(0);
  });
});

describe('abuse caps', () => {
  it('the hourly cap on new pending numbers ignores JOINs past it and counts them', async () => {
    // A program hour of its own, far from the other tests', so only this test's rows count.
    const capped = await harness({
      start: '2031-02-03T15:00:00Z',
      env: { DATABASE_URL: await ownDatabase('sms_inbound'), PENDING_CAP_PER_HOUR: '2' },
    });
    const cappedApp = await buildApp(capped.deps);
    try {
      await capped.deps.db.subscriber.deleteMany({
        where: {
          status: 'pending',
          createdAt: {
            gte: new Date('2031-02-03T14:00:00Z'),
            lte: new Date('2031-02-03T16:00:00Z'),
          },
        },
      });
      const phones = [
        await freshPhone(capped.deps.db),
        await freshPhone(capped.deps.db),
        await freshPhone(capped.deps.db),
      ];
      const before = metrics.get('steady_signup_cap_hits_total', { cap: 'pending_per_hour' });
      for (const phone of phones) {
        const params = {
          MessageSid: `SM${randomBytes(16).toString('hex')}`,
          From: phone,
          To: '+12025550100',
          Body: 'JOIN',
        };
        await cappedApp.inject({
          method: 'POST',
          url: '/webhooks/twilio/sms',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            'x-twilio-signature': signTwilioRequest(
              capped.config.sms.authToken,
              `${capped.config.publicUrl}/webhooks/twilio/sms`,
              params,
            ),
          },
          payload: form(params),
        });
        await capped.settle();
      }
      const created = await capped.deps.db.subscriber.count({ where: { phone: { in: phones } } });
      expect(created).toBe(2);
      expect(metrics.get('steady_signup_cap_hits_total', { cap: 'pending_per_hour' })).toBe(
        before + 1,
      );
    } finally {
      await cappedApp.close();
      await capped.close();
    }
  });
});

describe('webhook security and input', () => {
  it('a bad or missing signature is refused with 403 and records nothing', async () => {
    const phone = await freshPhone(h.deps.db);
    const before = await h.deps.db.message.count();
    expect((await text(phone, 'JOIN', { signature: 'bm90IGEgc2lnbmF0dXJl' })).statusCode).toBe(403);
    expect((await text(phone, 'JOIN', { signature: null })).statusCode).toBe(403);
    expect(await h.deps.db.message.count({ where: { fromAddr: phone } })).toBe(0);
    expect(await h.deps.db.subscriber.count({ where: { phone } })).toBe(0);
    expect(await h.deps.db.message.count()).toBeGreaterThanOrEqual(before);
  });

  it('a replayed MessageSid is processed once', async () => {
    const phone = await freshPhone(h.deps.db);
    const messageSid = `SM${randomBytes(16).toString('hex')}`;
    await text(phone, 'JOIN', { messageSid });
    await text(phone, 'JOIN', { messageSid });
    await text(phone, 'JOIN', { messageSid });
    expect(await h.deps.db.message.count({ where: { direction: 'in', fromAddr: phone } })).toBe(1);
    expect(await templatesTo(phone)).toEqual(['optin_confirm']);
  });

  it('a premium-rate number is ignored silently: empty TwiML, nothing recorded', async () => {
    const res = await text('+19005550123', 'JOIN');
    expect(res.statusCode).toBe(200);
    expect(await h.deps.db.message.count({ where: { fromAddr: '+19005550123' } })).toBe(0);
  });
});

describe('carrier keywords', () => {
  it('STOP opts out at once, confirms once, and nothing else is sent until START', async () => {
    const phone = await joined();
    await text(phone, 'Stop.');
    const sub = await h.deps.db.subscriber.findFirstOrThrow({
      where: { phone },
      include: { enrollments: true },
    });
    expect(sub.status).toBe('stopped');
    expect(sub.enrollments[0]!.state).toBe('stopped');
    expect((await templatesTo(phone)).filter((t) => t === 'stop_confirm')).toHaveLength(1);
    await text(phone, 'STOP');
    await text(phone, 'how are you');
    h.clock.advance({ days: 3 });
    await claimDueSteps(h.deps);
    await h.settle();
    expect((await templatesTo(phone)).slice(-1)).toEqual(['stop_confirm']);

    await text(phone, 'START');
    const again = await h.deps.db.subscriber.findFirstOrThrow({
      where: { phone },
      include: { consents: true },
    });
    expect(again.status).toBe('active');
    expect(again.consents.some((c) => c.kind === 'resubscribe')).toBe(true);
    expect((await templatesTo(phone)).slice(-1)).toEqual(['start_confirm']);
  });

  it.each([
    'STOPALL',
    'unsubscribe',
    'CANCEL',
    'end',
    'QUIT',
    'revoke',
    'OPTOUT',
    'stop texting me',
    'PARAR',
    'baja',
  ])('"%s" opts out', async (word) => {
    const phone = await joined();
    await text(phone, word);
    expect((await h.deps.db.subscriber.findFirstOrThrow({ where: { phone } })).status).toBe(
      'stopped',
    );
  });

  it('HELP answers the help text; "help. he\'s outside" is not the keyword and is flagged', async () => {
    const phone = await joined();
    await text(phone, 'HELP');
    expect((await templatesTo(phone)).slice(-1)).toEqual(['help']);
    await text(phone, "help. he's outside");
    const sub = await h.deps.db.subscriber.findFirstOrThrow({
      where: { phone },
      include: { flags: true, enrollments: true },
    });
    expect((await templatesTo(phone)).slice(-1)).not.toEqual(['help']);
    expect(sub.flags.length).toBeGreaterThanOrEqual(1);
  });

  it('PAUSE 7 pauses for a week; RESUME resumes', async () => {
    const phone = await joined();
    await text(phone, 'PAUSE 7');
    let e = (
      await h.deps.db.subscriber.findFirstOrThrow({
        where: { phone },
        include: { enrollments: true },
      })
    ).enrollments[0]!;
    expect(e.state).toBe('paused');
    expect(e.pausedUntil!.getTime() - h.clock.now().getTime()).toBe(7 * 86400_000);
    await text(phone, 'resume');
    e = (
      await h.deps.db.subscriber.findFirstOrThrow({
        where: { phone },
        include: { enrollments: true },
      })
    ).enrollments[0]!;
    expect(e.state).toBe('active');
    expect((await templatesTo(phone)).slice(-2)).toEqual(['pause_days_confirm', 'resume_confirm']);
  });
});

describe('replies and safety', () => {
  async function openCheckin(phone: string) {
    // The number's area code may be Pacific or Hawaii, where the harness clock is quiet hours:
    // pin the zone so the check-in goes out now instead of being deferred.
    await h.deps.db.subscriber.updateMany({
      where: { phone },
      data: { timezone: 'America/New_York' },
    });
    const sub = await h.deps.db.subscriber.findFirstOrThrow({
      where: { phone },
      include: { enrollments: true },
    });
    const checkinStep = h.deps.programs.default.steps.find((s) => s.kind === 'checkin')!;
    await h.deps.db.enrollment.update({
      where: { id: sub.enrollments[0]!.id },
      data: { nextStep: checkinStep.key, nextRunAt: h.clock.now(), lastSentDay: null },
    });
    await claimDueSteps(h.deps);
    await h.settle();
    return sub;
  }

  it('a rating answers the open check-in with an acknowledgement that fits it', async () => {
    const phone = await joined();
    const sub = await openCheckin(phone);
    await text(phone, '4');
    const c = await h.deps.db.checkin.findFirstOrThrow({
      where: { enrollmentId: sub.enrollments[0]!.id },
    });
    expect(c.rating).toBe(4);
    expect(c.answeredAt).not.toBeNull();
    expect((await templatesTo(phone)).slice(-1)).toEqual(['ack_high']);
  });

  it('a disclosure is flagged, the program held, and the safety message sent at once, even in quiet hours', async () => {
    const phone = await joined();
    await openCheckin(phone);
    // Forward to the next 23:30 in New York (03:30 UTC in May): quiet hours.
    const late = new Date(h.clock.now());
    late.setUTCHours(3, 30, 0, 0);
    if (late <= h.clock.now()) late.setUTCDate(late.getUTCDate() + 1);
    h.clock.set(late);
    await text(phone, "2. he took my phone again and said he'd hurt me if I text you");
    const sub = await h.deps.db.subscriber.findFirstOrThrow({
      where: { phone },
      include: { flags: true, enrollments: true },
    });
    expect(sub.flags.map((f) => f.category)).toContain('abuse');
    expect(sub.enrollments[0]!.state).toBe('safety_hold');
    expect((await templatesTo(phone)).slice(-1)).toEqual(['safety_abuse']);
    const safety = sentTo(phone).slice(-1)[0]!.body;
    expect(safety).not.toMatch(/phone again|hurt me/i); // never repeats the disclosure
    expect(safety).toMatch(/1-800-799-7233|88788/);
    expect(safety).toMatch(/STOP/);
    // The reply text is stored only encrypted.
    const inbound = await h.deps.db.message.findFirstOrThrow({
      where: { direction: 'in', subscriberId: sub.id },
      orderBy: { createdAt: 'desc' },
    });
    expect(inbound.body).toBeNull();
    expect(inbound.bodyEnc).not.toContain('phone');
    // No more nudges while held; a second disclosure the same day gets no second safety message.
    h.clock.advance({ days: 2 });
    await claimDueSteps(h.deps);
    await text(phone, 'he hit me');
    expect((await templatesTo(phone)).filter((t) => t === 'safety_abuse')).toHaveLength(2); // 2 days later: a new day
    await text(phone, 'he hit me again');
    expect((await templatesTo(phone)).filter((t) => t === 'safety_abuse')).toHaveLength(2);
    expect((await templatesTo(phone)).filter((t) => t !== null && /^w\d/.test(t)).length).toBe(1); // only the check-in
  });

  it('self-harm gets the crisis line; RESUME lifts a safety hold', async () => {
    const phone = await joined();
    await text(phone, 'honestly i want to kill myself');
    expect((await templatesTo(phone)).slice(-1)).toEqual(['safety_self_harm']);
    expect(sentTo(phone).slice(-1)[0]!.body).toMatch(/988/);
    await text(phone, 'RESUME');
    const e = (
      await h.deps.db.subscriber.findFirstOrThrow({
        where: { phone },
        include: { enrollments: true },
      })
    ).enrollments[0]!;
    expect(e.state).toBe('active');
  });
});

describe('settings and operator alerts', () => {
  it('TIME and TZ keywords move the next step to the new local time and confirm it', async () => {
    const phone = await joined();
    await text(phone, 'TIME 7pm');
    let sub = await h.deps.db.subscriber.findFirstOrThrow({
      where: { phone },
      include: { enrollments: true },
    });
    expect(sub.preferredHour).toBe(19);
    const at = sub.enrollments[0]!.nextRunAt!;
    expect(
      at.toLocaleString('en-US', { timeZone: sub.timezone, hour: 'numeric', hourCycle: 'h23' }),
    ).toBe('19');
    await text(phone, 'TZ Pacific');
    sub = await h.deps.db.subscriber.findFirstOrThrow({
      where: { phone },
      include: { enrollments: true },
    });
    expect(sub.timezone).toBe('America/Los_Angeles');
    expect(
      sub.enrollments[0]!.nextRunAt!.toLocaleString('en-US', {
        timeZone: 'America/Los_Angeles',
        hour: 'numeric',
        hourCycle: 'h23',
      }),
    ).toBe('19');
    expect((await templatesTo(phone)).slice(-2)).toEqual(['settings_confirm', 'settings_confirm']);
    expect(sentTo(phone).slice(-2)[0]!.body).toContain('19:00');
  });

  it('a disclosure alerts operators by webhook with masked data, never the words', async () => {
    const received: string[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push(body);
        res.end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    const alerted = await harness({
      env: {
        DATABASE_URL: await ownDatabase('sms_inbound'),
        OPERATOR_WEBHOOK_URL: `http://127.0.0.1:${port}/hook`,
      },
    });
    const alertApp = await buildApp(alerted.deps);
    try {
      const phone = await freshPhone(alerted.deps.db);
      const params = {
        MessageSid: `SM${randomBytes(16).toString('hex')}`,
        From: phone,
        To: '+12025550100',
        Body: 'he threatened to take the kids if i leave',
      };
      await alertApp.inject({
        method: 'POST',
        url: '/webhooks/twilio/sms',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-twilio-signature': signTwilioRequest(
            alerted.config.sms.authToken,
            `${alerted.config.publicUrl}/webhooks/twilio/sms`,
            params,
          ),
        },
        payload: form(params),
      });
      await alerted.settle();
      expect(received).toHaveLength(1);
      const alert = JSON.parse(received[0]!);
      expect(alert).toMatchObject({ type: 'safety_flag', categories: ['abuse'], channel: 'sms' });
      expect(received[0]).not.toContain(phone);
      expect(received[0]).not.toMatch(/kids|threatened/);
      expect(alert.contact).toMatch(/\*\*\*/);
    } finally {
      await alertApp.close();
      await alerted.close();
      server.close();
    }
  });
});
