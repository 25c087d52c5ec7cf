// The safety review and the reveal: flags are listed without the person's words or full contact;
// the words appear only through an audited POST, which logs who looked and never what it said;
// acknowledge, clear-hold and stop each change state and leave an audit event.
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maskPhone } from '../../src/channels/mask.ts';
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
  t = await consoleTestbed();
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
    expect(res.json()).toEqual({ text: DISCLOSURE });
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
