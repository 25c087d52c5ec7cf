import { afterEach, describe, expect, it } from 'vitest';
import { ContentError, inspectContent, loadContent } from '../../src/content/load.ts';
import { copyMessages, REAL_MESSAGES, sharedFilesPresent, type Fixture } from './fixture.ts';

const SMS = 'messages/steady/en/sms.yaml';
const PROGRAM = 'messages/steady/program.yaml';

describe('the real messages/', () => {
  it('loads without errors or warnings', async () => {
    expect(sharedFilesPresent).toBe(true);
    const warnings: string[] = [];
    const content = await loadContent(REAL_MESSAGES, (w) => warnings.push(w));
    expect(warnings).toEqual([]);
    const program = content.programs.steady;
    expect(program?.name).toBe('Steady');
    expect(program?.steps).toHaveLength(28);
    expect(content.keywords.en?.stop.length).toBeGreaterThan(0);
    expect(content.resources.US ?? content.resources.default).toBeDefined();
    // The safety screen compiles the whole file (phrases and resources).
    expect(content.safety).toHaveProperty('resources');
  });
});

let fx: Fixture;

describe('a copy with the stand-in shared files', () => {
  afterEach(() => fx.cleanup());

  it('loads', async () => {
    fx = copyMessages();
    const result = await inspectContent(fx.dir);
    expect(result.errors).toEqual([]);
    expect(result.warnings).toEqual([]);
    expect(result.content?.resources.US?.emergency).toBe('911');
    expect(result.content?.safety).toMatchObject({ phrases: { en: { abuse: ['he hits me'] } } });
  });
});

/** Breaks a fresh copy, then returns the loader's errors and warnings. */
async function problemsAfter(
  change: (fx: Fixture) => void,
): Promise<{ errors: string[]; warnings: string[] }> {
  fx = copyMessages();
  change(fx);
  const { errors, warnings } = await inspectContent(fx.dir);
  return { errors, warnings };
}

describe('a broken copy', () => {
  afterEach(() => fx.cleanup());

  it.each<[string, (fx: Fixture) => void, string]>([
    [
      'a step without SMS text',
      (f) => f.edit('steady/en/sms.yaml', (t) => t.replace(/ {2}w3-d4: \|-\n( {4}.*\n)+/, '')),
      `${PROGRAM}: step "w3-d4" has no SMS text in ${SMS}`,
    ],
    [
      'a step without an email',
      (f) => f.remove('steady/en/email/w2-d2.md'),
      `${PROGRAM}: step "w2-d2" has no email in messages/steady/en/email/w2-d2.md`,
    ],
    [
      'an unknown placeholder',
      (f) =>
        f.edit('steady/en/sms.yaml', (t) => t.replace('Week 1, a first', '{{firstname}}, a first')),
      `${SMS}: steps.w1-d1 uses unknown placeholder {{firstname}}`,
    ],
    [
      'a placeholder outside its message',
      (f) =>
        f.edit('steady/en/sms.yaml', (t) => t.replace("you're all set.", 'back in {{days}} days.')),
      `${SMS}: system.welcome uses {{days}}, which is only filled in pause_days_confirm`,
    ],
    [
      'a link placeholder in an SMS',
      (f) =>
        f.edit('steady/en/sms.yaml', (t) => t.replace('Reply JOIN', '{{unsubscribeUrl}} JOIN')),
      `${SMS}: system.how_to_join uses {{unsubscribeUrl}}, which only emails have`,
    ],
    [
      'a malformed placeholder',
      (f) => f.edit('steady/en/email/w1-d3.md', (t) => t.replace('{{resources}}', '{resources}')),
      'messages/steady/en/email/w1-d3.md: body has a malformed placeholder',
    ],
    [
      'an invalid time',
      (f) =>
        f.edit('steady/program.yaml', (t) =>
          t.replace(
            "key: w3-d2, week: 3, day: 16, at: '12:30'",
            "key: w3-d2, week: 3, day: 16, at: '25:00'",
          ),
        ),
      `${PROGRAM}: step "w3-d2" at: must be a local time "HH:MM"`,
    ],
    [
      'two steps on one day',
      (f) =>
        f.edit('steady/program.yaml', (t) =>
          t.replace('key: w4-d2, week: 4, day: 23', 'key: w4-d2, week: 4, day: 21'),
        ),
      `${PROGRAM}: step "w4-d2" is on day 21, like step "w4-d0": at most one step a day`,
    ],
    [
      'a day outside its week',
      (f) =>
        f.edit('steady/program.yaml', (t) =>
          t.replace('key: w7-checkin, week: 7, day: 48', 'key: w7-checkin, week: 7, day: 49'),
        ),
      `${PROGRAM}: step "w7-checkin" is on day 49, outside week 7 (days 42-48)`,
    ],
    [
      'a duplicate key',
      (f) => f.edit('steady/program.yaml', (t) => t.replace('{ key: w5-d2,', '{ key: w5-d0,')),
      `${PROGRAM}: step "w5-d0" appears more than once`,
    ],
    [
      'a lowRatingStep that is not a step',
      (f) =>
        f.edit('steady/program.yaml', (t) =>
          t.replace('lowRatingStep: w7-d0', 'lowRatingStep: w7-self'),
        ),
      `${PROGRAM}: lowRatingStep "w7-self" is not a step`,
    ],
    [
      'an unknown kind',
      (f) =>
        f.edit('steady/program.yaml', (t) =>
          t.replace(
            "key: w2-d0, week: 2, day: 7, at: '09:30', kind: nudge",
            "key: w2-d0, week: 2, day: 7, at: '09:30', kind: tip",
          ),
        ),
      `${PROGRAM}: step "w2-d0" kind:`,
    ],
    [
      'a missing system SMS',
      (f) => f.edit('steady/en/sms.yaml', (t) => t.replace(/ {2}ack_mid: \|-\n( {4}.*\n)+/, '')),
      `${SMS}: system message "ack_mid" is missing`,
    ],
    [
      'a missing system email',
      (f) => f.remove('steady/en/email/safety_abuse.md'),
      'messages/steady/en/email/safety_abuse.md: system email "safety_abuse" is missing',
    ],
    [
      // A HELP or STOP by email must be answered by email (issue 18): every reply message on both.
      'no HELP email',
      (f) => f.remove('steady/en/email/help.md'),
      'messages/steady/en/email/help.md: system email "help" is missing',
    ],
    [
      'no STOP confirmation email',
      (f) => f.remove('steady/en/email/stop_confirm.md'),
      'messages/steady/en/email/stop_confirm.md: system email "stop_confirm" is missing',
    ],
    [
      'no opt-out clarification SMS',
      (f) => f.edit('steady/en/sms.yaml', (t) => t.replace(/ {2}optout_clarify: \|-\n.*\n/, '')),
      `${SMS}: system message "optout_clarify" is missing`,
    ],
    [
      'an email without a subject',
      (f) => f.edit('steady/en/email/w4-d4.md', (t) => t.replace(/subject: .*\n/, '')),
      'messages/steady/en/email/w4-d4.md: subject: lacks "subject:" in its front matter',
    ],
    [
      'an email without a body',
      (f) => f.edit('steady/en/email/w5-d2.md', (t) => t.slice(0, t.indexOf('---', 3) + 4)),
      'messages/steady/en/email/w5-d2.md: has no body after the front matter',
    ],
    [
      'invalid YAML',
      (f) => f.edit('steady/en/sms.yaml', (t) => t.replace('steps:\n', 'steps:\n  : : [\n')),
      `${SMS}: is not valid YAML`,
    ],
    [
      'a missing keywords.yaml',
      (f) => f.remove('keywords.yaml'),
      'messages/keywords.yaml: file is missing',
    ],
    [
      'resources without an emergency number',
      (f) => f.edit('safety.yaml', (t) => t.replace("    emergency: '911'\n", '')),
      'messages/safety.yaml: resources.US.emergency:',
    ],
  ])('reports %s, naming the file and step', async (_name, change, expected) => {
    const { errors } = await problemsAfter(change);
    expect(errors.some((e) => e.startsWith(expected))).toBe(true);
  });

  it('reports a file that is not YAML once, not once per text in it', async () => {
    const { errors } = await problemsAfter((f) =>
      f.edit('steady/en/sms.yaml', (t) => t.replace('steps:\n', 'steps:\n  : : [\n')),
    );
    expect(errors).toHaveLength(1);
  });

  it('warns, without failing, about a text no step uses', async () => {
    const { errors, warnings } = await problemsAfter((f) =>
      f.edit('steady/en/sms.yaml', (t) => t.replace('steps:\n', 'steps:\n  w9-d1: Spare text.\n')),
    );
    expect(errors).toEqual([]);
    expect(warnings).toEqual([`${SMS}: steps.w9-d1 is not a step in ${PROGRAM}; nothing sends it`]);
  });

  it('warns about a send time outside 09:00-19:00', async () => {
    const { errors, warnings } = await problemsAfter((f) =>
      f.edit('steady/program.yaml', (t) =>
        t.replace("day: 13, at: '18:30'", "day: 13, at: '21:15'"),
      ),
    );
    expect(errors).toEqual([]);
    expect(warnings).toEqual([
      `${PROGRAM}: step "w2-checkin" is sent at 21:15, outside 09:00-19:00 local time`,
    ]);
  });

  it('throws one ContentError listing every problem', async () => {
    fx = copyMessages();
    fx.remove('steady/en/email/w2-d2.md');
    fx.edit('steady/en/sms.yaml', (t) => t.replace('Week 1, a first', '{{oops}} a first'));
    const error = await loadContent(fx.dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ContentError);
    const { message, problems } = error as ContentError;
    expect(problems).toHaveLength(2);
    expect(message).toContain('messages/ has 2 problems:');
    expect(message).toContain(`${PROGRAM}: step "w2-d2" has no email in`);
    expect(message).toContain(`${SMS}: steps.w1-d1 uses unknown placeholder {{oops}}`);
  });
});
