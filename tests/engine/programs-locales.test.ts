// Several programs side by side, and each person's language, end to end: signed Twilio webhooks,
// the real workers, the twilio SDK against the fake Twilio API. Steady (the default program, JOIN)
// and Calm (CALM / CALMA) run in one harness under their unique test keys.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Program } from '../../src/content/types.ts';
import { buildApp } from '../../src/http/app.ts';
import { routeModules } from '../../src/http/modules.ts';
import { freshEmail, freshPhone, ownDatabase } from '../support/db.ts';
import { harness, type Harness } from '../support/harness.ts';
import { textViaWebhook } from '../support/twilio-post.ts';

/** Whether the Spanish writer's messages/steady/es exists yet (the steady/UNETE tests need it). */
const steadySpanish = existsSync(join(process.cwd(), 'messages', 'steady', 'es', 'sms.yaml'));

let h: Harness;
let app: FastifyInstance;
let steady: Program;
let calm: Program;

beforeAll(async () => {
  h = await harness({
    start: '2026-05-04T14:00:00Z', // Monday 10:00 in New York
    env: { DATABASE_URL: await ownDatabase('programs_locales') },
  });
  app = await buildApp(h.deps);
  steady = h.deps.programs.default;
  calm = h.deps.programs.all().find((p) => p.key.startsWith('calm-'))!;
});
afterAll(async () => {
  await app?.close();
  await h?.close();
});

const text = (from: string, body: string) => textViaWebhook(h, app, from, body);
/** What the fake Twilio API accepted for this number since `from` (an index into the list). */
const bodies = (phone: string) => h.smsTo(phone).map((m) => m.body);
const last = (phone: string) => bodies(phone).at(-1) ?? '';
/** A system text's first line as the person would read it, up to its first other placeholder. */
const opening = (program: Program, locale: string, key: string) => {
  const raw = program.locales[locale]?.sms[key];
  if (raw === undefined) throw new Error(`${program.key}/${locale} has no SMS "${key}"`);
  return raw.replaceAll('{{programName}}', program.name).split('\n')[0]!.split('{{')[0]!;
};
const subscriber = (phone: string) =>
  h.deps.db.subscriber.findFirstOrThrow({ where: { phone }, include: { enrollments: true } });

describe('the language of the join keyword', () => {
  it.skipIf(!steadySpanish)(
    'UNETE: Spanish opt-in, and after SI the welcome, HELP and STOP in Spanish',
    async () => {
      const phone = await freshPhone(h.deps.db);
      await text(phone, 'ÚNETE');
      expect(last(phone)).toContain(opening(steady, 'es', 'optin_confirm'));
      expect(last(phone)).not.toContain('Reply YES');
      expect((await subscriber(phone)).locale).toBe('es');

      await text(phone, 'SI');
      expect(last(phone)).toContain(opening(steady, 'es', 'welcome'));
      const sub = await subscriber(phone);
      expect(sub.enrollments.map((e) => [e.program, e.state])).toEqual([[steady.key, 'active']]);

      // English keywords, Spanish answers: the person's language, not the word's.
      await text(phone, 'HELP');
      expect(last(phone)).toContain(opening(steady, 'es', 'help'));
      expect(last(phone)).toMatch(/Responde STOP para cancelar/);
      await text(phone, 'STOP');
      expect(last(phone)).toMatch(/te diste de baja/);
    },
  );

  it("CALMA: Calm's Spanish opt-in, then its Spanish welcome; HELP and STOP in Spanish", async () => {
    const phone = await freshPhone(h.deps.db);
    await text(phone, 'Calma');
    expect(last(phone)).toMatch(/^Calm: mensajes cortos para mantener la calma/);
    const sub = await subscriber(phone);
    expect(sub.locale).toBe('es');
    expect(sub.enrollments.map((e) => [e.program, e.state])).toEqual([[calm.key, 'pending']]);

    await text(phone, 'si');
    expect(last(phone)).toMatch(/^Te damos la bienvenida a Calm\./);
    expect((await subscriber(phone)).enrollments[0]!.state).toBe('active');

    await text(phone, 'HELP');
    expect(last(phone)).toMatch(
      /^Calm ayuda: .*IDIOMA para el idioma.*La frecuencia puede variar/s,
    );
    await text(phone, 'STOP');
    expect(last(phone)).toMatch(/^Calm: te diste de baja/);
    expect((await subscriber(phone)).enrollments[0]!.state).toBe('stopped');
  });

  it("CALM: Calm's English opt-in; the first program step comes from Calm", async () => {
    const phone = await freshPhone(h.deps.db);
    await text(phone, 'calm');
    expect(last(phone)).toMatch(/^Calm: short texts to help you stay steady/);
    await text(phone, 'YES');
    expect(last(phone)).toMatch(/^Welcome to Calm\./);
    const sub = await subscriber(phone);
    expect(sub.locale).toBe('en');
    const e = sub.enrollments[0]!;
    expect([e.program, e.state, e.nextStep]).toEqual([calm.key, 'active', 'w1-d1']);
  });

  it("a stranger's HELP answers in the language of the word used", async () => {
    const spanish = await freshPhone(h.deps.db);
    await text(spanish, 'AYUDA');
    expect(last(spanish)).toMatch(/ayuda: /);
    const english = await freshPhone(h.deps.db);
    await text(english, 'HELP');
    expect(last(english)).toMatch(/^Steady help: /);
    // Nobody was signed up by asking.
    expect(await h.deps.db.subscriber.count({ where: { phone: { in: [spanish, english] } } })).toBe(
      0,
    );
  });
});

describe('one person in two programs', () => {
  it('joins Calm by its keyword while in Steady, is never in one program twice, and STOP stops both', async () => {
    const phone = await freshPhone(h.deps.db);
    await text(phone, 'JOIN');
    await text(phone, 'YES');
    expect(last(phone)).toMatch(/^Welcome to Steady/);

    // Already with us: Calm's keyword starts Calm at once, beside Steady.
    await text(phone, 'CALM');
    expect(last(phone)).toMatch(/^Welcome to Calm\./);
    let sub = await subscriber(phone);
    const states = () =>
      Object.fromEntries(sub.enrollments.map((e) => [e.program, e.state])) as Record<
        string,
        string
      >;
    expect(states()).toEqual({ [steady.key]: 'active', [calm.key]: 'active' });

    // Twice in one program: refused (no second enrollment, no second welcome).
    const before = bodies(phone).length;
    await text(phone, 'JOIN');
    await text(phone, 'calm');
    sub = await subscriber(phone);
    expect(sub.enrollments).toHaveLength(2);
    expect(bodies(phone).length).toBe(before);

    // STOP stops everything, as carriers expect, with one confirmation.
    await text(phone, 'STOP');
    sub = await subscriber(phone);
    expect(sub.status).toBe('stopped');
    expect(states()).toEqual({ [steady.key]: 'stopped', [calm.key]: 'stopped' });
    expect(bodies(phone).length).toBe(before + 1);
    expect(last(phone)).toMatch(/unsubscribed/);

    // And nothing more goes out from either program, even when steps fall due.
    h.clock.advance({ days: 3 });
    await h.settle();
    expect(bodies(phone).length).toBe(before + 1);
  });

  it('an enroll into a program the person is in on another channel is refused', async () => {
    const { enroll, EnrollError } = await import('../../src/flows/enroll.ts');
    const phone = await freshPhone(h.deps.db);
    // Unique: a number's last digits repeat across area codes and runs.
    const email = freshEmail('both');
    await enroll(h.deps, {
      phone,
      email,
      program: calm.key,
      confirm: true,
      evidence: { source: 'cli' },
    });
    await expect(
      enroll(h.deps, { email, program: calm.key, confirm: true, evidence: { source: 'cli' } }),
    ).rejects.toMatchObject({ code: 'already_enrolled' });
    await expect(
      enroll(h.deps, { email, program: 'no-such', confirm: true, evidence: { source: 'cli' } }),
    ).rejects.toBeInstanceOf(EnrollError);
    // Another program by email is fine.
    const r = await enroll(h.deps, { email, confirm: true, evidence: { source: 'cli' } });
    expect(r.channel).toBe('email');
  });
});

describe('the sign-up form and enroll choose the program and the language', () => {
  it('POST /subscribe with program and language: Calm, in Spanish; unknown ones are refused', async () => {
    const email = `form-${Date.now().toString(36)}@example.com`;
    // The app with the email course's routes (the sign-up form), as `serve` builds it.
    const full = await buildApp(h.deps, { modules: routeModules });
    const post = (body: Record<string, string>) =>
      full.inject({
        method: 'POST',
        url: '/subscribe',
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify(body),
      });
    const bad = await post({ email, timezone: 'America/Chicago', program: 'no-such' });
    expect([bad.statusCode, bad.json().error]).toEqual([400, 'invalid_program']);
    const badLanguage = await post({ email, program: calm.key, language: 'fr' });
    expect([badLanguage.statusCode, badLanguage.json().error]).toEqual([400, 'invalid_language']);

    const ok = await post({
      email,
      timezone: 'America/Chicago',
      program: calm.key,
      language: 'es',
    });
    expect(ok.statusCode).toBe(200);
    await h.settle();
    const sub = await h.deps.db.subscriber.findFirstOrThrow({
      where: { email },
      include: { enrollments: true },
    });
    expect(sub.locale).toBe('es');
    expect(sub.enrollments.map((e) => [e.program, e.channel, e.state])).toEqual([
      [calm.key, 'email', 'pending'],
    ]);
    expect(h.mailTo(email).map((m) => m.subject)).toEqual(['Confirma tu suscripción']);
    await full.close();
  });

  it('enroll --program calm --locale es: the welcome in Spanish', async () => {
    const { enroll } = await import('../../src/flows/enroll.ts');
    const phone = await freshPhone(h.deps.db);
    await enroll(h.deps, {
      phone,
      program: calm.key,
      locale: 'es',
      confirm: true,
      evidence: { source: 'cli' },
    });
    await h.settle();
    expect(last(phone)).toMatch(/^Te damos la bienvenida a Calm\./);
    await expect(
      enroll(h.deps, {
        phone,
        program: calm.key,
        locale: 'fr',
        confirm: true,
        evidence: { source: 'cli' },
      }),
    ).rejects.toMatchObject({ code: 'unknown_locale' });
  });
});

describe('changing language mid-program', () => {
  it('IDIOMA asks in the other language; ESPAÑOL switches and confirms in Spanish; LANGUAGE EN switches back', async () => {
    const phone = await freshPhone(h.deps.db);
    await text(phone, 'CALM');
    await text(phone, 'YES');
    expect((await subscriber(phone)).locale).toBe('en');

    // How to choose, in Spanish (the other language), with the words for both.
    await text(phone, 'IDIOMA');
    expect(last(phone)).toMatch(/^Calm: para recibir los mensajes en español, responde ESPANOL/);
    expect(last(phone)).toMatch(/reply ENGLISH/);
    expect((await subscriber(phone)).locale).toBe('en');

    await text(phone, 'Español');
    expect((await subscriber(phone)).locale).toBe('es');
    expect(last(phone)).toMatch(/^Calm: listo, desde ahora te escribimos en español/);
    // Everything after is Spanish.
    await text(phone, 'PAUSE');
    expect(last(phone)).toMatch(/^Calm: en pausa\./);

    // Bare LANGUAGE from someone reading Spanish: the menu in English.
    await text(phone, 'language');
    expect(last(phone)).toMatch(/^Calm: for texts in English, reply ENGLISH/);
    await text(phone, 'LANGUAGE EN');
    expect((await subscriber(phone)).locale).toBe('en');
    expect(last(phone)).toMatch(/^Calm: done, your messages will come in English/);
    await text(phone, 'idioma es');
    expect((await subscriber(phone)).locale).toBe('es');
  });
});

describe('figures per program', () => {
  it('the admin API and the dashboard name each program', async () => {
    const res = await app.inject({
      method: 'GET',
      url: '/admin/api/stats',
      headers: { authorization: `Bearer ${h.config.adminToken}` },
    });
    expect(res.statusCode).toBe(200);
    const { programs } = res.json() as {
      programs: { program: string; name: string; enrollments: Record<string, number> }[];
    };
    expect(programs.map((p) => [p.program, p.name])).toEqual([
      [steady.key, 'Steady'],
      [calm.key, 'Calm'],
    ]);
    // Calm's people are counted under Calm (the tests above enrolled some).
    const calmFigures = programs.find((p) => p.program === calm.key)!;
    expect(
      Object.values(calmFigures.enrollments).reduce((a, b) => a + b, 0),
    ).toBeGreaterThanOrEqual(3);
    const unauthorized = await app.inject({ method: 'GET', url: '/admin/api/stats' });
    expect(unauthorized.statusCode).toBe(401);
  });
});

describe('a program that is not live', () => {
  let only: Harness;
  let onlyApp: FastifyInstance;
  beforeAll(async () => {
    only = await harness({
      start: '2026-05-04T14:00:00Z',
      env: { DATABASE_URL: await ownDatabase('programs_locales'), PROGRAMS: 'steady' },
    });
    onlyApp = await buildApp(only.deps);
  });
  afterAll(async () => {
    await onlyApp?.close();
    await only?.close();
  });

  it('CALM gets the how-to-join answer and joins nothing when only Steady runs', async () => {
    expect(only.deps.programs.all().map((p) => p.key)).toEqual([only.deps.programs.default.key]);
    const phone = await freshPhone(only.deps.db);
    await textViaWebhook(only, onlyApp, phone, 'CALM');
    expect(only.smsTo(phone).map((m) => m.body)).toEqual([
      expect.stringMatching(/^Hi, this is Steady\. This number isn't signed up\. Reply JOIN/),
    ]);
    expect(await only.deps.db.subscriber.count({ where: { phone } })).toBe(0);
  });
});
