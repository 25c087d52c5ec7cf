// Unsubscribing: a GET only shows a button (mail scanners open links), a POST unsubscribes at
// once (RFC 8058 one-click, form-encoded or multipart, or the page's button), idempotently.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unsubscribeUrl } from '../../src/flows/compose.ts';
import { freshEmail } from '../support/db.ts';
import {
  activeSubscriber,
  emailTestbed,
  postForm,
  queueNudge,
  type EmailTestbed,
} from './helpers.ts';

let t: EmailTestbed;
beforeAll(async () => {
  t = await emailTestbed();
});
afterAll(async () => t?.close());

async function subscribed() {
  const s = await activeSubscriber(t, freshEmail('unsub'));
  return { ...s, token: s.unsubscribeToken };
}

const status = async (id: string) =>
  (await t.deps.db.subscriber.findUniqueOrThrow({ where: { id } })).status;
const optOuts = (id: string) =>
  t.deps.db.consentEvent.findMany({ where: { subscriberId: id, kind: 'opt_out' } });

describe('GET /unsubscribe/:token', () => {
  it('shows a page with a button and never unsubscribes (scanners prefetch links)', async () => {
    const { id, token } = await subscribed();
    for (let i = 0; i < 3; i++) {
      const res = await t.app.inject({ method: 'GET', url: `/unsubscribe/${token}` });
      expect(res.statusCode).toBe(200);
      expect(res.body).toContain(`<form method="post" action="/unsubscribe/${token}">`);
      expect(res.body).toContain('<button type="submit">Unsubscribe</button>');
      expect(res.body).toContain('id="quick-exit"');
    }
    expect(await status(id)).toBe('active');
    expect(await optOuts(id)).toHaveLength(0);
  });

  it('answers a bad token with a 400 page', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/unsubscribe/abc.def' });
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain('This link does not work');
  });
});

describe('POST /unsubscribe/:token', () => {
  it('one-click (RFC 8058) unsubscribes at once, answers a plain 200, and is idempotent', async () => {
    const { id, token } = await subscribed();
    // A nudge already queued when the unsubscribe arrives: the workers stand by until then.
    await t.pauseWorkers();
    const nudge = await queueNudge(t, id);
    const post = () =>
      t.app.inject({
        method: 'POST',
        url: `/unsubscribe/${token}`,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-forwarded-for': '192.0.2.9',
        },
        payload: 'List-Unsubscribe=One-Click',
      });
    const first = await post();
    t.resumeWorkers();
    expect(first.statusCode).toBe(200);
    expect(first.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(await status(id)).toBe('stopped');
    const events = await optOuts(id);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ source: 'one_click', channel: 'email' });
    expect(events[0]!.evidence).toMatchObject({ ip: '192.0.2.9' });
    // Nothing already queued goes out.
    await t.settle();
    expect((await t.deps.db.message.findUniqueOrThrow({ where: { id: nudge } })).status).toBe(
      'suppressed',
    );

    expect((await post()).statusCode).toBe(200);
    expect(await optOuts(id)).toHaveLength(1);
  });

  it('accepts a multipart/form-data one-click body too', async () => {
    const { id, token } = await subscribed();
    const boundary = '----steadytest';
    const payload = `--${boundary}\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--${boundary}--\r\n`;
    const res = await t.app.inject({
      method: 'POST',
      url: `/unsubscribe/${token}`,
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
      payload,
    });
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('Unsubscribed');
    expect(await status(id)).toBe('stopped');
  });

  it("the page's button unsubscribes and answers with a page", async () => {
    const { id, token } = await subscribed();
    const res = await postForm(t, `/unsubscribe/${token}`, {});
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.body).toContain("You're unsubscribed");
    expect((await optOuts(id))[0]).toMatchObject({ source: 'unsubscribe_page' });
    // Afterwards the link's page says so instead of offering the button again.
    const page = await t.app.inject({ method: 'GET', url: `/unsubscribe/${token}` });
    expect(page.body).toContain("You're unsubscribed");
  });

  it('refuses a forged token with 400 and changes nothing', async () => {
    const { id } = await subscribed();
    const other = unsubscribeUrl(
      { ...t.config, appSecret: 'another-secret-that-is-long-enough-000' },
      id,
    )
      .split('/')
      .pop()!;
    const oneClick = await t.app.inject({
      method: 'POST',
      url: `/unsubscribe/${other}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'List-Unsubscribe=One-Click',
    });
    expect(oneClick.statusCode).toBe(400);
    expect((await postForm(t, `/unsubscribe/${other}`, {})).statusCode).toBe(400);
    expect(await status(id)).toBe('active');
  });
});
