// .env.example lists every setting with its default; a .env file in the working directory fills
// in what the environment does not set (the environment wins), for `dev`, the roles and every
// command; NODE_ENV=test in the environment keeps a developer's .env away from the suite.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseEnv } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { configVariables, loadConfig, loadEnvFile } from '../../src/config.ts';
import { ROOT } from '../../src/paths.ts';
import { TEST_DATABASE_URL } from '../support/env.ts';

const dir = mkdtempSync(join(tmpdir(), 'steady-envfile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('.env.example', () => {
  // Every `# NAME=value` line, uncommented and read as a .env file would be.
  const text = readFileSync(join(ROOT, '.env.example'), 'utf8');
  const listed = parseEnv(
    text
      .split('\n')
      .filter((l) => /^# [A-Z][A-Z0-9_]*=/.test(l))
      .map((l) => l.slice(2))
      .join('\n'),
  );
  const fix = 'run `npm run env-example` to rewrite .env.example from src/config.ts';

  it('lists every variable of the configuration schema, and nothing else', () => {
    const names = configVariables().map((v) => v.name);
    expect(names.length).toBeGreaterThan(40);
    expect(
      names.filter((n) => !(n in listed)),
      fix,
    ).toEqual([]);
    expect(
      Object.keys(listed).filter((n) => !names.includes(n)),
      fix,
    ).toEqual([]);
  });

  it("shows each variable's default (blank where there is none)", () => {
    for (const v of configVariables())
      expect(listed[v.name], `${v.name}: ${fix}`).toBe(v.default ?? '');
  });

  it('uncommented as it stands, it configures exactly the defaults', () => {
    expect(loadConfig(listed)).toEqual(loadConfig({}));
  });
});

describe('loadEnvFile', () => {
  const file = join(dir, 'unit.env');
  writeFileSync(
    file,
    '# a comment\nPORT=3999\nLOG_LEVEL=debug\nEMAIL_FROM="Steady <a@example.com>"\n',
  );

  it('sets what the environment does not, and the environment wins', () => {
    const env: Record<string, string | undefined> = { LOG_LEVEL: 'warn' };
    expect(loadEnvFile(file, env).sort()).toEqual(['EMAIL_FROM', 'PORT']);
    expect(env).toEqual({ LOG_LEVEL: 'warn', PORT: '3999', EMAIL_FROM: 'Steady <a@example.com>' });
  });

  it('does nothing without a file, or when the environment says NODE_ENV=test', () => {
    const env: Record<string, string | undefined> = {};
    expect(loadEnvFile(join(dir, 'missing.env'), env)).toEqual([]);
    expect(loadEnvFile(file, { NODE_ENV: 'test' })).toEqual([]);
    expect(env).toEqual({});
  });
});

describe('the command line reads .env from its working directory', () => {
  // The CLI as a person runs it, from a folder holding a .env (tsx by absolute path, since the
  // folder has no node_modules).
  const tsx = pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
  function cli(cwd: string, env: Record<string, string>) {
    const r = spawnSync(
      process.execPath,
      ['--import', tsx, join(ROOT, 'src', 'cli.ts'), 'migrate'],
      {
        cwd,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    return { code: r.status, out: r.stdout, err: r.stderr };
  }
  const project = mkdtempSync(join(dir, 'cwd-'));
  writeFileSync(
    join(project, '.env'),
    `DATABASE_URL=${TEST_DATABASE_URL}\nQUIET_HOURS_START=late\nLOG_LEVEL=silent\n`,
  );

  it('a setting only in .env is used', () => {
    const r = cli(project, {});
    expect(r.code).toBe(2);
    expect(r.err).toContain('QUIET_HOURS_START (got "late")');
  });

  it('the environment wins over .env', () => {
    const r = cli(project, { QUIET_HOURS_START: '21:00' });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/steady_test is up to date|applied/);
  });

  it('NODE_ENV=test in the environment ignores .env', () => {
    const r = cli(project, { NODE_ENV: 'test', DATABASE_URL: TEST_DATABASE_URL });
    expect(r.code).toBe(0);
  });
});
