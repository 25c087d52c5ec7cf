// The content format of experiments: a step's variants in sms.yaml (`variants:`) and as email
// files `<step>.<variant>.md`, and what `content check` holds them to.
import { afterEach, describe, expect, it } from 'vitest';
import { checkContent } from '../../src/content/check.ts';
import { inspectContent } from '../../src/content/load.ts';
import { copyMessages, type Fixture } from '../content/fixture.ts';

const STEP = 'w3-d2';
const EN = 'steady/en/sms.yaml';
const ES = 'steady/es/sms.yaml';

/** Replaces a step's text in an sms.yaml with `block` (already indented under the key). */
function withStep(yaml: string, step: string, block: string): string {
  const at = new RegExp(`^  ${step}:.*\\n(?:    .*\\n)*`, 'm');
  if (!at.test(yaml)) throw new Error(`no step ${step}`);
  return yaml.replace(at, `  ${step}:\n${block}`);
}

const variants = (entries: Record<string, string>) =>
  `    variants:\n${Object.entries(entries)
    .map(([name, body]) => `      ${name}:\n${body.replace(/^/gm, '        ')}\n`)
    .join('')}`;

const text = (first: string, weight?: number) =>
  `${weight === undefined ? '' : `weight: ${weight}\n`}text: |-\n  ${first}\n  A second line with the idea for today, kept short.`;

let fx: Fixture;
afterEach(() => fx?.cleanup());

function smsExperiment(en: Record<string, string>, es: Record<string, string> = en) {
  fx = copyMessages();
  fx.edit(EN, (t) => withStep(t, STEP, variants(en)));
  fx.edit(ES, (t) => withStep(t, STEP, variants(es)));
}

describe('SMS variants', () => {
  it('loads them with their weights, sizes each, and keeps the first for one-text readers', async () => {
    smsExperiment({ a: text('A thought for today.', 2), b: text('Something to try today.') });
    const result = await checkContent(fx.dir);
    expect(result.errors).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.report).toMatch(new RegExp(`^steady +en +${STEP}\\.a +GSM-7 +\\d+ +1$`, 'm'));
    expect(result.report).toMatch(new RegExp(`^steady +es +${STEP}\\.b +GSM-7 `, 'm'));
    const built = await inspectContent(fx.dir);
    const en = built.content!.programs.steady!.locales.en!;
    expect(en.variants?.sms[STEP]).toEqual({
      a: { text: expect.stringMatching(/^A thought for today\./), weight: 2 },
      b: { text: expect.stringMatching(/^Something to try today\./), weight: 1 },
    });
    expect(en.sms[STEP]).toMatch(/^A thought for today\./);
  });

  it.each([
    [0, /weight 0: a weight is a positive number/],
    [-1, /weight -1: a weight is a positive number/],
  ])('refuses weight %i', async (weight, error) => {
    smsExperiment({ a: text('A thought for today.', weight), b: text('Something to try.') });
    const result = await checkContent(fx.dir);
    expect(result.ok).toBe(false);
    expect(result.errors).toContainEqual(
      expect.stringMatching(new RegExp(`sms.yaml: steps.${STEP}.variants.a has ${error.source}`)),
    );
  });

  it('holds every variant to the segment limit and the lock-screen rule', async () => {
    const long = `A thought for today.\n  ${'Plain words again and again. '.repeat(12)}`;
    smsExperiment({ a: `text: |-\n  ${long}`, b: text('Your partner and their abuse.') });
    const result = await checkContent(fx.dir);
    expect(result.errors).toContainEqual(
      expect.stringMatching(new RegExp(`en/sms.yaml: "${STEP}.a" needs 3 segments`)),
    );
    expect(result.errors).toContainEqual(
      expect.stringMatching(new RegExp(`en/sms.yaml: "${STEP}.b" shows "\\w+" on a lock screen`)),
    );
  });

  it('needs the same variants and weights in every locale, and at least two', async () => {
    smsExperiment(
      { a: text('A thought for today.'), b: text('Something to try.') },
      { a: text('Una idea para hoy.'), c: text('Algo para probar.') },
    );
    let result = await checkContent(fx.dir);
    expect(result.errors).toContainEqual(
      expect.stringMatching(
        /steady\/es\/sms.yaml: step "w3-d2" has variants a \(weight 1\), c \(weight 1\), but en has variants a \(weight 1\), b \(weight 1\)/,
      ),
    );
    fx.cleanup();

    smsExperiment(
      { a: text('A thought for today.', 1), b: text('Something to try.', 1) },
      { a: text('Una idea para hoy.', 1), b: text('Algo para probar.', 3) },
    );
    result = await checkContent(fx.dir);
    expect(result.errors).toContainEqual(expect.stringMatching(/every locale needs the same/));
    fx.cleanup();

    fx = copyMessages();
    // es keeps one text for the step.
    fx.edit(EN, (t) => withStep(t, STEP, variants({ a: text('A thought for today.') })));
    result = await checkContent(fx.dir);
    expect(result.errors).toContainEqual(
      expect.stringMatching(/steps.w3-d2.variants needs at least two variants/),
    );
    expect(result.errors).toContainEqual(
      expect.stringMatching(/es\/sms.yaml: step "w3-d2" has no variants/),
    );
  });

  it('refuses a variant that is neither a text nor { text, weight }', async () => {
    smsExperiment({ a: 'texto: nope', b: text('Something to try.') });
    const result = await checkContent(fx.dir);
    expect(result.errors).toContainEqual(
      expect.stringMatching(
        /steps.w3-d2.variants.a must be a text, or \{ text: "...", weight: 1 \}/,
      ),
    );
  });
});

describe('email variants', () => {
  function emailExperiment(weightB = '2') {
    fx = copyMessages();
    for (const locale of ['en', 'es']) {
      const dir = `steady/${locale}/email`;
      const original = fx.read(`${dir}/${STEP}.md`);
      fx.remove(`${dir}/${STEP}.md`);
      fx.write(`${dir}/${STEP}.a.md`, original);
      fx.write(
        `${dir}/${STEP}.b.md`,
        original
          .replace(/^---\n/, `---\nweight: ${weightB}\n`)
          .replace(/\n---\n/, '\n---\nA new first paragraph.\n\n'),
      );
    }
  }

  it('reads <step>.<variant>.md files with a weight in the front matter', async () => {
    emailExperiment();
    const result = await checkContent(fx.dir);
    expect(result.errors).toEqual([]);
    const built = await inspectContent(fx.dir);
    const es = built.content!.programs.steady!.locales.es!;
    expect(Object.keys(es.variants?.email[STEP] ?? {})).toEqual(['a', 'b']);
    expect(es.variants?.email[STEP]?.b?.weight).toBe(2);
    expect(es.variants?.email[STEP]?.b?.template.markdown).toMatch(/^A new first paragraph\./);
    expect(es.email[STEP]).toEqual(es.variants?.email[STEP]?.a?.template);
  });

  it('refuses a bad weight, a plain file beside the variants, and names that differ from SMS', async () => {
    emailExperiment('-2');
    let result = await checkContent(fx.dir);
    expect(result.errors).toContainEqual(
      expect.stringMatching(/en\/email\/w3-d2.b.md: weight: weight must be a positive number/),
    );
    fx.cleanup();

    emailExperiment();
    fx.write(`steady/en/email/${STEP}.md`, fx.read(`steady/en/email/${STEP}.a.md`));
    fx.edit(EN, (t) => withStep(t, STEP, variants({ x: text('One.'), y: text('Two.') })));
    fx.edit(ES, (t) => withStep(t, STEP, variants({ x: text('Uno.'), y: text('Dos.') })));
    result = await checkContent(fx.dir);
    expect(result.errors).toContainEqual(
      expect.stringMatching(
        /en\/email\/w3-d2.md: step "w3-d2" has variant files .* name this one w3-d2.a.md/,
      ),
    );
    expect(result.errors).toContainEqual(
      expect.stringMatching(/step "w3-d2" has variants a, b by email but x, y by SMS/),
    );
  });
});
