// Managing endpoints: the admin API's validation (unknown event types, bad or private URLs), that
// secrets are shown once and never listed, rotation (one signature per live secret), replay,
// delete, the audit trail, and the console page with its CSRF-protected forms.
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emitEvent } from '../../src/webhooks/events.ts';
import { ownDatabase } from '../support/db.ts';
import { waitFor } from '../support/harness.ts';
import { consoleTestbed, signIn, type ConsoleTestbed } from '../admin/helpers.ts';
import { startReceiver, type Receiver } from './receiver.ts';

let t: ConsoleTestbed;
let receiver: Receiver;

beforeAll(async () => {
  // WEBHOOKS_ALLOW_PRIVATE unset: the guard is on, as in production.
  t = await consoleTestbed({ env: { DATABASE_URL: await ownDatabase('webhooks_admin') } });
  await t.deps.db.webhookEndpoint.deleteMany({});
  receiver = await startReceiver();
});
afterAll(async () => {
  await t?.close();
  await receiver?.close();
});

const api = (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object) =>
  t.app.inject({
    method,
    url,
    headers: { authorization: `Bearer ${t.config.adminToken}` },
    ...(payload ? { payload } : {}),
  });

/** The local receiver is on loopback: registering it needs WEBHOOKS_ALLOW_PRIVATE, as in tests. */
async function withPrivateAllowed<T>(fn: () => Promise<T>): Promise<T> {
  t.deps.config.webhooks.allowPrivate = true;
  try {
    return await fn();
  } finally {
    t.deps.config.webhooks.allowPrivate = false;
  }
}

describe('admin API validation', () => {
  it.each([
    [
      { url: 'https://hooks.example.com/x', events: ['message.sent', 'message.exploded'] },
      'unknown_event',
      /"message\.exploded".*known: subscriber\.enrolled/,
    ],
    [{ url: 'https://hooks.example.com/x', events: [] }, 'invalid_events', /at least one/],
    [{ url: 'not a url' }, 'invalid_url', /not a URL/],
    [{ url: 'ftp://hooks.example.com/x' }, 'invalid_url', /https/],
    [{ url: 'https://127.0.0.1/hook' }, 'invalid_url', /not a public address/],
    [{ url: 'https://[::ffff:169.254.169.254]/latest' }, 'invalid_url', /not a public address/],
    [{ url: 'http://localhost:9/hook' }, 'invalid_url', /not a public address/],
    [{ events: ['message.sent'] }, 'invalid_request', /url/],
  ])('%j -> 400 %s', async (body, error, message) => {
    const res = await api('POST', '/admin/api/webhooks', body);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error });
    expect(res.json<{ message: string }>().message).toMatch(message);
    expect(await t.deps.db.webhookEndpoint.count()).toBe(0);
  });

  it('needs the admin token', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/admin/api/webhooks',
      payload: { url: 'https://a.example.com' },
    });
    expect(res.statusCode).toBe(401);
    expect(
      (await api('DELETE', '/admin/api/webhooks/00000000-0000-4000-8000-000000000000')).statusCode,
    ).toBe(404);
  });

  it('is in the OpenAPI document', async () => {
    const doc = (await api('GET', '/admin/api/openapi.json')).json<{
      paths: Record<string, Record<string, unknown>>;
    }>();
    expect(Object.keys(doc.paths['/admin/api/webhooks']!).sort()).toEqual(['get', 'post']);
    expect(doc.paths['/admin/api/webhooks/{id}']).toHaveProperty('delete');
    expect(doc.paths['/admin/api/webhooks/{id}/secrets']).toHaveProperty('post');
    expect(doc.paths['/admin/api/webhooks/deliveries/{id}/replay']).toHaveProperty('post');
  });
});

describe('endpoints, secrets and deliveries', () => {
  it('create (all events), list without secrets, rotate, replay, delete: each audited', () =>
    // Delivery checks the address again, so the receiver on loopback needs the flag throughout.
    withPrivateAllowed(async () => {
      const created = await api('POST', '/admin/api/webhooks', { url: receiver.url });
      expect(created.statusCode).toBe(201);
      const { id, secret } = created.json<{ id: string; secret: string }>();
      const list = await api('GET', '/admin/api/webhooks');
      expect(list.body).not.toContain(secret.slice(6));
      expect(list.body).not.toMatch(/whsec_|secretEnc/);
      const ep = list.json<{ endpoints: { id: string; events: string[]; secrets: unknown[] }[] }>()
        .endpoints[0]!;
      expect(ep).toMatchObject({ id, enabled: true, includeContacts: false });
      expect(ep.events).toHaveLength(10);
      expect(ep.secrets).toHaveLength(1);

      const rotated = await api('POST', `/admin/api/webhooks/${id}/secrets`);
      expect(rotated.statusCode).toBe(201);
      const { secret: secret2, previousExpireAt } = rotated.json<{
        secret: string;
        previousExpireAt: string;
      }>();
      expect(secret2).not.toBe(secret);
      expect(new Date(previousExpireAt).getTime() - t.clock.now().getTime()).toBe(24 * 3600_000);

      // A delivery now carries both signatures; each secret verifies it.
      t.startWorkers();
      const subscriberId = crypto.randomUUID();
      await t.deps.db.$transaction((tx) =>
        emitEvent(tx, {
          type: 'subscriber.enrolled',
          subscriberId,
          at: t.clock.now(),
          data: { subscriberId },
        }),
      );
      await waitFor(() => receiver.accepted().length === 1);
      const got = receiver.accepted()[0]!;
      expect(String(got.headers['webhook-signature']).split(' ')).toHaveLength(2);
      for (const s of [secret, secret2])
        expect(() =>
          new Webhook(s).verify(got.body, got.headers as Record<string, string>),
        ).not.toThrow();

      // After the overlap only the new secret signs.
      t.clock.advance({ hours: 24, seconds: 1 });
      const deliveries = await api('GET', `/admin/api/webhooks/${id}/deliveries`);
      const [d] = deliveries.json<{ deliveries: { id: string; status: string; type: string }[] }>()
        .deliveries;
      await waitFor(
        async () =>
          (await t.deps.db.webhookDelivery.findUniqueOrThrow({ where: { id: d!.id } })).status ===
          'delivered',
      );
      const replay = await api('POST', `/admin/api/webhooks/deliveries/${d!.id}/replay`);
      expect(replay.statusCode).toBe(201);
      await waitFor(() => receiver.accepted().length === 2);
      const again = receiver.accepted()[1]!;
      expect(again.headers['webhook-id']).toBe(got.headers['webhook-id']);
      expect(String(again.headers['webhook-signature']).split(' ')).toHaveLength(1);
      expect(() =>
        new Webhook(secret2).verify(again.body, again.headers as Record<string, string>),
      ).not.toThrow();
      expect(() =>
        new Webhook(secret).verify(again.body, again.headers as Record<string, string>),
      ).toThrow();

      const del = await api('DELETE', `/admin/api/webhooks/${id}`);
      expect(del.statusCode).toBe(200);
      expect(await t.deps.db.webhookEndpoint.count({ where: { id } })).toBe(0);
      expect((await api('DELETE', `/admin/api/webhooks/${id}`)).statusCode).toBe(404);
      const actions = (
        await t.deps.db.auditEvent.findMany({
          where: { action: { startsWith: 'webhook.' } },
          orderBy: { action: 'asc' },
        })
      )
        .filter(
          (a) => a.target === id || (a.detail as { deliveryId?: string }).deliveryId === d!.id,
        )
        .map((a) => a.action);
      // By name: the fake clock stands still, so times tie.
      expect(actions).toEqual([
        'webhook.create',
        'webhook.delete',
        'webhook.replay',
        'webhook.rotate',
      ]);
    }));
});

describe('the console page', () => {
  it('lists endpoints (a red warning on includeContacts), adds, rotates, replays and deletes with CSRF', async () => {
    const op = await signIn(t);
    const empty = await op.get('/admin/webhooks');
    expect(empty.statusCode).toBe(200);
    expect(empty.body).toContain('Add an endpoint');
    expect(empty.body).not.toMatch(/<script>/);

    // A refused URL: the form again, with the reason.
    const bad = await op.post('/admin/webhooks', {
      url: 'https://10.1.2.3/x',
      events: 'message.sent',
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toMatch(/not a public address/);

    // Without the CSRF token: refused.
    expect(
      (await op.post('/admin/webhooks', { url: receiver.url }, { csrf: false })).statusCode,
    ).toBe(403);

    const added = await withPrivateAllowed(() =>
      op.post('/admin/webhooks', {
        url: `${receiver.url}?token=<b>`,
        events: 'message.sent',
        includeContacts: '1',
      }),
    );
    expect(added.statusCode).toBe(200);
    expect(added.body).toMatch(/whsec_[A-Za-z0-9+/=]+/);
    expect(added.headers['cache-control']).toBe('no-store');
    const ep = await t.deps.db.webhookEndpoint.findFirstOrThrow({
      where: { includeContacts: true },
    });

    const page = await op.get('/admin/webhooks');
    expect(page.body).toContain('class="contacts"');
    expect(page.body).toMatch(
      /class="warn"[^>]*>Warning: this endpoint receives full phone numbers/,
    );
    expect(page.body).not.toMatch(/whsec_/);
    expect(page.body).not.toContain('<b>'); // escaped
    expect(page.body).toContain('%3Cb%3E');

    const rotated = await op.post(`/admin/webhooks/${ep.id}/rotate`);
    expect(rotated.statusCode).toBe(200);
    expect(rotated.body).toMatch(/whsec_/);
    expect(await t.deps.db.webhookSecret.count({ where: { endpointId: ep.id } })).toBe(2);

    const disabled = await op.post(`/admin/webhooks/${ep.id}/disable`);
    expect(disabled.statusCode).toBe(303);
    expect(
      (await t.deps.db.webhookEndpoint.findUniqueOrThrow({ where: { id: ep.id } })).enabled,
    ).toBe(false);

    const gone = await op.post(`/admin/webhooks/${ep.id}/delete`);
    expect(gone.statusCode).toBe(303);
    expect(gone.headers.location).toBe('/admin/webhooks?done=webhook-deleted');
    expect(await t.deps.db.webhookEndpoint.count({ where: { id: ep.id } })).toBe(0);
    const missing = await op.post(`/admin/webhooks/deliveries/${ep.id}/replay`);
    expect(missing.headers.location).toBe('/admin/webhooks?failed=webhook_not_found');
    const audit = await t.deps.db.auditEvent.findMany({
      where: { target: ep.id },
      orderBy: { action: 'asc' },
    });
    expect(audit.map((a) => a.action)).toEqual([
      'webhook.create',
      'webhook.delete',
      'webhook.rotate',
      'webhook.update',
    ]);
    expect(audit.every((a) => a.actor !== 'api')).toBe(true);
  });
});
