// The command line as a person runs it: exit codes, messages without stack traces, and the
// read-only commands' output.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { TEST_DATABASE_URL } from '../support/env.ts';

function cli(args: string[], env: Record<string, string> = {}, input?: string) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
    cwd: process.cwd(),
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      DATABASE_URL: TEST_DATABASE_URL,
      LOG_LEVEL: 'silent',
      ...env,
    },
    input,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('cli', () => {
  it('a bad setting stops with exit code 2 and one readable message, no stack trace', () => {
    const r = cli(['migrate'], { PORT: 'abc', QUIET_HOURS_START: 'late' });
    expect(r.code).toBe(2);
    expect(r.err).toContain('PORT (got "abc")');
    expect(r.err).toContain('QUIET_HOURS_START');
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  it('production with no secrets set: serve exits 2 and names every one in one message', () => {
    const r = cli(['serve'], { NODE_ENV: 'production' });
    expect(r.code).toBe(2);
    for (const name of [
      'APP_SECRET',
      'ADMIN_TOKEN',
      'TWILIO_AUTH_TOKEN',
      'INBOUND_EMAIL_SECRET',
      'REPLY_ENCRYPTION_KEYS',
      // What people are told about the sender, and the https address in every link.
      'EMAIL_FROM',
      'POSTAL_ADDRESS',
      'SUPPORT_CONTACT',
      'REPLY_DOMAIN',
      'TRUST_PROXY',
      'PUBLIC_URL',
    ])
      expect(r.err).toContain(name);
    expect(r.err.match(/Steady cannot start/g)).toHaveLength(1);
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  it('an unknown command prints the usage and exits 2', () => {
    const r = cli(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('Unknown command "frobnicate"');
    expect(r.err).toContain('simulate --channel');
  });

  it('migrate twice: the second run is a no-op', () => {
    expect(cli(['migrate']).code).toBe(0);
    const r = cli(['migrate']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/up to date/);
  });

  it('content check prints encoding and segments for every SMS', () => {
    const r = cli(['content', 'check']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/GSM-7/);
    expect(r.out).toMatch(/w1-checkin/);
    expect(r.out).toMatch(/safety_abuse/);
    expect(r.out).toMatch(/content check passed/);
  });

  it('classify --jsonl answers one line per input line, in order, as DESIGN.md specifies', () => {
    const input = [
      { id: 'a', channel: 'sms', text: ' STOP ' },
      { id: 'b', channel: 'sms', text: '3/5' },
      {
        id: 'c',
        channel: 'sms',
        text: "2. he took my phone again and said he'd hurt me if I text you",
      },
      {
        id: 'd',
        channel: 'email',
        text: 'Better this week.\n\nOn Mon, Mar 2, 2026 at 9:00 AM Steady <hello@example.com> wrote:\n> If you ever feel unsafe or afraid, reply\n',
      },
    ]
      .map((l) => JSON.stringify(l))
      .join('\n');
    const r = cli(['classify', '--jsonl'], {}, input);
    expect(r.code).toBe(0);
    const lines = r.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.id)).toEqual(['a', 'b', 'c', 'd']);
    expect(lines[0]).toMatchObject({ intent: 'stop', rating: null, safety: [] });
    expect(lines[1]).toMatchObject({ intent: 'rating', rating: 3, safety: [] });
    expect(lines[2].rating).toBe(2);
    expect(lines[2].safety).toContain('abuse');
    expect(lines[3].safety).toEqual([]); // the quoted program text never counts
    expect(lines[2]).toMatchObject({ band: 'act' });
    expect(lines[2].risk.abuse).toBeGreaterThan(0.5);
    expect(lines[0]).toMatchObject({ band: 'none', concern: [], optout: 'optout' });
    expect(lines[1]).toMatchObject({ optout: null });
    for (const l of lines)
      expect(Object.keys(l).sort()).toEqual([
        'band',
        'concern',
        'id',
        'intent',
        'matched',
        'optout',
        'rating',
        'risk',
        'safety',
      ]);
  });

  it('enroll refuses a premium-rate number with a clear error', () => {
    const r = cli(['enroll', '--phone', '+19005550123']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/premium-rate/);
  });
});
