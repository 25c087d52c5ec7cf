// The API contract (src/http/api-schemas.ts): `npm run --silent cli -- openapi` prints an OpenAPI
// 3.1 document that a validator accepts, it covers every route of the admin JSON API, the sign-up
// and the webhooks the app registers, and real answers from the running app (every documented
// operation, success and refusals) validate against the response schemas it states.
import { spawnSync } from 'node:child_process';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signTwilioRequest } from '../../src/channels/twilio-webhook.ts';
import { CHECKIN_COLUMNS } from '../../src/core/export-format.ts';
import { API, openApiDocument, openApiPath } from '../../src/http/api-schemas.ts';
import { signInboundBody } from '../../src/http/email-inbound.ts';
import { SIGNUP_LIMITS } from '../../src/http/email-signup.ts';
import { GUESS_LIMIT } from '../../src/http/admin/guess-limit.ts';
import {
  consoleTestbed,
  flaggedSubscriber,
  freshIp,
  type ConsoleTestbed,
} from '../admin/helpers.ts';
import { freshEmail } from '../support/db.ts';
import { listRoutes } from '../support/routes.ts';

// ajv-formats is CommonJS: its default export is the plugin itself, or under `default`.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ??
  addFormatsModule) as unknown as (ajv: Ajv2020) => Ajv2020;

const INBOUND_SECRET = 'openapi-inbound-secret-0123456789';

interface MediaType {
  schema: Record<string, unknown>;
}
interface Operation {
  operationId: string;
  parameters?: { name: string; in: string; required: boolean; schema: Record<string, unknown> }[];
  requestBody?: { content: Record<string, MediaType> };
  responses: Record<
    string,
    { description: string; headers?: Record<string, unknown>; content?: Record<string, MediaType> }
  >;
}
interface Doc {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
}

/** Exactly what a person gets: the npm script, quiet, with no configuration at all. */
function printedDocument(): { code: number | null; out: string; err: string } {
  const r = spawnSync('npm', ['run', '--silent', 'cli', '--', 'openapi'], {
    cwd: process.cwd(),
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const ajv = addFormats(new Ajv2020({ strict: true, allErrors: true }));
const compiled = new Map<object, ValidateFunction>();
function validator(schema: Record<string, unknown>): ValidateFunction {
  let v = compiled.get(schema);
  if (!v) compiled.set(schema, (v = ajv.compile(schema)));
  return v;
}

const doc = openApiDocument() as unknown as Doc;

function operationOf(method: string, url: string): Operation {
  const op = doc.paths[openApiPath(url)]?.[method.toLowerCase()];
  if (!op) throw new Error(`${method} ${url} is not in the document`);
  return op;
}

describe('the OpenAPI document', () => {
  it('`npm run --silent cli -- openapi` prints it, and a validator accepts it as OpenAPI 3.1', async () => {
    const r = printedDocument();
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const printed = JSON.parse(r.out) as Doc;
    expect(printed).toEqual(doc);
    expect(printed.openapi).toMatch(/^3\.1\./);

    const result = await new Validator().validate(printed as unknown as Record<string, unknown>);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);

    // A validator that accepts anything would prove nothing: a broken document is refused.
    const broken = structuredClone(printed) as unknown as Record<string, unknown>;
    (broken.paths as Record<string, unknown>)['/subscribe'] = { post: { responses: 'none' } };
    expect((await new Validator().validate(broken)).valid).toBe(false);
  });

  it('every schema in it is valid JSON Schema 2020-12 (strict)', () => {
    let n = 0;
    for (const ops of Object.values(doc.paths))
      for (const op of Object.values(ops)) {
        const schemas = [
          ...(op.parameters ?? []).map((p) => p.schema),
          ...Object.values(op.requestBody?.content ?? {}).map((m) => m.schema),
          ...Object.values(op.responses).flatMap((r) =>
            Object.values(r.content ?? {}).map((m) => m.schema),
          ),
        ];
        for (const s of schemas) {
          expect(() => validator(s), JSON.stringify(s).slice(0, 200)).not.toThrow();
          n++;
        }
      }
    expect(n).toBeGreaterThan(40);
  });
});

describe('the running app against the document', () => {
  let t: ConsoleTestbed;
  const auth = () => ({
    authorization: `Bearer ${t.config.adminToken}`,
    'x-forwarded-for': freshIp(),
  });
  /** Operation id -> the statuses of real answers checked against it. */
  const seen = new Map<string, Set<number>>();

  beforeAll(async () => {
    t = await consoleTestbed({ env: { INBOUND_EMAIL_SECRET: INBOUND_SECRET } });
  });
  afterAll(async () => t?.close());

  /** Sends a request, then checks its answer against the document: the status is documented for
   * that operation, with the body's media type, and the body validates against its schema. */
  async function call(
    method: 'GET' | 'POST' | 'DELETE',
    template: string,
    opts: Omit<InjectOptions, 'method'> & { url: string },
  ): Promise<LightMyRequestResponse> {
    const op = operationOf(method, template);
    const res = await t.app.inject({ method, ...opts });
    // The route's pattern, not the URL: a failure message never shows a contact.
    const where = `${method} ${template} -> ${res.statusCode}`;
    const spec = op.responses[String(res.statusCode)];
    expect(spec, `${where}: status not documented`).toBeDefined();
    for (const name of Object.keys(spec!.headers ?? {}))
      expect(res.headers[name.toLowerCase()], `${where}: header ${name}`).toBeDefined();
    if (!spec!.content) {
      expect(res.body, where).toBe('');
    } else {
      const type = String(res.headers['content-type'] ?? '')
        .split(';')[0]!
        .trim();
      const media = spec!.content[type];
      expect(media, `${where}: ${type} not documented`).toBeDefined();
      const data: unknown = type === 'application/json' ? res.json() : res.body;
      const validate = validator(media!.schema);
      expect(validate(data), `${where}: ${ajv.errorsText(validate.errors)}`).toBe(true);
    }
    const statuses = seen.get(op.operationId) ?? new Set<number>();
    statuses.add(res.statusCode);
    seen.set(op.operationId, statuses);
    return res;
  }

  /** A request body is what the document asks for. */
  function expectRequestValid(method: string, template: string, type: string, body: unknown) {
    const media = operationOf(method, template).requestBody?.content[type];
    expect(media, `${method} ${template} takes ${type}`).toBeDefined();
    const validate = validator(media!.schema);
    expect(validate(body), ajv.errorsText(validate.errors)).toBe(true);
  }

  it('covers every admin API, sign-up and webhook route the app registers, and no other', () => {
    const ours = (url: string) =>
      url.startsWith('/admin/api/') || url === '/subscribe' || url.startsWith('/webhooks/');
    const registered = listRoutes(t.app)
      .filter((r) => ours(r.url))
      .flatMap((r) =>
        r.methods.filter((m) => m !== 'HEAD').map((m) => `${m} ${openApiPath(r.url)}`),
      );
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(new Set(registered)).toEqual(new Set(documented));
    for (const must of [
      'GET /admin/api/subscribers',
      'GET /admin/api/subscribers/{id}',
      'POST /admin/api/subscribers/{id}/{action}',
      'GET /admin/api/optout-queries',
      'POST /admin/api/optout-queries/{id}',
      'GET /admin/api/openapi.json',
      'POST /subscribe',
      'POST /webhooks/twilio/sms',
      'POST /webhooks/twilio/status',
      'POST /webhooks/email/inbound',
    ])
      expect(documented).toContain(must);
  });

  it('the admin API: lookups, actions, opt-out questions and refusals match the document', async () => {
    const f = await flaggedSubscriber(t);
    // Rows of every kind the answer lists: a consent event and an outbound message too.
    await t.deps.db.consentEvent.create({
      data: {
        subscriberId: f.sub.id,
        channel: 'sms',
        kind: 'opt_in',
        source: 'sms_keyword',
        evidence: {},
        at: new Date(),
      },
    });
    const out = await t.deps.db.message.create({
      data: {
        subscriberId: f.sub.id,
        enrollmentId: f.enrollment.id,
        channel: 'sms',
        direction: 'out',
        kind: 'nudge',
        step: 'w1-d1',
        template: 'w1-d1',
        status: 'sent',
        body: 'A small step for today.',
        toAddr: f.phone,
        sentAt: new Date(),
      },
    });

    const byPhone = await call('GET', API.listSubscribers.url, {
      url: `/admin/api/subscribers?phone=${encodeURIComponent(f.phone)}`,
      headers: auth(),
    });
    expect(byPhone.statusCode).toBe(200);
    const view = byPhone.json() as {
      id: string;
      enrollments: unknown[];
      flags: unknown[];
      consents: unknown[];
      messages: { id: string; direction: string; body?: string }[];
    };
    expect(view.id).toBe(f.sub.id);
    expect([view.enrollments.length, view.flags.length, view.consents.length]).toEqual([1, 1, 1]);
    expect(view.messages.find((m) => m.id === out.id)?.body).toBe('A small step for today.');
    // The reply is the person's own: never in the answer, whatever the schema says.
    expect(view.messages.find((m) => m.direction === 'in')).toBeDefined();
    expect(view.messages.find((m) => m.direction === 'in')?.body).toBeUndefined();

    // The same answer with a field removed does not validate: the check can fail.
    const schema = operationOf('GET', API.listSubscribers.url).responses['200']!.content![
      'application/json'
    ]!.schema;
    const { timezone: _tz, ...missing } = byPhone.json() as Record<string, unknown>;
    expect(validator(schema)(missing)).toBe(false);
    expect(validator(schema)({ ...(byPhone.json() as object), createdAt: 'yesterday' })).toBe(
      false,
    );

    for (const [url, status, error] of [
      ['/admin/api/subscribers?email=someone', 400, 'invalid_email'],
      ['/admin/api/subscribers?phone=12', 400, 'invalid_phone'],
      ['/admin/api/subscribers', 400, 'missing_query'],
      ['/admin/api/subscribers?phone=a&phone=b', 400, 'invalid_request'],
      ['/admin/api/subscribers?email=a%00b%40example.com', 400, 'invalid_characters'],
      ['/admin/api/subscribers?phone=%2B12025550000', 404, 'not_found'],
    ] as const) {
      const res = await call('GET', API.listSubscribers.url, { url, headers: auth() });
      expect([res.statusCode, res.json().error], url).toEqual([status, error]);
    }
    const unauthorized = await call('GET', API.listSubscribers.url, {
      url: '/admin/api/subscribers',
    });
    expect(unauthorized.statusCode).toBe(401);
    // Wrong tokens from one client: 401 each, then 429 with Retry-After.
    const ip = freshIp();
    let last: LightMyRequestResponse | undefined;
    for (let i = 0; i <= GUESS_LIMIT.attempts; i++)
      last = await call('GET', API.listSubscribers.url, {
        url: '/admin/api/subscribers?phone=%2B12025550123',
        headers: { authorization: 'Bearer not-the-token', 'x-forwarded-for': ip },
      });
    expect(last?.statusCode).toBe(429);

    const byId = await call('GET', API.getSubscriber.url, {
      url: `/admin/api/subscribers/${f.sub.id}`,
      headers: auth(),
    });
    expect(byId.json()).toEqual(byPhone.json());
    expect(
      (
        await call('GET', API.getSubscriber.url, {
          url: '/admin/api/subscribers/not-an-id',
          headers: auth(),
        })
      ).statusCode,
    ).toBe(404);

    const action = (name: string, id = f.sub.id) =>
      call('POST', API.subscriberAction.url, {
        url: `/admin/api/subscribers/${id}/${name}`,
        headers: auth(),
      });
    expect((await action('clear-hold')).json()).toEqual({ ok: true, state: 'active' });
    expect((await action('pause')).json()).toEqual({ ok: true, state: 'paused' });
    const again = await action('pause');
    expect([again.statusCode, again.json().error]).toEqual([409, 'not_active']);
    const unknown = await action('delete');
    expect(unknown.json()).toEqual({
      error: 'unknown_action',
      message: 'Actions: pause, resume, stop, clear-hold',
    });
    expect(unknown.statusCode).toBe(404);
    expect((await action('stop', '3f2a1c9e-0000-4000-8000-000000000000')).statusCode).toBe(404);
    expect((await action('resume')).json()).toEqual({ ok: true, state: 'active' });
  });

  it('the admin API: opt-out questions and the document itself', async () => {
    const f = await flaggedSubscriber(t, 'how do I cancel?', { band: 'ask' });
    const q = await t.deps.db.optOutQuery.create({
      data: {
        subscriberId: f.sub.id,
        messageId: f.message.id,
        channel: 'sms',
        rule: 'how_to_cancel',
        createdAt: new Date(),
      },
    });
    const open = await call('GET', API.listOptOutQueries.url, {
      url: '/admin/api/optout-queries',
      headers: auth(),
    });
    const mine = (open.json() as { queries: { id: string }[] }).queries.find((x) => x.id === q.id);
    expect(mine).toMatchObject({ id: q.id, subscriberStatus: 'active', ageBusinessDays: 0 });
    expect(open.body).not.toContain(f.phone);
    expect(
      (
        await call('GET', API.listOptOutQueries.url, {
          url: '/admin/api/optout-queries?status=whenever',
          headers: auth(),
        })
      ).statusCode,
    ).toBe(400);

    const resolve = (id: string, payload: unknown) =>
      call('POST', API.resolveOptOutQuery.url, {
        url: `/admin/api/optout-queries/${id}`,
        headers: auth(),
        payload: payload as InjectOptions['payload'],
      });
    const bad = await resolve(q.id, { resolution: 'maybe' });
    expect([bad.statusCode, bad.json().error]).toEqual([400, 'bad_resolution']);
    expect((await resolve(q.id, undefined)).json().error).toBe('bad_resolution');
    expectRequestValid('POST', API.resolveOptOutQuery.url, 'application/json', {
      resolution: 'kept',
    });
    expect((await resolve(q.id, { resolution: 'kept' })).json()).toEqual({
      ok: true,
      resolution: 'kept',
    });
    expect((await resolve(q.id, { resolution: 'kept' })).statusCode).toBe(409);
    expect(
      (await resolve('3f2a1c9e-0000-4000-8000-000000000000', { resolution: 'kept' })).statusCode,
    ).toBe(404);

    const served = await call('GET', API.openApi.url, {
      url: '/admin/api/openapi.json',
      headers: auth(),
    });
    expect(served.json()).toEqual(doc);
    expect(
      (await call('GET', API.openApi.url, { url: '/admin/api/openapi.json' })).statusCode,
    ).toBe(401);
  });

  it("the admin API: an operator's message and its refusals match the document", async () => {
    const f = await flaggedSubscriber(t, 'thanks', { band: 'ask' });
    const send = (payload: unknown, id = f.sub.id) =>
      call('POST', API.sendMessage.url, {
        url: `/admin/api/subscribers/${id}/messages`,
        headers: auth(),
        payload: payload as InjectOptions['payload'],
      });
    const body = { channel: 'sms', text: 'Hello from the team', idempotencyKey: 'openapi-0001' };
    expectRequestValid('POST', API.sendMessage.url, 'application/json', body);
    const sent = await send(body);
    expect(sent.statusCode).toBe(202);
    expect(sent.json()).toMatchObject({ ok: true, created: true, segments: 1 });
    expect((await send({ channel: 'sms', text: ' ' })).json().error).toBe('empty_text');
    expect((await send({ channel: 'fax', text: 'x' })).json().error).toBe('bad_message');
    expect((await send({ channel: 'email', text: 'x' })).statusCode).toBe(409);
    expect((await send(body, '3f2a1c9e-0000-4000-8000-000000000000')).statusCode).toBe(404);
  });

  it('the admin API: the check-in export and its refusals match the document', async () => {
    const csv = await call('GET', API.exportCheckins.url, {
      url: '/admin/api/export/checkins?format=csv&since=2099-01-01',
      headers: auth(),
    });
    expect(csv.statusCode).toBe(200);
    expect(csv.body).toBe(`${CHECKIN_COLUMNS.join(',')}\r\n`);
    const jsonl = await call('GET', API.exportCheckins.url, {
      url: '/admin/api/export/checkins?format=jsonl&since=2099-01-01',
      headers: auth(),
    });
    expect([jsonl.statusCode, jsonl.body]).toEqual([200, '']);
    for (const [url, error] of [
      ['/admin/api/export/checkins?format=xml', 'invalid_request'],
      ['/admin/api/export/checkins?format=csv&since=someday', 'invalid_since'],
      ['/admin/api/export/checkins?format=csv&program=no-such-program', 'unknown_program'],
    ] as const) {
      const res = await call('GET', API.exportCheckins.url, { url, headers: auth() });
      expect([res.statusCode, res.json().error], url).toEqual([400, error]);
    }
  });

  it('the admin API: figures per program match the document', async () => {
    const ok = await call('GET', API.programStats.url, {
      url: API.programStats.url,
      headers: auth(),
    });
    expect(ok.statusCode).toBe(200);
    const keys = (ok.json() as { programs: { program: string }[] }).programs.map((p) => p.program);
    expect(keys).toEqual(t.deps.programs.all().map((p) => p.key));
    const refused = await call('GET', API.programStats.url, { url: API.programStats.url });
    expect(refused.statusCode).toBe(401);
  });

  it('POST /subscribe: JSON and form answers match the document', async () => {
    const ip = freshIp();
    const json = (body: unknown, from = ip) =>
      call('POST', API.subscribe.url, {
        url: '/subscribe',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': from },
        payload: JSON.stringify(body),
      });
    const good = { email: freshEmail('openapi'), timezone: 'America/Chicago', firstName: 'Sam' };
    expectRequestValid('POST', API.subscribe.url, 'application/json', good);
    const ok = await json(good);
    expect(ok.json()).toEqual({ ok: true });
    const bad = await json({ email: 'nope' });
    expect(bad.json()).toMatchObject({ error: 'invalid_email', field: 'email' });
    expect(bad.statusCode).toBe(400);
    const nul = await json({ email: 'a\u0000b@example.com' });
    expect([nul.statusCode, nul.json().error]).toEqual([400, 'invalid_characters']);

    const form = (fields: Record<string, string>) =>
      call('POST', API.subscribe.url, {
        url: '/subscribe',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-forwarded-for': freshIp(),
        },
        payload: new URLSearchParams(fields).toString(),
      });
    const fields = { email: freshEmail('openapi-form'), timezone: 'Europe/London' };
    expectRequestValid('POST', API.subscribe.url, 'application/x-www-form-urlencoded', fields);
    expect((await form(fields)).statusCode).toBe(200);
    expect((await form({ email: 'x' })).statusCode).toBe(400);

    // Past the per-client limit: 429 with Retry-After and retryAfter in the JSON.
    let last: LightMyRequestResponse | undefined;
    for (let i = 0; i < SIGNUP_LIMITS.perIp.limit; i++) last = await json({ email: 'nope' });
    expect(last?.statusCode).toBe(429);
    expect(typeof last?.json().retryAfter).toBe('number');
  });

  it('the Twilio webhooks: TwiML, empty and text answers match the document', async () => {
    const f = await flaggedSubscriber(t);
    const post = (
      template: string,
      url: string,
      params: Record<string, string>,
      opts: { sign?: boolean; type?: string } = {},
    ) =>
      call('POST', template, {
        url,
        headers: {
          'content-type': opts.type ?? 'application/x-www-form-urlencoded',
          'x-forwarded-for': freshIp(),
          ...(opts.sign === false
            ? {}
            : {
                'x-twilio-signature': signTwilioRequest(
                  t.config.sms.authToken,
                  t.config.publicUrl + url,
                  params,
                ),
              }),
        },
        payload:
          opts.type === 'application/json'
            ? JSON.stringify(params)
            : new URLSearchParams(params).toString(),
      });
    const sms = {
      MessageSid: `SM${Date.now().toString(16)}`.padEnd(34, '0'),
      AccountSid: t.config.sms.accountSid ?? 'AC'.padEnd(34, '0'),
      From: f.phone,
      To: '+12025550100',
      Body: 'rough week',
      NumMedia: '0',
      FromCity: 'WASHINGTON',
    };
    expectRequestValid('POST', API.twilioSms.url, 'application/x-www-form-urlencoded', sms);
    const answered = await post(API.twilioSms.url, '/webhooks/twilio/sms', sms);
    expect(answered.statusCode).toBe(200);
    expect(answered.body).toContain('<Response');
    expect(
      (await post(API.twilioSms.url, '/webhooks/twilio/sms', sms, { sign: false })).statusCode,
    ).toBe(403);
    expect(
      (await post(API.twilioSms.url, '/webhooks/twilio/sms', sms, { type: 'application/json' }))
        .statusCode,
    ).toBe(400);
    const controls = await post(API.twilioSms.url, '/webhooks/twilio/sms', {
      ...sms,
      To: '+1202555\u00000100',
    });
    expect(controls.statusCode).toBe(400);

    const out = await t.deps.db.message.create({
      data: {
        subscriberId: f.sub.id,
        channel: 'sms',
        direction: 'out',
        kind: 'nudge',
        status: 'sent',
        providerId: `SM${Date.now().toString(16)}f`.padEnd(34, '0'),
        toAddr: f.phone,
      },
    });
    const status = {
      MessageSid: out.providerId!,
      MessageStatus: 'delivered',
      AccountSid: sms.AccountSid,
      To: f.phone,
      From: '+12025550100',
    };
    const url = `/webhooks/twilio/status?m=${out.id}`;
    expectRequestValid('POST', API.twilioStatus.url, 'application/x-www-form-urlencoded', status);
    expect((await post(API.twilioStatus.url, url, status)).statusCode).toBe(204);
    expect((await t.deps.db.message.findUniqueOrThrow({ where: { id: out.id } })).status).toBe(
      'delivered',
    );
    expect((await post(API.twilioStatus.url, url, status, { sign: false })).statusCode).toBe(403);
  });

  it('the inbound email webhook: JSON answers match the document', async () => {
    const post = (body: unknown, signature?: string) => {
      const raw = JSON.stringify(body);
      return call('POST', API.emailInbound.url, {
        url: '/webhooks/email/inbound',
        headers: {
          'content-type': 'application/json',
          'x-forwarded-for': freshIp(),
          'x-steady-signature': signature ?? signInboundBody(INBOUND_SECRET, raw),
        },
        payload: raw,
      });
    };
    const body = {
      from: 'Someone <someone@example.org>',
      to: [`reply+${'0'.repeat(32)}.${'0'.repeat(20)}@${t.config.email.replyDomain}`],
      subject: 'Re: hello',
      text: '4\n\n> quoted',
      messageId: `<openapi-${Date.now()}@example.org>`,
    };
    expectRequestValid('POST', API.emailInbound.url, 'application/json', body);
    const accepted = await post(body);
    expect(accepted.json()).toEqual({ ok: true });
    expect((await post(body, 'sha256=' + '0'.repeat(64))).statusCode).toBe(401);
    expect((await post({ from: 'x@example.org' })).statusCode).toBe(400);
  });

  it('the event webhook routes: JSON answers match the document', async () => {
    const admin = (
      method: 'GET' | 'POST' | 'DELETE',
      template: string,
      url: string,
      payload?: object,
      headers: Record<string, string> = auth(),
    ) => call(method, template, { url, headers, ...(payload ? { payload } : {}) });
    const noAuth = { 'x-forwarded-for': freshIp() };
    const missing = '00000000-0000-4000-8000-000000000000';
    const body = { url: 'http://127.0.0.1:9/hook', events: ['enrollment.completed'] };
    expectRequestValid('POST', API.createWebhook.url, 'application/json', body);
    expect(
      (
        await admin('POST', API.createWebhook.url, API.createWebhook.url, {
          ...body,
          events: ['nope'],
        })
      ).statusCode,
    ).toBe(400);
    // The endpoint is on loopback (allowed as WEBHOOKS_ALLOW_PRIVATE=1 would), and disabled at
    // once: it shares the database with files running beside this one.
    t.deps.config.webhooks.allowPrivate = true;
    const created = await admin('POST', API.createWebhook.url, API.createWebhook.url, body);
    t.deps.config.webhooks.allowPrivate = false;
    expect(created.statusCode).toBe(201);
    const { id } = created.json<{ id: string }>();
    const one = (c: { url: string }, value: string) => c.url.replace(':id', value);
    expect(
      (await admin('POST', API.updateWebhook.url, one(API.updateWebhook, id), { enabled: false }))
        .statusCode,
    ).toBe(200);
    expect(
      (
        await admin('POST', API.updateWebhook.url, one(API.updateWebhook, missing), {
          enabled: true,
        })
      ).statusCode,
    ).toBe(404);
    expect((await admin('GET', API.listWebhooks.url, API.listWebhooks.url)).statusCode).toBe(200);
    expect(
      (await admin('GET', API.listWebhooks.url, API.listWebhooks.url, undefined, noAuth))
        .statusCode,
    ).toBe(401);
    expect(
      (await admin('POST', API.rotateWebhookSecret.url, one(API.rotateWebhookSecret, id)))
        .statusCode,
    ).toBe(201);
    expect(
      (await admin('POST', API.rotateWebhookSecret.url, one(API.rotateWebhookSecret, missing)))
        .statusCode,
    ).toBe(404);
    const event = await t.deps.db.webhookEvent.create({
      data: {
        id: `evt_openapi${Date.now()}`,
        type: 'enrollment.completed',
        payload: {},
        createdAt: t.clock.now(),
      },
    });
    const delivery = await t.deps.db.webhookDelivery.create({
      data: { eventId: event.id, endpointId: id, orderKey: event.id, createdAt: t.clock.now() },
    });
    expect(
      (await admin('GET', API.listWebhookDeliveries.url, one(API.listWebhookDeliveries, id)))
        .statusCode,
    ).toBe(200);
    expect(
      (
        await admin(
          'GET',
          API.listWebhookDeliveries.url,
          one(API.listWebhookDeliveries, id),
          undefined,
          noAuth,
        )
      ).statusCode,
    ).toBe(401);
    expect(
      (
        await admin(
          'POST',
          API.replayWebhookDelivery.url,
          one(API.replayWebhookDelivery, delivery.id),
        )
      ).statusCode,
    ).toBe(201);
    expect(
      (await admin('POST', API.replayWebhookDelivery.url, one(API.replayWebhookDelivery, missing)))
        .statusCode,
    ).toBe(404);
    expect(
      (await admin('DELETE', API.deleteWebhook.url, one(API.deleteWebhook, id))).statusCode,
    ).toBe(200);
    expect(
      (await admin('DELETE', API.deleteWebhook.url, one(API.deleteWebhook, id))).statusCode,
    ).toBe(404);
    await t.deps.db.webhookEvent.delete({ where: { id: event.id } });
  });

  it('experiments: the report, and ending a variant once', async () => {
    // The real content's experiment (a step with variants), in this harness's own program copy.
    const program = t.deps.programs.default;
    const step = program.steps.find(
      (s) =>
        Object.keys(program.locales[program.defaultLocale]?.variants?.sms[s.key] ?? {}).length > 1,
    );
    expect(step, 'messages/ has no step with variants').toBeDefined();
    const list = API.listExperiments.url;
    expect((await call('GET', list, { url: list, headers: auth() })).statusCode).toBe(200);
    expect(
      (await call('GET', list, { url: `${list}?program=nope`, headers: auth() })).statusCode,
    ).toBe(404);
    const end = API.endExperimentVariant.url;
    const payload = { program: program.key, step: step!.key, variant: 'b' };
    expectRequestValid('POST', end, 'application/json', payload);
    expect((await call('POST', end, { url: end, headers: auth(), payload })).statusCode).toBe(200);
    expect((await call('POST', end, { url: end, headers: auth(), payload })).statusCode).toBe(409);
    expect(
      (await call('POST', end, { url: end, headers: auth(), payload: { program: program.key } }))
        .statusCode,
    ).toBe(400);
  });

  it('every operation was answered for real and checked, a success among them', () => {
    for (const c of Object.values(API)) {
      const statuses = [...(seen.get(c.operationId) ?? [])];
      expect(
        statuses.some((s) => s >= 200 && s < 300),
        `${c.operationId}: ${statuses}`,
      ).toBe(true);
      expect(
        statuses.some((s) => s >= 400),
        `${c.operationId}: ${statuses}`,
      ).toBe(true);
    }
  });
});
