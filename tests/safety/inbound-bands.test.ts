// The three bands end to end: a signed inbound SMS, the real inbound and send workers, the real
// twilio SDK against the local fake Twilio API. act holds and sends the safety message; ask sends
// the discreet check-in and opens a review item without a hold; SAFE then sends the safety message.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.ts';
import { freshPhone, ownDatabase } from '../support/db.ts';
import { harness, type Harness } from '../support/harness.ts';
import { textViaWebhook } from '../support/twilio-post.ts';

let h: Harness;
let app: FastifyInstance;

beforeAll(async () => {
  h = await harness({
    start: '2026-05-04T14:00:00Z', // Monday 10:00 in New York
    env: { DATABASE_URL: await ownDatabase('safety_bands') },
  });
  app = await buildApp(h.deps);
});
afterAll(async () => {
  await app?.close();
  await h?.close();
});

async function text(from: string, body: string) {
  expect((await textViaWebhook(h, app, from, body)).statusCode).toBe(200);
}

async function joined(): Promise<string> {
  const phone = await freshPhone(h.deps.db);
  await text(phone, 'JOIN');
  await text(phone, 'YES');
  return phone;
}

const state = async (phone: string) => {
  const sub = await h.deps.db.subscriber.findFirstOrThrow({
    where: { phone },
    include: { enrollments: true, flags: { orderBy: { createdAt: 'asc' } } },
  });
  return { enrollment: sub.enrollments[0]!.state, flags: sub.flags };
};

describe('bands on the inbound path', () => {
  it('ask from a number that never joined: the discreet check-in, not silence; SAFE brings the safety message', async () => {
    const phone = await freshPhone(h.deps.db);
    await text(phone, 'money is tight and hes been moody all week, not sure what to do');
    const check = h.smsTo(phone);
    expect(check).toHaveLength(1);
    expect(check[0]!.body).toContain('reply SAFE');
    await text(phone, 'SAFE');
    const resources = h.smsTo(phone).slice(1);
    expect(resources).toHaveLength(1);
    // The helplines of the country of their number (+1 202: the US), not "a local helpline".
    expect(resources[0]!.body).toContain('1-800-799-7233');
    expect(await h.deps.db.subscriber.count({ where: { phone } })).toBe(0);
  });

  it('a stranger gets the check-in at most once a day, however many worrying texts', async () => {
    const phone = await freshPhone(h.deps.db);
    await text(phone, 'money is tight and hes been moody all week, not sure what to do');
    await text(phone, 'he has been moody again and i keep quiet so it does not get worse');
    await text(phone, 'not sure what to do about his moods, money is still tight');
    expect(h.smsTo(phone).filter((m) => m.body.includes('reply SAFE'))).toHaveLength(1);
  });

  it("a stranger's number that opted out at the carrier (21610): the check-in fails, nothing else breaks", async () => {
    const phone = await freshPhone(h.deps.db);
    h.twilio.failNext(21610);
    await text(phone, 'money is tight and hes been moody all week, not sure what to do');
    const rows = await h.deps.db.message.findMany({
      where: { toAddr: phone, template: 'safety_check' },
      select: { status: true, error: true },
    });
    expect(rows).toEqual([{ status: 'failed', error: 'opted_out' }]);
    expect(await h.deps.db.subscriber.count({ where: { phone } })).toBe(0);
  });

  it('act: a disclosure that names no danger word gets the safety message and a hold', async () => {
    const phone = await joined();
    const before = h.smsTo(phone).length;
    await text(
      phone,
      'slept in the car with the baby again, waiting till hes passed out before i go back in',
    );
    const sent = h.smsTo(phone).slice(before);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.body).toContain('1-800-799-7233');
    const s = await state(phone);
    expect(s.enrollment).toBe('safety_hold');
    expect(s.flags.map((f) => [f.band, f.category])).toEqual([['act', 'abuse']]);
    expect(s.flags[0]!.risk).toBeGreaterThan(0.5);
    expect(s.flags[0]!.whyEnc).not.toBeNull();
  });

  it('ask: a worrying reply gets the discreet check-in, a review item and no hold; SAFE then brings the safety message', async () => {
    const phone = await joined();
    const before = h.smsTo(phone).length;
    await text(phone, 'money is tight and hes been moody all week, not sure what to do');
    const check = h.smsTo(phone).slice(before);
    expect(check).toHaveLength(1);
    expect(check[0]!.body).toContain('reply SAFE');
    // Lock-screen safe: nothing alarming in the first line.
    expect(check[0]!.body.split('\n')[0]).not.toMatch(/safe|abuse|danger|hotline|crisis/i);
    const s = await state(phone);
    expect(s.enrollment).toBe('active');
    expect(s.flags.map((f) => [f.band, f.status])).toEqual([['ask', 'open']]);

    await text(phone, 'SAFE');
    const resources = h.smsTo(phone).slice(before + 1);
    expect(resources).toHaveLength(1);
    expect(resources[0]!.body).toContain('1-800-799-7233');
    expect((await state(phone)).enrollment).toBe('active');
  });

  it('ask: the check-in goes out at most once a day', async () => {
    const phone = await joined();
    const before = h.smsTo(phone).length;
    await text(phone, 'money is tight and hes been moody all week, not sure what to do');
    await text(phone, 'hes been moody again today, not sure what to do');
    const checks = h
      .smsTo(phone)
      .slice(before)
      .filter((m) => m.body.includes('reply SAFE'));
    expect(checks).toHaveLength(1);
  });

  it('none: a rating gets its acknowledgement and no flag', async () => {
    const phone = await joined();
    await text(phone, '4');
    expect((await state(phone)).flags).toEqual([]);
  });
});
