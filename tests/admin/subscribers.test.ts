// Finding a person (exact match only, masked in lists), their timeline (messages both ways with
// status, consent, flags; inbound words only through the audited reveal) and the actions.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maskPhone } from '../../src/channels/mask.ts';
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

beforeAll(async () => {
  t = await consoleTestbed();
  op = await signIn(t);
});
afterAll(() => t?.close());

describe('subscriber search', () => {
  it('finds a person by exact phone number, in any common format, and masks it', async () => {
    const f = await flaggedSubscriber(t);
    const national = `(${f.phone.slice(2, 5)}) ${f.phone.slice(5, 8)}-${f.phone.slice(8)}`;
    for (const q of [f.phone, national]) {
      const res = await op.post('/admin/subscribers/search', { contact: q });
      expect(res.statusCode).toBe(200);
      expect(res.body).toContain(`/admin/subscribers/${f.sub.id}`);
      expect(res.body).toContain(maskPhone(f.phone));
      expect(res.body).not.toContain(f.phone);
    }
    // The search is a POST with the CSRF token: a contact never sits in a URL.
    expect(
      (await op.post('/admin/subscribers/search', { contact: f.phone }, { csrf: false }))
        .statusCode,
    ).toBe(403);
  });

  it('does not match part of a number, and says why a query is not a contact', async () => {
    const f = await flaggedSubscriber(t);
    const partial = await op.post('/admin/subscribers/search', { contact: f.phone.slice(0, 8) });
    expect(partial.body).not.toContain(`/admin/subscribers/${f.sub.id}`);
    expect(partial.body).toMatch(/not a valid phone number/);
    const email = await op.post('/admin/subscribers/search', {
      contact: 'nobody-here@example.com',
    });
    expect(email.body).toContain('No subscriber has exactly that phone number or address.');
  });

  it('lists the latest subscribers masked', async () => {
    const f = await flaggedSubscriber(t);
    const res = await op.get('/admin/subscribers');
    expect(res.body).toContain(maskPhone(f.phone));
    expect(res.body).not.toContain(f.phone);
  });
});

describe('subscriber page', () => {
  it('shows the timeline with statuses, consent and flags, and the reply only through reveal', async () => {
    const f = await flaggedSubscriber(t);
    const { db } = t.deps;
    await db.message.create({
      data: {
        subscriberId: f.sub.id,
        enrollmentId: f.enrollment.id,
        channel: 'sms',
        direction: 'out',
        kind: 'nudge',
        step: 'w1-d1',
        template: 'w1-d1',
        status: 'delivered',
        body: 'Notice one small promise you kept today.',
        sentAt: new Date(),
      },
    });
    await db.message.create({
      data: {
        subscriberId: f.sub.id,
        channel: 'sms',
        direction: 'out',
        kind: 'safety',
        template: 'safety_abuse',
        status: 'failed',
        error: 'carrier_blocked',
        body: 'Support is here.',
      },
    });
    await db.consentEvent.create({
      data: {
        subscriberId: f.sub.id,
        channel: 'sms',
        kind: 'confirm',
        source: 'sms_keyword',
        evidence: {},
        at: new Date(),
      },
    });
    const res = await op.get(`/admin/subscribers/${f.sub.id}`);
    expect(res.statusCode).toBe(200);
    for (const text of [
      'Notice one small promise you kept today.',
      'delivered',
      'failed (carrier_blocked)',
      'Consent: confirm',
      'Flag: abuse',
      '← Reply',
      maskPhone(f.phone),
    ])
      expect(res.body).toContain(text);
    expect(res.body).not.toContain('took my phone');
    expect(res.body).not.toContain(f.phone);

    const reveal = await op.inject({
      method: 'POST',
      url: `/admin/messages/${f.message.id}/reveal`,
      headers: {
        accept: 'application/json',
        'content-type': 'application/json',
        'x-csrf-token': op.csrf,
      },
      payload: '{}',
    });
    expect(reveal.json()).toEqual({ text: DISCLOSURE });
    expect(
      await db.auditEvent.count({ where: { action: 'message.reveal', target: f.message.id } }),
    ).toBe(1);
  });

  it('will not reveal an outbound message or an unknown id', async () => {
    const f = await flaggedSubscriber(t);
    const out = await t.deps.db.message.create({
      data: {
        subscriberId: f.sub.id,
        channel: 'sms',
        direction: 'out',
        kind: 'nudge',
        status: 'sent',
        body: 'x',
      },
    });
    for (const id of [out.id, '00000000-0000-0000-0000-000000000000']) {
      const res = await op.inject({
        method: 'POST',
        url: `/admin/messages/${id}/reveal`,
        headers: {
          accept: 'application/json',
          'content-type': 'application/json',
          'x-csrf-token': op.csrf,
        },
        payload: '{}',
      });
      expect(res.statusCode).toBe(404);
    }
  });

  it('pauses, resumes and stops, each audited', async () => {
    const f = await flaggedSubscriber(t);
    const { db } = t.deps;
    // On a hold, "resume" clears the hold.
    expect((await op.post(`/admin/subscribers/${f.sub.id}/resume`)).headers.location).toBe(
      `/admin/subscribers/${f.sub.id}?done=hold-cleared`,
    );
    expect((await db.enrollment.findUniqueOrThrow({ where: { id: f.enrollment.id } })).state).toBe(
      'active',
    );
    expect((await op.post(`/admin/subscribers/${f.sub.id}/pause`)).headers.location).toBe(
      `/admin/subscribers/${f.sub.id}?done=paused`,
    );
    expect((await db.enrollment.findUniqueOrThrow({ where: { id: f.enrollment.id } })).state).toBe(
      'paused',
    );
    expect((await op.post(`/admin/subscribers/${f.sub.id}/pause`)).headers.location).toBe(
      `/admin/subscribers/${f.sub.id}?failed=not_active`,
    );
    expect((await op.post(`/admin/subscribers/${f.sub.id}/resume`)).headers.location).toBe(
      `/admin/subscribers/${f.sub.id}?done=resumed`,
    );
    expect((await op.post(`/admin/subscribers/${f.sub.id}/stop`)).headers.location).toBe(
      `/admin/subscribers/${f.sub.id}?done=stopped`,
    );
    expect((await db.subscriber.findUniqueOrThrow({ where: { id: f.sub.id } })).status).toBe(
      'stopped',
    );
    const actions = (
      await db.auditEvent.findMany({ where: { target: f.sub.id }, orderBy: { at: 'asc' } })
    ).map((a) => a.action);
    expect(actions).toEqual([
      'subscriber.clear-hold',
      'subscriber.pause',
      'subscriber.resume',
      'subscriber.stop',
    ]);
    const page = await op.get(`/admin/subscribers/${f.sub.id}?done=stopped`);
    expect(page.body).toContain('Subscriber stopped');
  });

  it('erases a person and keeps a suppression entry', async () => {
    const f = await flaggedSubscriber(t);
    const res = await op.post(`/admin/subscribers/${f.sub.id}/erase`);
    expect(res.headers.location).toBe('/admin/subscribers?done=erased');
    expect(await t.deps.db.subscriber.count({ where: { id: f.sub.id } })).toBe(0);
    expect(await t.deps.db.message.count({ where: { id: f.message.id } })).toBe(0);
    expect(
      await t.deps.db.auditEvent.count({
        where: { action: 'subscriber.erase', actor: { startsWith: 'console:' } },
      }),
    ).toBeGreaterThan(0);
    expect((await op.get(`/admin/subscribers/${f.sub.id}`)).statusCode).toBe(404);
  });
});
