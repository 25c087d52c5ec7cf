// Who looked at whom: every console page and admin API answer that shows a person's contact
// details leaves an audit event naming the operator, the subscriber, the route and the time, never
// the contact itself; lists leave one event per request naming the subscribers shown.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maskPhone } from '../../src/channels/mask.ts';
import { eraseContact } from '../../src/flows/erase.ts';
import { API_ACTOR } from '../../src/http/admin/read-audit.ts';
import {
  consoleTestbed,
  flaggedSubscriber,
  freshIp,
  signIn,
  type ConsoleTestbed,
  type Operator,
} from './helpers.ts';

let t: ConsoleTestbed;
let op: Operator;
let actor: string;

beforeAll(async () => {
  t = await consoleTestbed();
  op = await signIn(t);
  // The session's actor, as its sign-in recorded it (the address is this operator's own).
  actor = (
    await t.deps.db.auditEvent.findFirstOrThrow({
      where: { action: 'console.sign_in', detail: { path: ['ip'], equals: op.ip } },
      orderBy: { at: 'desc' },
    })
  ).actor;
  expect(actor).toMatch(/^console:/);
});
afterAll(() => t?.close());

/** A mark before a test's requests: the time (less a margin for clock skew between this process
 * and PostgreSQL) and the events already written by then, which are not this test's. */
interface Mark {
  at: Date;
  before: Set<string>;
}
async function since(): Promise<Mark> {
  const at = new Date(Date.now() - 5000);
  const rows = await t.deps.db.auditEvent.findMany({
    where: { at: { gte: at } },
    select: { id: true },
  });
  return { at, before: new Set(rows.map((r) => r.id)) };
}

async function eventsFor(action: string, from: Mark, where: Record<string, unknown> = {}) {
  const rows = await t.deps.db.auditEvent.findMany({
    where: { action, at: { gte: from.at }, ...where },
    orderBy: { at: 'asc' },
  });
  return rows.filter((r) => !from.before.has(r.id));
}

/** No audit row written in this test holds the person's contact, whole or in part. */
async function noContactIn(from: Mark, phone: string) {
  const rows = await t.deps.db.auditEvent.findMany({ where: { at: { gte: from.at } } });
  const text = JSON.stringify(rows);
  expect(text).not.toContain(phone);
  expect(text).not.toContain(phone.slice(2));
  expect(text).not.toContain(maskPhone(phone));
}

describe('console', () => {
  it('viewing a subscriber page adds one audit event: operator, subscriber, route, time', async () => {
    const f = await flaggedSubscriber(t);
    const from = await since();
    const res = await op.get(`/admin/subscribers/${f.sub.id}`);
    expect(res.statusCode).toBe(200);
    const rows = await eventsFor('contact.view', from, { target: f.sub.id });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      actor,
      target: f.sub.id,
      detail: { subscriberId: f.sub.id, route: 'GET /admin/subscribers/:id' },
    });
    expect(Math.abs(rows[0]!.at.getTime() - Date.now())).toBeLessThan(60_000);
    // A second view is a second event; an unknown id shows nothing and records nothing.
    await op.get(`/admin/subscribers/${f.sub.id}`);
    expect(await eventsFor('contact.view', from, { target: f.sub.id })).toHaveLength(2);
    const unknown = '00000000-0000-4000-8000-000000000000';
    expect((await op.get(`/admin/subscribers/${unknown}`)).statusCode).toBe(404);
    expect(await eventsFor('contact.view', from, { target: unknown })).toHaveLength(0);
    await noContactIn(from, f.phone);
  });

  it('"Show contact" reveals the whole contact with the CSRF token, audited as contact.reveal', async () => {
    const f = await flaggedSubscriber(t);
    const from = await since();
    const page = await op.get(`/admin/subscribers/${f.sub.id}`);
    expect(page.body).toContain(`action="/admin/subscribers/${f.sub.id}/contact"`);
    expect(page.body).not.toContain(f.phone);
    const url = `/admin/subscribers/${f.sub.id}/contact`;
    expect((await op.post(url, {}, { csrf: false })).statusCode).toBe(403);
    expect(await eventsFor('contact.reveal', from)).toHaveLength(0);
    const json = await op.inject({
      method: 'POST',
      url,
      headers: {
        accept: 'application/json',
        'content-type': 'application/json',
        'x-csrf-token': op.csrf,
      },
      payload: '{}',
    });
    expect(json.statusCode).toBe(200);
    expect(json.json()).toEqual({ text: f.phone });
    expect(json.headers['cache-control']).toBe('no-store');
    const html = await op.post(url);
    expect(html.statusCode).toBe(200);
    expect(html.body).toContain(f.phone);
    const rows = await eventsFor('contact.reveal', from, { target: f.sub.id });
    expect(rows).toHaveLength(2);
    for (const row of rows)
      expect(row).toMatchObject({
        actor,
        detail: { subscriberId: f.sub.id, route: 'POST /admin/subscribers/:id/contact' },
      });
    await noContactIn(from, f.phone);
  });

  it('the subscriber list and a search leave one event each, naming the subscribers shown', async () => {
    const f = await flaggedSubscriber(t);
    const from = await since();
    await op.post('/admin/subscribers/search', { contact: f.phone });
    const search = await eventsFor('contact.list', from, { actor });
    expect(search).toHaveLength(1);
    expect(search[0]).toMatchObject({
      target: 'POST /admin/subscribers/search',
      detail: {
        route: 'POST /admin/subscribers/search',
        subscriberIds: [f.sub.id],
        shown: 1,
        truncated: false,
      },
    });
    // A search that finds nobody showed nobody: nothing to record.
    await op.post('/admin/subscribers/search', { contact: 'nobody-at-all@example.com' });
    expect(await eventsFor('contact.list', from, { actor })).toHaveLength(1);

    const list = await op.get('/admin/subscribers');
    const shown = [...list.body.matchAll(/href="\/admin\/subscribers\/([0-9a-f-]{36})"/g)].map(
      (m) => m[1],
    );
    const rows = await eventsFor('contact.list', from, { actor, target: 'GET /admin/subscribers' });
    expect(rows).toHaveLength(1);
    const detail = rows[0]!.detail as { subscriberIds: string[]; shown: number };
    expect(new Set(detail.subscriberIds)).toEqual(new Set(shown));
    expect(detail.shown).toBe(shown.length);
    await noContactIn(from, f.phone);
  });

  it('the safety review page leaves one event naming the people on its cards and rows', async () => {
    const f = await flaggedSubscriber(t, undefined, { risk: 0.999 });
    const from = await since();
    const page = await op.get('/admin');
    expect(page.statusCode).toBe(200);
    const rows = await eventsFor('contact.list', from, { actor, target: 'GET /admin' });
    expect(rows).toHaveLength(1);
    const detail = rows[0]!.detail as { subscriberIds: string[]; shown: number; route: string };
    expect(detail.route).toBe('GET /admin');
    expect(detail.subscriberIds).toContain(f.sub.id);
    expect(detail.shown).toBe(detail.subscriberIds.length);
    await noContactIn(from, f.phone);
  });
});

describe('admin API', () => {
  const api = (url: string) =>
    t.app.inject({
      method: 'GET',
      url,
      headers: { authorization: `Bearer ${t.config.adminToken}`, 'x-forwarded-for': freshIp() },
    });

  it('a lookup by contact and a read by id each add an audit event by the API token', async () => {
    const f = await flaggedSubscriber(t);
    const from = await since();
    const byPhone = await api(`/admin/api/subscribers?phone=${encodeURIComponent(f.phone)}`);
    expect(byPhone.statusCode).toBe(200);
    expect(byPhone.json()).toMatchObject({ id: f.sub.id, phone: f.phone });
    const byId = await api(`/admin/api/subscribers/${f.sub.id}`);
    expect(byId.statusCode).toBe(200);
    const rows = await eventsFor('contact.view', from, { target: f.sub.id });
    expect(rows.map((r) => [r.actor, (r.detail as { route: string }).route])).toEqual([
      [API_ACTOR, 'GET /admin/api/subscribers'],
      [API_ACTOR, 'GET /admin/api/subscribers/:id'],
    ]);
    for (const r of rows) expect(r.detail).toMatchObject({ subscriberId: f.sub.id });
    // Answers that show nobody record nothing.
    expect((await api('/admin/api/subscribers?phone=%2B12025550000')).statusCode).toBe(404);
    expect(
      (await api('/admin/api/subscribers/00000000-0000-4000-8000-000000000000')).statusCode,
    ).toBe(404);
    expect(await eventsFor('contact.view', from, { target: f.sub.id })).toHaveLength(2);
    expect(
      await eventsFor('contact.view', from, { target: '00000000-0000-4000-8000-000000000000' }),
    ).toHaveLength(0);
    await noContactIn(from, f.phone);
  });

  it('API actions are recorded under the same actor', async () => {
    const f = await flaggedSubscriber(t);
    const res = await t.app.inject({
      method: 'POST',
      url: `/admin/api/subscribers/${f.sub.id}/stop`,
      headers: { authorization: `Bearer ${t.config.adminToken}`, 'x-forwarded-for': freshIp() },
    });
    expect(res.statusCode).toBe(200);
    const row = await t.deps.db.auditEvent.findFirstOrThrow({
      where: { action: 'subscriber.stop', target: f.sub.id },
    });
    expect(row.actor).toBe(API_ACTOR);
  });
});

describe('erasure reaches the list events too', () => {
  it("an erased person's id in a contact.list event becomes a keyed hash; the others stay", async () => {
    const f = await flaggedSubscriber(t);
    const other = await flaggedSubscriber(t);
    const from = await since();
    await op.post('/admin/subscribers/search', { contact: f.phone });
    await op.post('/admin/subscribers/search', { contact: other.phone });
    const [mine, theirs] = await eventsFor('contact.list', from, { actor });
    expect(mine?.detail).toMatchObject({ subscriberIds: [f.sub.id] });
    await eraseContact(t.deps, { phone: f.phone }, 'operator:test');
    const after = await t.deps.db.auditEvent.findUniqueOrThrow({ where: { id: mine!.id } });
    const ids = (after.detail as { subscriberIds: string[] }).subscriberIds;
    expect(ids).toHaveLength(1);
    expect(ids[0]).not.toBe(f.sub.id);
    expect(JSON.stringify(after)).not.toContain(f.sub.id);
    const untouched = await t.deps.db.auditEvent.findUniqueOrThrow({ where: { id: theirs!.id } });
    expect(untouched.detail).toMatchObject({ subscriberIds: [other.sub.id] });
  });
});
