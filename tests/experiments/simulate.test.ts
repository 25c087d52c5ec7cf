// `simulate` shows the variant each step was sent as: the step of messages/ that carries an
// experiment (steady's w2-d2) prints its variant and that variant's text; other steps print null.
import { describe, expect, it } from 'vitest';
import { simulate } from '../../src/commands/simulate.ts';
import { loadContent } from '../../src/content/load.ts';
import { experimentSteps } from '../../src/core/experiments.ts';
import { MESSAGES_DIR } from '../../src/paths.ts';
import { ownDatabase } from '../support/db.ts';
import { testConfig } from '../support/env.ts';

describe('simulate with an experiment in messages/', () => {
  it('prints the variant of each step', async () => {
    const content = await loadContent(MESSAGES_DIR);
    const program = content.programs.steady!;
    const experiments = experimentSteps(program);
    expect(experiments).toContain('w2-d2');

    const env = { DATABASE_URL: await ownDatabase('experiments_simulate') };
    const opts = {
      channel: 'sms' as const,
      replies: ['4'],
      tz: 'America/Chicago',
      start: '2026-03-02T15:00:00Z',
    };
    const lines = await simulate(testConfig(env), opts);
    for (const l of lines) expect(l).toHaveProperty('variant');
    const step = lines.find((l) => l.step === 'w2-d2')!;
    expect(['a', 'b']).toContain(step.variant);
    const texts = program.locales.en!.variants!.sms['w2-d2']!;
    expect(step.text).toBe(texts[step.variant!]!.text);
    for (const l of lines.filter((x) => x.step && !experiments.includes(x.step)))
      expect(l.variant).toBeNull();

    // The same input gives the same variant: tests/engine/simulate.test.ts compares whole runs.
  }, 240_000);
});
