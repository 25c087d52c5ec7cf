// The dashboard's numbers (each query against real rows) and its charts (accessible SVG with a
// table of the same numbers beside each one).
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkinsByWeek,
  enrollmentsByDay,
  flagsByWeek,
  queueCounts,
  stepOutcomes,
  calendar,
} from '../../src/http/admin/stats.ts';
import { barChart, dataTable, lineChart, niceMax } from '../../src/http/charts.ts';
import { consolePhone, consoleTestbed, signIn, type ConsoleTestbed } from './helpers.ts';

let t: ConsoleTestbed;
beforeAll(async () => {
  t = await consoleTestbed();
});
afterAll(() => t?.close());

async function person(channel: 'sms' | 'email' = 'sms') {
  const { db } = t.deps;
  const phone = await consolePhone(db);
  const sub = await db.subscriber.create({
    data: { phone, timezone: 'America/Chicago', status: 'active' },
  });
  const enrollment = await db.enrollment.create({
    data: {
      subscriberId: sub.id,
      program: `test-${randomBytes(3).toString('hex')}`,
      channel,
      state: 'active',
    },
  });
  return { sub, enrollment };
}

describe('stats', () => {
  it('attributes an opt-out to the last program message the person received', async () => {
    const { db } = t.deps;
    const { sub, enrollment } = await person();
    // Steps of their own, so rows from other tests cannot change these counts.
    const [first, last, unsent] = ['a', 'b', 'c'].map(
      (k) => `zz-${k}-${randomBytes(3).toString('hex')}`,
    ) as [string, string, string];
    const t0 = Date.now() - 3 * 3600_000;
    const msg = (
      step: string,
      minutes: number,
      status: 'delivered' | 'failed' | 'queued',
      sent: boolean,
    ) =>
      db.message.create({
        data: {
          subscriberId: sub.id,
          enrollmentId: enrollment.id,
          channel: 'sms',
          direction: 'out',
          kind: 'nudge',
          step,
          status,
          sentAt: sent ? new Date(t0 + minutes * 60_000) : null,
        },
      });
    await msg(first, 0, 'delivered', true);
    await msg(last, 60, 'failed', true);
    await msg(unsent, 90, 'queued', false); // never reached the person: not the one they left after
    await db.consentEvent.create({
      data: {
        subscriberId: sub.id,
        channel: 'sms',
        kind: 'opt_out',
        source: 'sms_keyword',
        evidence: {},
        at: new Date(t0 + 120 * 60_000),
      },
    });

    // Their program: a copy of the default one under the enrollment's own key.
    const rows = await stepOutcomes(t.deps, new Date(), 90, {
      ...t.deps.programs.default,
      key: enrollment.program,
    });
    const row = (k: string) => rows.find((r) => r.step === k);
    expect(row(first)).toMatchObject({
      sent: 1,
      delivered: 1,
      failed: 0,
      optOuts: 0,
      kind: 'extra',
    });
    expect(row(last)).toMatchObject({ sent: 1, delivered: 0, failed: 1, optOuts: 1 });
    expect(row(unsent)).toMatchObject({ sent: 0, optOuts: 0 });
    // Every program step has a row, in program order, even before anything was sent.
    expect(rows.filter((r) => r.kind !== 'extra' && r.week !== null).map((r) => r.step)).toEqual(
      t.deps.programs.default.steps.map((s) => s.key),
    );
  });

  // A random day long ago: no other test writes there, so the counts are exact.
  const longAgo = () =>
    new Date(Date.UTC(1995, 0, 1) + Math.floor(Math.random() * 9000) * 86400_000 + 13 * 3600_000);

  it('counts enrollments per UTC day by channel, with empty days as zero', async () => {
    const day = longAgo();
    const sms = await person('sms');
    const email = await person('email');
    await t.deps.db.enrollment.updateMany({
      where: { id: { in: [sms.enrollment.id, email.enrollment.id] } },
      data: { createdAt: day },
    });
    const r = await enrollmentsByDay(t.deps, new Date(day.getTime() + 86400_000));
    expect(r.days).toHaveLength(30);
    expect(r.days.slice(-2)).toEqual([
      day.toISOString().slice(0, 10),
      new Date(day.getTime() + 86400_000).toISOString().slice(0, 10),
    ]);
    expect(r.sms.slice(-3)).toEqual([0, 1, 0]);
    expect(r.email.slice(-3)).toEqual([0, 1, 0]);
  });

  it('reads check-in reply rate and mean rating per week, leaving open check-ins out', async () => {
    const { db } = t.deps;
    const { enrollment } = await person();
    const week = 900 + Math.floor(Math.random() * 99); // a week number no other test uses
    await db.checkin.deleteMany({ where: { week } }); // left by an earlier run
    const now = t.clock.now();
    const checkin = async (answered: boolean, rating: number | null, open = false) => {
      const m = await db.message.create({
        data: {
          enrollmentId: enrollment.id,
          channel: 'sms',
          direction: 'out',
          kind: 'checkin',
          status: 'sent',
        },
      });
      await db.checkin.create({
        data: {
          enrollmentId: enrollment.id,
          messageId: m.id,
          step: `w${week}`,
          week,
          openedAt: now,
          closesAt: new Date(now.getTime() + (open ? 1 : -1) * 3600_000),
          answeredAt: answered ? now : null,
          rating,
        },
      });
    };
    await checkin(true, 4);
    await checkin(true, 1);
    await checkin(false, null);
    await checkin(false, null, true); // still open
    const w = (await checkinsByWeek(t.deps, now)).find((r) => r.week === week);
    expect(w).toEqual({ week, asked: 3, answered: 2, replyRate: 2 / 3, meanRating: 2.5 });
  });

  it('counts safety flags per week and reads queue counts', async () => {
    const { sub } = await person();
    const day = longAgo();
    await t.deps.db.safetyFlag.createMany({
      data: [
        { subscriberId: sub.id, category: 'self_harm', matched: [], createdAt: day },
        { subscriberId: sub.id, category: 'abuse', matched: [], createdAt: day },
        {
          subscriberId: sub.id,
          category: 'abuse',
          matched: [],
          createdAt: new Date(day.getTime() - 7 * 86400_000),
        },
      ],
    });
    const r = await flagsByWeek(t.deps, day);
    expect(r.weeks).toHaveLength(12);
    expect(new Date(`${r.weeks.at(-1)}T00:00:00Z`).getUTCDay()).toBe(1); // Monday
    expect(r.abuse.slice(-2)).toEqual([1, 1]);
    expect(r.self_harm.slice(-2)).toEqual([0, 1]);
    await t.deps.queues.sms.add('send', { messageId: 'x' }, { delay: 60_000 });
    const q = await queueCounts(t.deps);
    expect(q.map((r) => r.queue)).toEqual(['sms', 'email', 'priority', 'inbound', 'events']);
    expect(q[0]!.counts?.delayed).toBe(1);
  });

  it('builds calendars of days and Monday weeks', () => {
    expect(calendar(new Date('2026-03-04T23:00:00Z'), 3, 'day')).toEqual([
      '2026-03-02',
      '2026-03-03',
      '2026-03-04',
    ]);
    expect(calendar(new Date('2026-03-04T23:00:00Z'), 2, 'week')).toEqual([
      '2026-02-23',
      '2026-03-02',
    ]);
  });
});

describe('charts', () => {
  it('rounds the axis up to a readable number', () => {
    expect([0, 0.4, 3, 7, 11, 240, 1001].map((n) => niceMax(n))).toEqual([
      1, 0.5, 5, 10, 20, 250, 2000,
    ]);
    // Counts: the middle tick is a whole number too.
    expect([0, 1, 3, 5, 9, 10, 25, 240].map((n) => niceMax(n, true))).toEqual([
      2, 2, 4, 6, 10, 10, 30, 300,
    ]);
  });

  it('draws an accessible bar chart with one bar per non-zero value', () => {
    const svg = barChart({
      id: 'c1',
      title: 'Sends & <fails>',
      desc: 'per week',
      labels: ['W1', 'W2'],
      series: [
        { name: 'Sent', values: [3, 0] },
        { name: 'Failed', values: [1, 2] },
      ],
    });
    expect(svg).toMatch(/^<svg [^>]*role="img" aria-labelledby="c1-t c1-d"/);
    expect(svg).toContain('<title id="c1-t">Sends &amp; &lt;fails&gt;</title>');
    expect(svg.match(/<rect [^>]*><title>/g)).toHaveLength(3);
    expect(svg).toContain('<title>W2, Failed: 2</title>');
  });

  it('draws a line chart that skips missing points and says when there is no data', () => {
    const svg = lineChart({
      id: 'c2',
      title: 'Rate',
      labels: ['W1', 'W2', 'W3'],
      series: [{ name: 'Reply rate', values: [0.5, NaN, 1] }],
      percent: true,
      yMax: 1,
    });
    expect(svg.match(/<circle /g)).toHaveLength(2);
    expect(svg).toContain('W3, Reply rate: 100%');
    expect(lineChart({ id: 'c3', title: 'Empty', labels: [], series: [] })).toContain(
      'No data yet',
    );
  });

  it('renders the numbers as a table with row headers', () => {
    const html = dataTable({
      caption: 'Per week',
      columns: ['Week', 'Sent'],
      rows: [
        ['Week 1', 3],
        ['Week 2', null],
      ],
    });
    expect(html).toContain('<caption>Per week</caption>');
    expect(html).toContain('<th scope="row">Week 1</th><td class="num">3</td>');
    expect(html).toContain('<td class="num">–</td>');
  });
});

describe('dashboard page', () => {
  it('shows every chart with a table beside it', async () => {
    const op = await signIn(t);
    const res = await op.get('/admin/dashboard');
    expect(res.statusCode).toBe(200);
    // Programs, enrollments, check-ins (two charts), flags, queues; and per live program its
    // messages per week and the message people leave after, each named by its program.
    const programs = t.deps.programs.all();
    const charts = res.body.match(/<svg [^>]*role="img"/g) ?? [];
    expect(charts.length).toBe(6 + 2 * programs.length);
    expect((res.body.match(/<section class="card">/g) ?? []).length).toBe(5 + 2 * programs.length);
    expect((res.body.match(/<table>/g) ?? []).length).toBe(5 + 2 * programs.length);
    for (const p of programs) {
      expect(res.body).toContain(`Which message people leave after: ${p.name} (${p.key})`);
      expect(res.body).toContain(`Program messages per week: ${p.name} (${p.key})`);
    }
    for (const heading of [
      'Enrollments per day, by channel',
      'Which message people leave after',
      'Check-ins',
      'Safety flags per week',
      'Queues now',
    ])
      expect(res.body).toContain(heading);
  });
});
