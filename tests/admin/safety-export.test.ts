// `safety export`: operators' decisions become training lines (DATA.md's format) for decisions made
// since a date, with the words decrypted; the file is never written over, and the export leaves an
// audit event that says how many and since when, never the text. Its own database: the export
// reads every decided flag there is.
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { UsageError } from '../../src/commands/args.ts';
import { safetyExport } from '../../src/commands/safety-export.ts';
import { ownDatabase } from '../support/db.ts';
import { harness, type Harness } from '../support/harness.ts';
import { DISCLOSURE, flaggedSubscriber, type FlagOptions } from './helpers.ts';

let t: Harness;
let dir: string;

beforeAll(async () => {
  t = await harness({ env: { DATABASE_URL: await ownDatabase('safety_export') } });
  // This database is the file's own: start from no flags, so "since" selects only ours.
  await t.deps.db.subscriber.deleteMany({});
  await t.deps.db.auditEvent.deleteMany({ where: { action: 'safety.export' } });
  dir = await mkdtemp(join(tmpdir(), 'steady-export-'));
});
afterAll(async () => {
  await t?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function decided(
  text: string,
  decision: 'safe' | 'danger' | null,
  decidedAt: string,
  opts: FlagOptions & { locale?: string } = {},
) {
  const f = await flaggedSubscriber(t, text, opts);
  if (opts.locale)
    await t.deps.db.subscriber.update({ where: { id: f.sub.id }, data: { locale: opts.locale } });
  await t.deps.db.safetyFlag.update({
    where: { id: f.flag.id },
    data: decision
      ? { decision, decidedAt: new Date(decidedAt), decidedBy: 'console:test' }
      : { decidedAt: null },
  });
  return f;
}

/** Runs the command, keeping what it tells the operator on stderr. */
async function run(args: string[]): Promise<{ code: number; stderr: string }> {
  const chunks: string[] = [];
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((c) => {
    chunks.push(String(c));
    return true;
  });
  try {
    return { code: await safetyExport(t.config, args), stderr: chunks.join('') };
  } finally {
    spy.mockRestore();
  }
}

describe('safety export', () => {
  it('writes one training line per decided reply since the date, and audits the count only', async () => {
    const danger = await decided(DISCLOSURE, 'danger', '2026-05-02T10:00:00Z', { locale: 'es' });
    // The same reply also flagged self_harm and marked danger: one line, both labels.
    await t.deps.db.safetyFlag.create({
      data: {
        subscriberId: danger.sub.id,
        messageId: danger.message.id,
        category: 'self_harm',
        band: 'ask',
        decision: 'danger',
        decidedAt: new Date('2026-05-02T11:00:00Z'),
      },
    });
    const safe = await decided('he hit the gym at 6, I slept in', 'safe', '2026-05-01T00:00:00Z', {
      band: 'ask',
    });
    await t.deps.db.message.update({ where: { id: safe.message.id }, data: { channel: 'email' } });
    await decided('decided the day before', 'danger', '2026-04-30T23:59:59.999Z');
    await decided('not decided yet', null, '2026-05-02T00:00:00Z');
    const purged = await decided('text past retention', 'danger', '2026-05-03T00:00:00Z');
    await t.deps.db.message.update({ where: { id: purged.message.id }, data: { bodyEnc: null } });

    const out = join(dir, 'review.jsonl');
    const { code, stderr } = await run(['--since', '2026-05-01', '--out', out]);
    expect(code).toBe(0);
    const lines = (await readFile(out, 'utf8'))
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toEqual([
      {
        text: 'he hit the gym at 6, I slept in',
        lang: 'en',
        channel: 'email',
        band: 'none',
        labels: [],
        kind: 'ordinary',
        source: 'review',
        decidedAt: '2026-05-01T00:00:00.000Z',
      },
      {
        text: DISCLOSURE,
        lang: 'es',
        channel: 'sms',
        band: 'act',
        labels: ['abuse', 'self_harm'],
        kind: 'danger',
        source: 'review',
        decidedAt: '2026-05-02T11:00:00.000Z',
      },
    ]);
    expect((await stat(out)).mode & 0o777).toBe(0o600);
    expect(stderr).toContain('wrote 2 reviewed replies');
    expect(stderr).toContain('skipped 1 decision(s) whose reply text is no longer kept');
    expect(stderr).toMatch(/WARNING: this file holds people's replies in the clear/);
    expect(stderr).not.toContain('took my phone');

    const audits = await t.deps.db.auditEvent.findMany({ where: { action: 'safety.export' } });
    expect(audits).toHaveLength(1);
    expect(audits[0]).toMatchObject({ actor: 'cli', target: out });
    expect(audits[0]!.detail).toEqual({ count: 2, since: '2026-05-01' });
    expect(JSON.stringify(audits)).not.toContain('took my phone');
    expect(JSON.stringify(audits)).not.toContain('gym');
  });

  it('refuses to overwrite an existing file, and records no export', async () => {
    const out = join(dir, 'kept.jsonl');
    await writeFile(out, 'an earlier export\n');
    const { code, stderr } = await run(['--since', '2026-05-01', '--out', out]);
    expect(code).toBe(1);
    expect(stderr).toContain(`${out} already exists`);
    expect(await readFile(out, 'utf8')).toBe('an earlier export\n');
    expect(
      await t.deps.db.auditEvent.count({ where: { action: 'safety.export', target: out } }),
    ).toBe(0);
  });

  it('writes safety-review-<since>.jsonl in the current directory by default', async () => {
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      expect((await run(['--since', '2026-05-02'])).code).toBe(0);
    } finally {
      process.chdir(cwd);
    }
    const lines = (await readFile(join(dir, 'safety-review-2026-05-02.jsonl'), 'utf8'))
      .trimEnd()
      .split('\n');
    expect(lines.map((l) => JSON.parse(l).text)).toEqual([DISCLOSURE]);
  });

  it.each([
    [['--since', '2026-5-1']],
    [['--since', '2026-02-30']],
    [['--since', 'yesterday']],
    [[]],
  ])('%j is a usage error naming YYYY-MM-DD', async (args) => {
    const err = await safetyExport(t.config, args).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toContain('YYYY-MM-DD');
  });
});
