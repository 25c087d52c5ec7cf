// The check-in results export (`export checkins`, GET /admin/api/export/checkins and the
// dashboard's download): one row per check-in with a pseudonymous id and no contact details or
// reply text. The CLI runs as a real process; its output and the routes' answers are read with a
// real CSV parser. Its own database: the tests count every row in it.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { parse as parseCsv } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHECKIN_COLUMNS, csvCell, formatCheckinRow } from '../../src/core/export-format.ts';
import {
  checkExportFilters,
  ExportInputError,
  exportPseudonym,
  parseSinceDate,
  variantColumn,
  writeCheckinExport,
  writerFor,
} from '../../src/flows/checkin-export.ts';
import { API_ACTOR } from '../../src/http/admin/read-audit.ts';
import { encryptText, keyedHash } from '../../src/security/crypto.ts';
import type { Config } from '../../src/config.ts';
import { createDb, type Db } from '../../src/db/client.ts';
import { consoleTestbed, freshIp, signIn, type ConsoleTestbed } from '../admin/helpers.ts';
import { ownDatabase } from '../support/db.ts';
import { waitFor } from '../support/wait.ts';
import { testConfig } from '../support/env.ts';

const SECRET = 'export-test-secret-0123456789abcdef-0123';
const T0 = Date.parse('2026-03-02T15:00:00Z');
const HOUR = 3600_000;
const DAY = 24 * HOUR;
const BULK_PEOPLE = 60;
const BULK_EACH = 50; // 3000 rows: more than one cursor batch (2000)
const REPLY_TEXT = 'rough week, he read my texts again';
const CHECKIN_TEXT = 'How was this week, 1 to 5?';

type Row = Record<(typeof CHECKIN_COLUMNS)[number], string>;

let db: Db;
let config: Config;
let hasVariant = false;
const tag = Math.random().toString(36).slice(2, 8);
const P1 = `exp-main-${tag}`;
const P2 = `exp-other-${tag}`;
const BULK = `exp-bulk-${tag}`;
const people: Record<
  'a' | 'b' | 'c' | 'd',
  { id: string; phone: string | null; email: string | null }
> = {} as never;
/** Contacts, names and texts that must never appear in an export. */
const secrets: string[] = [];

// The command needs only PostgreSQL: the rows are written straight to the file's own database.
beforeAll(async () => {
  config = testConfig({ DATABASE_URL: await ownDatabase('export'), APP_SECRET: SECRET });
  db = createDb(config.databaseUrl, { max: 3 });
  // This database is the file's own: start each run from nothing, so counts are exact.
  await db.$executeRawUnsafe('TRUNCATE subscribers, audit_events CASCADE');
  hasVariant = (await variantColumn(db)).sql.includes('m.variant');
  await seed();
}, 60_000);
afterAll(() => db?.$disconnect());

async function person(
  key: keyof typeof people,
  contact: { phone?: string; email?: string },
  locale: string,
  program: string,
  channel: 'sms' | 'email',
) {
  const sub = await db.subscriber.create({
    data: { ...contact, firstName: `Robin${key}`, timezone: 'UTC', locale, status: 'active' },
  });
  people[key] = { id: sub.id, phone: sub.phone, email: sub.email };
  secrets.push(
    ...[contact.phone, contact.email, `Robin${key}`, sub.id].filter((x): x is string => !!x),
  );
  const enrollment = await db.enrollment.create({
    data: { subscriberId: sub.id, program, channel, state: 'active', startedAt: new Date(T0) },
  });
  return { sub, enrollment };
}

async function checkin(
  p: { sub: { id: string }; enrollment: { id: string; channel: 'sms' | 'email' } },
  week: number,
  sentAt: number,
  answer?: { at: number; rating: number },
  variant?: string,
) {
  const step = `w${week}-checkin`;
  const msg = await db.message.create({
    data: {
      subscriberId: p.sub.id,
      enrollmentId: p.enrollment.id,
      channel: p.enrollment.channel,
      direction: 'out',
      kind: 'checkin',
      step,
      template: step,
      status: 'delivered',
      body: CHECKIN_TEXT,
      sentAt: new Date(sentAt),
    },
  });
  if (variant !== undefined)
    await db.$executeRawUnsafe(
      'UPDATE messages SET variant = $1 WHERE id = $2::uuid',
      variant,
      msg.id,
    );
  const reply = answer
    ? await db.message.create({
        data: {
          subscriberId: p.sub.id,
          channel: p.enrollment.channel,
          direction: 'in',
          kind: 'reply',
          status: 'received',
          bodyEnc: encryptText(config.encryptionKeys, `${answer.rating} ${REPLY_TEXT}`),
          processedAt: new Date(answer.at),
        },
      })
    : null;
  await db.checkin.create({
    data: {
      enrollmentId: p.enrollment.id,
      messageId: msg.id,
      step,
      week,
      openedAt: new Date(sentAt),
      closesAt: new Date(sentAt + 3 * DAY),
      answeredAt: answer ? new Date(answer.at) : null,
      rating: answer?.rating ?? null,
      replyMessageId: reply?.id ?? null,
    },
  });
}

const optOut = (subscriberId: string, channel: 'sms' | 'email', at: number) =>
  db.consentEvent.create({
    data: {
      subscriberId,
      channel,
      kind: 'opt_out',
      source: 'sms_keyword',
      evidence: { text: 'STOP' },
      at: new Date(at),
    },
  });

async function seed() {
  secrets.push(REPLY_TEXT, CHECKIN_TEXT);
  // a: SMS, two check-ins; the second is followed 47 h later by STOP.
  const a = await person('a', { phone: '+12025550142' }, 'en', P1, 'sms');
  await checkin(a, 1, T0, { at: T0 + 2 * HOUR, rating: 4 });
  await checkin(a, 2, T0 + 7 * DAY, undefined, '=HYPERLINK("https://example.com","x")');
  await optOut(a.sub.id, 'sms', T0 + 7 * DAY + 47 * HOUR);
  // b: email, Spanish; opted out 49 h after the check-in (outside the window).
  const b = await person('b', { email: 'b.person@example.com' }, 'es', P1, 'email');
  await checkin(b, 1, T0 + HOUR, { at: T0 + 3 * HOUR, rating: 2 }, 'B');
  await optOut(b.sub.id, 'email', T0 + HOUR + 49 * HOUR);
  // c: enrolled by email, also has a phone; stopped SMS an hour after the email check-in: that
  // says nothing about the email program.
  const c = await person(
    'c',
    { phone: '+12025550143', email: 'c.person@example.com' },
    'en',
    P1,
    'email',
  );
  await checkin(c, 1, T0 + 2 * HOUR);
  await optOut(c.sub.id, 'sms', T0 + 3 * HOUR);
  // d: another program, sent two days later.
  const d = await person('d', { phone: '+12025550144' }, 'en', P2, 'sms');
  await checkin(d, 1, T0 + 2 * DAY, { at: T0 + 2 * DAY + HOUR, rating: 5 });
  // Many more rows, all before T0, so the cursor reads several batches.
  await db.$executeRaw`
    WITH s AS (
      INSERT INTO subscribers (id, timezone, locale, status, "updatedAt")
      SELECT gen_random_uuid(), 'UTC', 'en', 'active'::"SubscriberStatus", now()
      FROM generate_series(1, ${BULK_PEOPLE}) RETURNING id
    ), e AS (
      INSERT INTO enrollments (id, "subscriberId", program, channel, state, "updatedAt")
      SELECT gen_random_uuid(), id, ${BULK}, 'sms'::"Channel", 'active'::"EnrollmentState", now()
      FROM s RETURNING id
    )
    INSERT INTO checkins (id, "enrollmentId", "messageId", step, week, "openedAt", "closesAt", "answeredAt", rating)
    SELECT gen_random_uuid(), e.id, gen_random_uuid(), 'w' || g, g,
           ${new Date(T0 - 30 * DAY)}::timestamptz + g * interval '1 minute',
           ${new Date(T0 - 27 * DAY)}::timestamptz,
           CASE WHEN g % 2 = 0 THEN ${new Date(T0 - 29 * DAY)}::timestamptz END,
           CASE WHEN g % 2 = 0 THEN 1 + g % 5 END
    FROM e, generate_series(1, ${BULK_EACH}) g`;
}

const TOTAL = 5 + BULK_PEOPLE * BULK_EACH;

// ---------------------------------------------------------------------------------------------

interface Run {
  code: number | null;
  out: string;
  err: string;
}

/** The CLI as a real process (as tests/support/cli-process.ts starts it), stdout and stderr apart. */
function cli(args: string[]): Promise<Run> {
  const keep = ['PATH', 'HOME', 'TMPDIR', 'LANG'];
  const base = Object.fromEntries(
    keep.flatMap((k) => (process.env[k] ? [[k, process.env[k]!]] : [])),
  );
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'export', ...args], {
    cwd: process.cwd(),
    env: {
      ...base,
      NODE_ENV: 'test',
      DATABASE_URL: config.databaseUrl,
      APP_SECRET: SECRET,
      LOG_LEVEL: 'silent',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
  proc.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
  return new Promise((resolve) => proc.on('close', (code) => resolve({ code, out, err })));
}

function csvRows(text: string): Row[] {
  const records = parseCsv(text, { columns: true, skip_empty_lines: true }) as Row[];
  return records;
}

const csvHeaderOf = (text: string) => (parseCsv(text, { to_line: 1 }) as string[][])[0];

const pseudo = (key: keyof typeof people) => exportPseudonym(SECRET, people[key].id);

function expectNoSecrets(text: string) {
  for (const s of secrets)
    expect(text.toLowerCase(), 'a contact, name or text leaked').not.toContain(s.toLowerCase());
  // Nor any phone-number or address shape at all.
  expect(text).not.toMatch(/\+1\d{10}/);
  expect(text).not.toMatch(/@example\.com/);
}

const mine = (rows: Row[]) => rows.filter((r) => r.program !== BULK);

// ---------------------------------------------------------------------------------------------

describe('format', () => {
  it('quotes per RFC 4180 and defuses formula cells', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    for (const f of ['=1+1', '+1', '-1', '@SUM(A1)', '\tx']) expect(csvCell(f)).toMatch(/^"?'/);
    expect(csvCell('=A1,B1')).toBe(`"'=A1,B1"`);
    expect(csvCell(null)).toBe('');
    expect(csvCell(true)).toBe('true');
    expect(csvCell(3)).toBe('3');
  });

  it('JSONL has the same keys as the CSV header, in order', () => {
    const line = formatCheckinRow('jsonl', {
      subscriber: 'x',
      program: 'p',
      locale: 'en',
      variant: null,
      week: 1,
      step: 's',
      sent_at: '2026-03-02T15:00:00.000Z',
      answered_at: null,
      rating: null,
      answered: false,
      opted_out_48h: false,
    });
    expect(Object.keys(JSON.parse(line))).toEqual([...CHECKIN_COLUMNS]);
  });

  it('refuses dates that do not exist or carry no zone', () => {
    expect(parseSinceDate('2026-03-04').toISOString()).toBe('2026-03-04T00:00:00.000Z');
    expect(parseSinceDate('2026-03-04T12:30:00+02:00').toISOString()).toBe(
      '2026-03-04T10:30:00.000Z',
    );
    for (const bad of ['2026-02-30', '2026-3-4', 'yesterday', '2026-03-04T12:00', '04/03/2026'])
      expect(() => parseSinceDate(bad), bad).toThrow(/YYYY-MM-DD/);
  });

  it('checks filters: a format, a real date, a known program; empty means all', () => {
    const programs = ['steady', 'calm'];
    expect(checkExportFilters({ format: 'csv', program: '', since: '' }, programs)).toEqual({
      format: 'csv',
      program: null,
      since: null,
    });
    expect(
      checkExportFilters({ format: 'jsonl', program: 'calm', since: '2026-05-01' }, programs),
    ).toEqual({
      format: 'jsonl',
      program: 'calm',
      since: new Date('2026-05-01T00:00:00Z'),
    });
    for (const [input, code, message] of [
      [{}, 'invalid_format', /Give a format: csv, jsonl/],
      [{ format: 'CSV' }, 'invalid_format', /Unknown format "CSV"; use one of: csv, jsonl/],
      [{ format: 'csv', since: 'last week' }, 'invalid_since', /YYYY-MM-DD/],
      [{ format: 'csv', program: 'nope' }, 'unknown_program', /known: steady, calm/],
    ] as const) {
      const err = (() => {
        try {
          checkExportFilters(input, programs);
        } catch (e) {
          return e as ExportInputError;
        }
      })();
      expect(err, JSON.stringify(input)).toBeInstanceOf(ExportInputError);
      expect([err?.code, err?.message]).toEqual([code, expect.stringMatching(message)]);
    }
  });

  it('the variant comes from the message row only where the column exists', async () => {
    // DDL is transactional in PostgreSQL: drop the column inside a transaction, ask, roll back.
    const asked = await db
      .$transaction(async (tx) => {
        await tx.$executeRawUnsafe('ALTER TABLE messages ADD COLUMN IF NOT EXISTS variant text');
        const withColumn = (await variantColumn(tx)).sql;
        await tx.$executeRawUnsafe('ALTER TABLE messages DROP COLUMN variant');
        const without = (await variantColumn(tx)).sql;
        throw Object.assign(new Error('rollback'), { asked: [withColumn, without] });
      })
      .catch((e: { asked?: string[] }) => e.asked);
    expect(asked).toEqual(['m.variant::text', 'NULL::text']);
    expect((await variantColumn(db)).sql).toBe(hasVariant ? 'm.variant::text' : 'NULL::text');
  });
});

describe('streaming', () => {
  const filters = { format: 'csv' as const, program: null, since: null };

  it('a reader that goes away ends the query, its transaction and its connection', async () => {
    // More aborted exports than the pool has connections: a leaked one would hang the next.
    for (let i = 0; i < 4; i++) {
      const out = new PassThrough();
      let batches = 0;
      const write = writerFor(out);
      const run = writeCheckinExport({ db, config: { appSecret: SECRET } }, filters, async (c) => {
        if (++batches === 2) out.destroy(); // the download was dropped after the first rows
        await write(c);
      });
      out.resume();
      await expect(run).rejects.toThrow(/closed before it ended/);
    }
    const open = await db.$queryRaw<{ n: number }[]>`
      SELECT count(*)::int AS n FROM pg_stat_activity
      WHERE datname = current_database() AND state LIKE 'idle in transaction%'`;
    expect(open[0]?.n).toBe(0);
    expect(await db.checkin.count()).toBe(TOTAL);
  });

  it('waits for a slow reader instead of buffering the export', async () => {
    const out = new PassThrough({ highWaterMark: 1024 });
    let written = 0;
    const write = writerFor(out);
    const run = writeCheckinExport({ db, config: { appSecret: SECRET } }, filters, (c) => {
      written += c.length;
      return write(c);
    });
    let done = false;
    void run.then(() => (done = true));
    // Nobody reads: once the first batch is in the buffer, the export waits and cannot finish.
    await waitFor(() => written > 100_000, { timeout: 20_000 });
    await new Promise((r) => setTimeout(r, 1000));
    expect(done).toBe(false);
    const stalled = written;
    let read = 0;
    out.on('data', (c: Buffer) => (read += c.length));
    const rows = await run;
    expect(rows).toBe(TOTAL);
    expect(written).toBeGreaterThan(stalled);
    expect(done).toBe(true);
    await new Promise((r) => setImmediate(r));
    expect(read).toBe(written);
  });
});

describe('export checkins (the command)', () => {
  it('writes one row per check-in with the documented columns and values', async () => {
    const r = await cli(['checkins', '--format', 'csv']);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(new RegExp(`wrote ${TOTAL} check-ins \\(csv\\) to stdout`));
    expect(csvHeaderOf(r.out)).toEqual([...CHECKIN_COLUMNS]);
    expect(r.out.split('\r\n')[0]).toBe(CHECKIN_COLUMNS.join(','));
    const rows = csvRows(r.out);
    expect(rows).toHaveLength(TOTAL);
    expectNoSecrets(r.out);
    expectNoSecrets(r.err);

    // Oldest first: the bulk rows (a month earlier), then ours in send order.
    expect(mine(rows)).toEqual([
      {
        subscriber: pseudo('a'),
        program: P1,
        locale: 'en',
        variant: '',
        week: '1',
        step: 'w1-checkin',
        sent_at: '2026-03-02T15:00:00.000Z',
        answered_at: '2026-03-02T17:00:00.000Z',
        rating: '4',
        answered: 'true',
        opted_out_48h: 'false',
      },
      {
        subscriber: pseudo('b'),
        program: P1,
        locale: 'es',
        variant: hasVariant ? 'B' : '',
        week: '1',
        step: 'w1-checkin',
        sent_at: '2026-03-02T16:00:00.000Z',
        answered_at: '2026-03-02T18:00:00.000Z',
        rating: '2',
        answered: 'true',
        opted_out_48h: 'false', // 49 h later
      },
      {
        subscriber: pseudo('c'),
        program: P1,
        locale: 'en',
        variant: '',
        week: '1',
        step: 'w1-checkin',
        sent_at: '2026-03-02T17:00:00.000Z',
        answered_at: '',
        rating: '',
        answered: 'false',
        opted_out_48h: 'false', // stopped SMS, not the email program
      },
      {
        subscriber: pseudo('d'),
        program: P2,
        locale: 'en',
        variant: '',
        week: '1',
        step: 'w1-checkin',
        sent_at: '2026-03-04T15:00:00.000Z',
        answered_at: '2026-03-04T16:00:00.000Z',
        rating: '5',
        answered: 'true',
        opted_out_48h: 'false',
      },
      {
        subscriber: pseudo('a'),
        program: P1,
        locale: 'en',
        // A spreadsheet would run it as a formula: it starts with a quote instead.
        variant: hasVariant ? `'=HYPERLINK("https://example.com","x")` : '',
        week: '2',
        step: 'w2-checkin',
        sent_at: '2026-03-09T15:00:00.000Z',
        answered_at: '',
        rating: '',
        answered: 'false',
        opted_out_48h: 'true', // STOP 47 h later
      },
    ]);

    // Every batch boundary kept: each bulk row exactly once, in send order.
    const bulk = rows.filter((x) => x.program === BULK);
    expect(bulk).toHaveLength(BULK_PEOPLE * BULK_EACH);
    expect(new Set(bulk.map((x) => `${x.subscriber} ${x.step}`)).size).toBe(bulk.length);
    const times = rows.map((x) => x.sent_at);
    expect(times).toEqual([...times].sort());
    expect(bulk.filter((x) => x.answered === 'true').every((x) => /^[1-5]$/.test(x.rating))).toBe(
      true,
    );
    expect(bulk.filter((x) => x.answered === 'false').every((x) => x.rating === '')).toBe(true);
  }, 60_000);

  it('JSONL has the same rows and keys, typed; the pseudonymous id is stable across runs', async () => {
    const [jsonl, csv] = await Promise.all([
      cli(['checkins', '--format', 'jsonl', '--program', P1]),
      cli(['checkins', '--format', 'csv', '--program', P1]),
    ]);
    expect([jsonl.code, csv.code], jsonl.err + csv.err).toEqual([0, 0]);
    const lines = jsonl.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]).toEqual({
      subscriber: pseudo('a'),
      program: P1,
      locale: 'en',
      variant: null,
      week: 1,
      step: 'w1-checkin',
      sent_at: '2026-03-02T15:00:00.000Z',
      answered_at: '2026-03-02T17:00:00.000Z',
      rating: 4,
      answered: true,
      opted_out_48h: false,
    });
    expect(lines.map((l) => [l.answered_at, l.rating, l.answered, l.opted_out_48h])).toEqual([
      ['2026-03-02T17:00:00.000Z', 4, true, false],
      ['2026-03-02T18:00:00.000Z', 2, true, false],
      [null, null, false, false],
      [null, null, false, true],
    ]);
    expectNoSecrets(jsonl.out);
    // Another run (and the other format) gives the same ids, and they are the keyed hashes.
    const ids = lines.map((l) => l.subscriber);
    expect(ids).toEqual(csvRows(csv.out).map((r) => r.subscriber));
    expect(ids).toEqual([pseudo('a'), pseudo('b'), pseudo('c'), pseudo('a')]);
    for (const key of ['a', 'b', 'c', 'd'] as const) {
      const id = people[key].id;
      expect(pseudo(key)).toMatch(/^[0-9a-f]{64}$/);
      expect(pseudo(key)).not.toContain(id.replaceAll('-', ''));
      // Not joinable with what erasure (subscriber:, contact:) or a plain hash would make.
      expect(pseudo(key)).not.toBe(keyedHash(SECRET, id));
      expect(pseudo(key)).not.toBe(keyedHash(SECRET, 'subscriber:' + id));
      // Keyed: another secret gives other ids.
      expect(pseudo(key)).not.toBe(exportPseudonym('another-secret-0123456789abcdef-xyz', id));
    }
    expect(new Set(Object.keys(people).map((k) => pseudo(k as keyof typeof people))).size).toBe(4);
  }, 90_000);

  it('--since filters by send time and --program by the enrollment program; each run is audited', async () => {
    const at = new Date(Date.now() - 5000);
    const [since, both] = await Promise.all([
      cli(['checkins', '--format', 'csv', '--since', '2026-03-04']),
      cli(['checkins', '--format', 'csv', '--program', P1, '--since', '2026-03-02T16:00:00Z']),
    ]);
    expect([since.code, both.code], since.err + both.err).toEqual([0, 0]);
    expect(csvRows(since.out).map((r) => [r.subscriber, r.program, r.sent_at])).toEqual([
      [pseudo('d'), P2, '2026-03-04T15:00:00.000Z'],
      [pseudo('a'), P1, '2026-03-09T15:00:00.000Z'],
    ]);
    // Program P1 (not d's P2), from 16:00 (not a's first check-in at 15:00).
    expect(csvRows(both.out).map((r) => [r.subscriber, r.sent_at])).toEqual([
      [pseudo('b'), '2026-03-02T16:00:00.000Z'],
      [pseudo('c'), '2026-03-02T17:00:00.000Z'],
      [pseudo('a'), '2026-03-09T15:00:00.000Z'],
    ]);
    const events = await db.auditEvent.findMany({
      where: { action: 'checkins.export', actor: 'cli', at: { gte: at } },
    });
    expect(events.map((e) => [e.target, e.detail])).toEqual(
      expect.arrayContaining([
        [
          'cli',
          {
            format: 'csv',
            program: null,
            since: '2026-03-04T00:00:00.000Z',
            rows: 2,
            complete: true,
          },
        ],
        [
          'cli',
          {
            format: 'csv',
            program: P1,
            since: '2026-03-02T16:00:00.000Z',
            rows: 3,
            complete: true,
          },
        ],
      ]),
    );
    for (const e of events) expectNoSecrets(JSON.stringify(e));
  }, 90_000);

  it('--out writes a new owner-only file and never replaces one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'steady-export-'));
    const file = join(dir, 'checkins.csv');
    const r = await cli(['checkins', '--format', 'csv', '--program', P2, '--out', file]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toBe('');
    expect(r.err).toContain(`wrote 1 check-in (csv) to ${file}`);
    expect(csvRows(await readFile(file, 'utf8')).map((x) => x.subscriber)).toEqual([pseudo('d')]);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    await writeFile(file, 'keep me');
    const again = await cli(['checkins', '--format', 'csv', '--out', file]);
    expect(again.code).toBe(2);
    expect(again.err).toMatch(/already exists/);
    expect(await readFile(file, 'utf8')).toBe('keep me');
  }, 90_000);

  it('bad input: unknown format, bad date, unknown program exit 2 with a message naming what is valid', async () => {
    const cases: [string[], RegExp][] = [
      [['checkins', '--format', 'xlsx'], /Unknown format "xlsx"; use one of: csv, jsonl/],
      [['checkins', '--format', 'csv', '--since', '2026-02-30'], /YYYY-MM-DD.*not "2026-02-30"/],
      [
        ['checkins', '--format', 'csv', '--program', 'no-such-program'],
        new RegExp(`Unknown program "no-such-program"; known: .*${P1}`),
      ],
    ];
    const runs = await Promise.all(cases.map(([args]) => cli(args)));
    runs.forEach((r, i) => {
      const [args, message] = cases[i]!;
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err, args.join(' ')).toMatch(message);
      expect(r.err, args.join(' ')).toMatch(/Usage: export checkins --format csv\|jsonl/);
      expect(r.out, args.join(' ')).toBe('');
    });
  }, 90_000);
});

describe('over HTTP', () => {
  let t: ConsoleTestbed;
  beforeAll(async () => {
    t = await consoleTestbed({ env: { DATABASE_URL: config.databaseUrl, APP_SECRET: SECRET } });
  }, 60_000);
  afterAll(() => t?.close());

  const api = (query: string, headers: Record<string, string> = {}) =>
    t.app.inject({
      method: 'GET',
      url: `/admin/api/export/checkins${query}`,
      headers: {
        authorization: `Bearer ${t.config.adminToken}`,
        'x-forwarded-for': freshIp(),
        ...headers,
      },
    });

  it('the admin API streams the same rows as the command, as an attachment', async () => {
    const res = await api(`?format=csv&program=${P1}&since=`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).toBe(
      `attachment; filename="steady-checkins-${P1}.csv"`,
    );
    expect(res.headers['cache-control']).toBe('no-store');
    const cli1 = await cli(['checkins', '--format', 'csv', '--program', P1]);
    expect(csvRows(res.body)).toEqual(csvRows(cli1.out));
    expect(csvRows(res.body)).toHaveLength(4);
    expectNoSecrets(res.body);

    const all = await api('?format=jsonl');
    expect(all.statusCode).toBe(200);
    expect(all.headers['content-type']).toBe('application/x-ndjson; charset=utf-8');
    expect(all.body.trim().split('\n')).toHaveLength(TOTAL);
    expectNoSecrets(all.body);

    const since = await api(`?format=csv&since=2026-03-04`);
    expect(csvRows(since.body).map((r) => r.step)).toEqual(['w1-checkin', 'w2-checkin']);
  }, 60_000);

  it('the admin API refuses bad input with a message, and needs the token', async () => {
    for (const [query, error, message] of [
      ['?format=xml', 'invalid_request', /csv.*jsonl/],
      ['', 'invalid_request', /format/],
      ['?format=csv&since=2026-13-01', 'invalid_since', /YYYY-MM-DD/],
      ['?format=csv&program=nope', 'unknown_program', new RegExp(`known: .*${P2}`)],
    ] as const) {
      const res = await api(query);
      expect([res.statusCode, res.json().error], query).toEqual([400, error]);
      expect(res.json().message, query).toMatch(message);
    }
    const anonymous = await t.app.inject({
      method: 'GET',
      url: '/admin/api/export/checkins?format=csv',
    });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.body).not.toContain('subscriber,');
  });

  it('the API export is audited with the API actor, filters and count', async () => {
    const at = new Date(Date.now() - 5000);
    expect((await api(`?format=csv&program=${P2}`)).statusCode).toBe(200);
    const events = await db.auditEvent.findMany({
      where: { action: 'checkins.export', actor: API_ACTOR, at: { gte: at } },
    });
    expect(events).toContainEqual(
      expect.objectContaining({
        target: 'GET /admin/api/export/checkins',
        detail: { format: 'csv', program: P2, since: null, rows: 1, complete: true },
      }),
    );
  });

  it('the dashboard offers the download to a signed-in operator, and it is audited', async () => {
    const op = await signIn(t);
    const dash = await op.get('/admin/dashboard');
    expect(dash.statusCode).toBe(200);
    expect(dash.body).toContain('Download check-ins (CSV)');
    expect(dash.body).toContain('action="/admin/export/checkins"');
    expect(dash.body).toContain(`<option value="${P1}">`);

    const at = new Date(Date.now() - 5000);
    const res = await op.get(`/admin/export/checkins?program=${P1}&since=2026-03-02`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).toBe(
      `attachment; filename="steady-checkins-${P1}-since-2026-03-02.csv"`,
    );
    const rows = csvRows(res.body);
    expect(rows.map((r) => r.subscriber)).toEqual([
      pseudo('a'),
      pseudo('b'),
      pseudo('c'),
      pseudo('a'),
    ]);
    expectNoSecrets(res.body);
    const [event] = await db.auditEvent.findMany({
      where: { action: 'checkins.export', actor: { startsWith: 'console:' }, at: { gte: at } },
    });
    expect(event).toMatchObject({
      target: 'GET /admin/export/checkins',
      detail: {
        format: 'csv',
        program: P1,
        since: '2026-03-02T00:00:00.000Z',
        rows: 4,
        complete: true,
      },
    });

    const bad = await op.get('/admin/export/checkins?since=soon');
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toMatch(/YYYY-MM-DD/);

    // Without a session: the sign-in page for a browser, 401 for anything else; never rows.
    const page = await t.app.inject({
      method: 'GET',
      url: '/admin/export/checkins',
      headers: { accept: 'text/html' },
    });
    expect(page.statusCode).toBe(303);
    expect(page.headers.location).toMatch(/^\/admin\/login/);
    const plain = await t.app.inject({ method: 'GET', url: '/admin/export/checkins' });
    expect(plain.statusCode).toBe(401);
  });
});
