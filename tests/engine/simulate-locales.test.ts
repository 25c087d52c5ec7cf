// `simulate --program --locale`: a program run in one of its languages, each line naming the
// program and language, through the same code as production (and the real command line).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { simulate, type TranscriptLine } from '../../src/commands/simulate.ts';
import { ownDatabase } from '../support/db.ts';
import { testConfig } from '../support/env.ts';

const steadySpanish = existsSync(join(process.cwd(), 'messages', 'steady', 'es', 'sms.yaml'));

let url: string;
beforeAll(async () => {
  url = await ownDatabase('simulate_locales');
});

const opts = { replies: ['2', '1'], tz: 'America/Chicago', start: '2026-03-02T15:00:00Z' };

describe('simulate --program --locale', () => {
  it('runs Calm in Spanish by email: its own steps, every line naming the program', async () => {
    const lines = await simulate(testConfig({ DATABASE_URL: url }), {
      ...opts,
      channel: 'email',
      program: 'calm',
      locale: 'es',
    });
    expect(new Set(lines.map((l) => `${l.program}/${l.locale}`))).toEqual(new Set(['calm/es']));
    const steps = lines.filter((l) => l.kind === 'nudge' || l.kind === 'checkin');
    expect(new Set(steps.map((l) => l.step)).size).toBe(8);
    expect(lines[0]?.subject).toBe('Te damos la bienvenida a Calm');
    expect(lines.at(-1)?.subject).toBe('El final de tus 2 semanas');
  }, 60_000);

  it('refuses a language the program is not written in, and a program that is not live', async () => {
    const cfg = testConfig({ DATABASE_URL: url });
    await expect(simulate(cfg, { ...opts, channel: 'sms', locale: 'fr' })).rejects.toThrow(
      /--locale "fr": program "steady" is written in en, es|--locale "fr"/,
    );
    await expect(simulate(cfg, { ...opts, channel: 'sms', program: 'nope' })).rejects.toThrow(
      /--program "nope" is not a live program/,
    );
  }, 60_000);

  it.skipIf(!steadySpanish)(
    'the command line: simulate --channel sms --locale es --json prints Steady in Spanish',
    () => {
      const r = spawnSync(
        process.execPath,
        [
          '--import',
          'tsx',
          'src/cli.ts',
          'simulate',
          '--channel',
          'sms',
          '--locale',
          'es',
          '--json',
        ],
        {
          cwd: process.cwd(),
          env: {
            PATH: process.env.PATH ?? '',
            HOME: process.env.HOME ?? '/tmp',
            DATABASE_URL: url,
            REDIS_PREFIX: `sim-locales-${process.pid}`,
            LOG_LEVEL: 'silent',
            NODE_ENV: 'test',
          },
          encoding: 'utf8',
          timeout: 120_000,
        },
      );
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const lines = r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as TranscriptLine);
      expect(new Set(lines.map((l) => `${l.program}/${l.locale}`))).toEqual(new Set(['steady/es']));
      expect(lines[0]?.text).toMatch(/^Te damos la bienvenida a Steady\./);
      const steps = lines.filter((l) => l.kind === 'nudge' || l.kind === 'checkin');
      expect(new Set(steps.map((l) => l.step)).size).toBe(28);
      expect(lines.at(-1)?.text).toMatch(/^Terminaron tus 7 semanas\./);
    },
    150_000,
  );
});
