// The safety review and the reveal: flags are listed without the person's words or full contact;
// the words appear only through an audited POST, which logs who looked and never what it said;
// acknowledge, clear-hold and stop each change state and leave an audit event. Open items sort by
// risk; "Mark safe" / "Mark danger" record a decision, and danger on an `ask` acts at once.
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maskPhone } from '../../src/channels/mask.ts';
import { sendJobId } from '../../src/queues.ts';
import { createLog } from '../../src/log.ts';
import {
  consoleTestbed,
  DISCLOSURE,
  flaggedSubscriber,
  signIn,
  type ConsoleTestbed,
  type Operator,
} from './helpers.ts';

let t: ConsoleTestbed;
let op: Operator;
const logLines: string[] = [];

beforeAll(async () => {
  t = await consoleTestbed({ env: { OPERATOR_EMAIL: 'duty@example.com' } });
  t.deps.log = createLog(
    'info',
    new Writable({ write: (chunk, _enc, done) => (logLines.push(String(chunk)), done()) }),
  );
  op = await signIn(t);
});
afterAll(() => t?.close());

describe('safety review page', () => {
  it('lists an open flag with category, time, channel and masked contact, but not the words', async () => {
    const f = await flaggedSubscriber(t);
    const res = await op.get('/admin');
    expect(res.statusCode).toBe(200);
    const card = res.body.slice(res.body.indexOf(`id="flag-${f.flag.id}"`) - 60);
    expect(card).toContain('Abuse or control');
    expect(card).toContain(maskPhone(f.phone));
    expect(card).toContain('by sms');
    expect(card).toContain(`datetime="${f.flag.createdAt.toISOString()}"`);
    expect(res.body).not.toContain(f.phone);
    expect(res.body).not.toContain('took my phone');
    expect(res.body).toContain(`action="/admin/flags/${f.flag.id}/reveal"`);
  });

  it('reveals the reply only on a POST with the CSRF token, audited and logged without the text', async () => {
    const f = await flaggedSubscriber(t);
    const refused = await op.inject({
      method: 'POST',
      url: `/admin/flags/${f.flag.id}/reveal`,
      headers: { accept: 'application/json', 'content-type': 'application/json' },
      payload: '{}',
    });
    expect(refused.statusCode).toBe(403);
    expect(
      await t.deps.db.auditEvent.count({ where: { action: 'flag.reveal', target: f.flag.id } }),
    ).toBe(0);

    const res = await op.inject({
      method: 'POST',
      url: `/admin/flags/${f.flag.id}/reveal`,
      headers: {
        accept: 'application/json',
        'content-type': 'application/json',
        'x-csrf-token': op.csrf,
      },
      payload: '{}',
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ text: DISCLOSURE, why: [] });
    expect(res.headers['cache-control']).toBe('no-store');
    const audit = await t.deps.db.auditEvent.findFirst({
      where: { action: 'flag.reveal', target: f.flag.id },
    });
    expect(audit?.actor).toMatch(/^console:/);
    expect(audit?.detail).toMatchObject({ messageId: f.message.id, subscriberId: f.sub.id });
    const line = logLines.find((l) => l.includes(f.message.id) && l.includes('revealed'));
    expect(line).toBeDefined();
    expect(JSON.parse(line!).level).toBe(30); // info
    expect(logLines.join('')).not.toContain('took my phone');
    expect(logLines.join('')).not.toContain(f.phone);
  });

  it('still reveals from a plain form post (no script), as a page', async () => {
    const f = await flaggedSubscriber(t, 'ça me fait peur — il me surveille');
    const res = await op.post(`/admin/flags/${f.flag.id}/reveal`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.body).toContain('ça me fait peur — il me surveille');
  });

  it('acknowledges a flag with a note', async () => {
    const f = await flaggedSubscriber(t);
    const res = await op.post(`/admin/flags/${f.flag.id}/acknowledge`, {
      note: 'Called back, safe for now',
    });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/admin?done=acknowledged');
    const flag = await t.deps.db.safetyFlag.findUniqueOrThrow({ where: { id: f.flag.id } });
    expect(flag).toMatchObject({ status: 'acknowledged', note: 'Called back, safe for now' });
    expect(flag.acknowledgedAt).not.toBeNull();
    expect(
      await t.deps.db.auditEvent.count({
        where: { action: 'flag.acknowledge', target: f.flag.id },
      }),
    ).toBe(1);
    // The hold stays: acknowledging is not resuming.
    expect(
      (await t.deps.db.enrollment.findUniqueOrThrow({ where: { id: f.enrollment.id } })).state,
    ).toBe('safety_hold');
    const page = await op.get('/admin?done=acknowledged');
    expect(page.body).toContain('Flag acknowledged.');
    expect(page.body).not.toContain(`id="flag-${f.flag.id}"`);
  });

  it('clears the hold (the program resumes, open flags close)', async () => {
    const f = await flaggedSubscriber(t);
    const res = await op.post(`/admin/flags/${f.flag.id}/clear-hold`, { note: 'reviewed' });
    expect(res.headers.location).toBe('/admin?done=hold-cleared');
    expect(
      (await t.deps.db.enrollment.findUniqueOrThrow({ where: { id: f.enrollment.id } })).state,
    ).toBe('active');
    expect(
      (await t.deps.db.safetyFlag.findUniqueOrThrow({ where: { id: f.flag.id } })).status,
    ).toBe('cleared');
    expect(
      await t.deps.db.auditEvent.count({
        where: { action: 'subscriber.clear-hold', target: f.sub.id },
      }),
    ).toBe(1);
    // A second time there is no hold: the operator is told so.
    const again = await op.post(`/admin/flags/${f.flag.id}/clear-hold`);
    expect(again.headers.location).toBe('/admin?failed=not_paused');
    expect((await op.get('/admin?failed=not_paused')).body).toContain(
      'neither paused nor on a safety hold',
    );
  });

  it('stops the subscriber and closes the flag', async () => {
    const f = await flaggedSubscriber(t);
    const res = await op.post(`/admin/flags/${f.flag.id}/stop`, {
      note: 'asked us to stop by phone',
    });
    expect(res.headers.location).toBe('/admin?done=stopped');
    expect((await t.deps.db.subscriber.findUniqueOrThrow({ where: { id: f.sub.id } })).status).toBe(
      'stopped',
    );
    const flag = await t.deps.db.safetyFlag.findUniqueOrThrow({ where: { id: f.flag.id } });
    expect(flag.status).toBe('acknowledged');
    expect(flag.note).toBe('Stopped. asked us to stop by phone');
    expect(
      await t.deps.db.auditEvent.count({ where: { action: 'subscriber.stop', target: f.sub.id } }),
    ).toBe(1);
    const consent = await t.deps.db.consentEvent.findFirst({
      where: { subscriberId: f.sub.id, kind: 'opt_out' },
    });
    expect(consent?.source).toBe('operator');
  });

  it('answers 404 for an unknown flag or action', async () => {
    expect(
      (await op.post('/admin/flags/00000000-0000-0000-0000-000000000000/acknowledge')).statusCode,
    ).toBe(404);
    expect((await op.post('/admin/flags/not-a-uuid/reveal')).statusCode).toBe(404);
  });
});

/** The card of one flag: from its heading to the end of its article. */
const cardOf = (html: string, flagId: string) => {
  const start = html.lastIndexOf('<article', html.indexOf(`id="flag-${flagId}"`));
  return start < 0 ? '' : html.slice(start, html.indexOf('</article>', start));
};

describe('review bands and risk', () => {
  it('lists open items highest risk first, each with its band badge and risk', async () => {
    const low = await flaggedSubscriber(t, 'it was a lot this week', { band: 'ask', risk: 0.851 });
    const high = await flaggedSubscriber(t, DISCLOSURE, { band: 'act', risk: 0.996 });
    const mid = await flaggedSubscriber(t, 'he gets so angry', { band: 'ask', risk: 0.873 });
    const res = await op.get('/admin');
    const at = (id: string) => res.body.indexOf(`id="flag-${id}"`);
    expect(at(high.flag.id)).toBeGreaterThan(0);
    expect(at(high.flag.id)).toBeLessThan(at(mid.flag.id));
    expect(at(mid.flag.id)).toBeLessThan(at(low.flag.id));

    const act = cardOf(res.body, high.flag.id);
    expect(act).toContain('class="badge band-act">Acted</span>');
    expect(act).toContain('risk <strong>100%</strong>');
    const ask = cardOf(res.body, mid.flag.id);
    expect(ask).toContain('class="badge band-ask">Asked</span>');
    expect(ask).not.toContain('Acted');
    expect(ask).toContain('risk <strong>87%</strong>');
    expect(ask).toContain('Matched: abuse:threat');
    expect(ask).toContain(`formaction="/admin/flags/${mid.flag.id}/safe"`);
    expect(ask).toContain(`formaction="/admin/flags/${mid.flag.id}/danger"`);
    expect(res.body).toContain('<strong>Asked</strong>: the signs were unclear');
  });

  it('shows "why" only through the audited reveal, never on the page', async () => {
    const why = ['phrase: "took my phone"', 'rule abuse:threat'];
    const f = await flaggedSubscriber(t, DISCLOSURE, { band: 'ask', risk: 0.7, why });
    const page = await op.get('/admin');
    expect(cardOf(page.body, f.flag.id)).toContain('Why it was flagged is shown with the reply.');
    expect(page.body).not.toContain('rule abuse:threat');

    const json = await op.inject({
      method: 'POST',
      url: `/admin/flags/${f.flag.id}/reveal`,
      headers: {
        accept: 'application/json',
        'content-type': 'application/json',
        'x-csrf-token': op.csrf,
      },
      payload: '{}',
    });
    expect(json.statusCode).toBe(200);
    expect(json.json()).toEqual({ text: DISCLOSURE, why });
    expect(
      await t.deps.db.auditEvent.count({ where: { action: 'flag.reveal', target: f.flag.id } }),
    ).toBe(1);
    expect(logLines.join('')).not.toContain('rule abuse:threat');

    const html = await op.post(`/admin/flags/${f.flag.id}/reveal`);
    expect(html.body).toContain(
      '<li>phrase: &quot;took my phone&quot;</li><li>rule abuse:threat</li>',
    );
  });

  it('refuses to reveal when the reasons cannot be decrypted, and records nothing', async () => {
    const f = await flaggedSubscriber(t, DISCLOSURE, { band: 'ask', risk: 0.6 });
    await t.deps.db.safetyFlag.update({
      where: { id: f.flag.id },
      data: { whyEnc: 'v1.gone.AAAA.AAAA.AAAA' },
    });
    const res = await op.inject({
      method: 'POST',
      url: `/admin/flags/${f.flag.id}/reveal`,
      headers: {
        accept: 'application/json',
        'content-type': 'application/json',
        'x-csrf-token': op.csrf,
      },
      payload: '{}',
    });
    expect(res.statusCode).toBe(500);
    expect(res.body).not.toContain('took my phone');
    expect(
      await t.deps.db.auditEvent.count({ where: { action: 'flag.reveal', target: f.flag.id } }),
    ).toBe(0);
  });
});

describe('review decisions', () => {
  it.each([
    // band, enrollment state, decision -> notice, band after, state after, safety messages
    ['act', 'safety_hold', 'safe', 'marked-safe', 'act', 'safety_hold', 0],
    ['ask', 'active', 'safe', 'marked-safe', 'ask', 'active', 0],
    ['act', 'safety_hold', 'danger', 'marked-danger', 'act', 'safety_hold', 0],
    ['ask', 'active', 'danger', 'escalated', 'act', 'safety_hold', 1],
    ['ask', 'paused', 'danger', 'escalated', 'act', 'safety_hold', 1],
  ] as const)(
    '%s flag, enrollment %s, marked %s -> %s, band %s, enrollment %s, %i safety message(s)',
    async (band, state, decision, notice, bandAfter, stateAfter, messages) => {
      const f = await flaggedSubscriber(t, DISCLOSURE, { band, state, risk: 0.5 });
      const res = await op.post(`/admin/flags/${f.flag.id}/${decision}`, { note: 'read it twice' });
      expect(res.statusCode).toBe(303);
      expect(res.headers.location).toBe(`/admin?done=${notice}`);

      const flag = await t.deps.db.safetyFlag.findUniqueOrThrow({ where: { id: f.flag.id } });
      expect(flag).toMatchObject({
        decision,
        band: bandAfter,
        status: 'acknowledged',
        note: 'read it twice',
      });
      expect(flag.decidedAt).toEqual(t.clock.now());
      expect(flag.decidedBy).toMatch(/^console:/);
      const enrollment = await t.deps.db.enrollment.findUniqueOrThrow({
        where: { id: f.enrollment.id },
      });
      expect(enrollment.state).toBe(stateAfter);
      const sent = await t.deps.db.message.findMany({
        where: { subscriberId: f.sub.id, direction: 'out', kind: 'safety' },
      });
      expect(sent).toHaveLength(messages);

      const audit = await t.deps.db.auditEvent.findMany({
        where: { action: 'flag.decide', target: f.flag.id },
      });
      expect(audit).toHaveLength(1);
      expect(audit[0]!.actor).toBe(flag.decidedBy);
      expect(audit[0]!.detail).toEqual({ decision, band: bandAfter, note: 'read it twice' });

      // Decided: off the open list, and a second decision changes nothing.
      expect((await op.get('/admin')).body).not.toContain(`id="flag-${f.flag.id}"`);
      const again = await op.post(
        `/admin/flags/${f.flag.id}/${decision === 'safe' ? 'danger' : 'safe'}`,
      );
      expect(again.headers.location).toBe('/admin?failed=already_decided');
      expect(
        (await t.deps.db.safetyFlag.findUniqueOrThrow({ where: { id: f.flag.id } })).decision,
      ).toBe(decision);
      expect(
        await t.deps.db.auditEvent.count({ where: { action: 'flag.decide', target: f.flag.id } }),
      ).toBe(1);
    },
  );

  it('danger on an ask flag queues the safety message on the priority lane, alerts operators and delivers', async () => {
    const f = await flaggedSubscriber(t, DISCLOSURE, {
      band: 'ask',
      category: 'self_harm',
      risk: 0.4,
    });
    const alertsBefore = t.email.sent.length;
    const res = await op.post(`/admin/flags/${f.flag.id}/danger`);
    expect(res.headers.location).toBe('/admin?done=escalated');

    const m = await t.deps.db.message.findFirstOrThrow({
      where: { subscriberId: f.sub.id, direction: 'out', kind: 'safety' },
    });
    expect(m).toMatchObject({
      template: 'safety_self_harm',
      channel: 'sms',
      lane: 'priority',
      status: 'queued',
      enrollmentId: f.enrollment.id,
      dedupeKey: `review-${f.flag.id}-safety_self_harm`,
    });
    expect(await t.deps.queues.priority.getJob(sendJobId(m.id))).toBeTruthy();

    const alerts = t.email.sent.slice(alertsBefore);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ to: 'duty@example.com', kind: 'operator_alert' });
    expect(alerts[0]!.text).toContain('self_harm');
    expect(alerts[0]!.text).toContain(maskPhone(f.phone));
    expect(alerts[0]!.text).not.toContain(f.phone);
    expect(alerts[0]!.text).not.toContain('took my phone');

    // The worker path: the person on hold still gets the safety message.
    t.startWorkers();
    await t.settle();
    const delivered = t.smsTo(f.phone);
    expect(delivered).toHaveLength(1);
    expect(delivered[0]!.body).toContain("You're not alone");
    expect((await t.deps.db.message.findUniqueOrThrow({ where: { id: m.id } })).status).not.toBe(
      'suppressed',
    );
  });

  it('danger on an ask flag of a stopped person holds and alerts but sends nothing', async () => {
    const f = await flaggedSubscriber(t, DISCLOSURE, { band: 'ask', risk: 0.4 });
    await t.deps.db.subscriber.update({ where: { id: f.sub.id }, data: { status: 'stopped' } });
    const res = await op.post(`/admin/flags/${f.flag.id}/danger`);
    expect(res.headers.location).toBe('/admin?done=escalated');
    expect(
      await t.deps.db.message.count({ where: { subscriberId: f.sub.id, direction: 'out' } }),
    ).toBe(0);
    expect((await t.deps.db.safetyFlag.findUniqueOrThrow({ where: { id: f.flag.id } })).band).toBe(
      'act',
    );
  });

  it('refuses a decision without the CSRF token', async () => {
    const f = await flaggedSubscriber(t, DISCLOSURE, { band: 'ask', risk: 0.4 });
    const res = await op.post(`/admin/flags/${f.flag.id}/danger`, {}, { csrf: false });
    expect(res.statusCode).toBe(403);
    const flag = await t.deps.db.safetyFlag.findUniqueOrThrow({ where: { id: f.flag.id } });
    expect(flag).toMatchObject({ decision: null, band: 'ask', status: 'open' });
  });
});
