// The public pages in the person's language: the sign-up form from `?language=`, the confirm and
// unsubscribe pages from the stored locale of the person the link is for, /resources, /terms and
// /privacy from `?language=`. Anything unknown falls back to English.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshEmail } from '../support/db.ts';
import {
  activeSubscriber,
  emailTestbed,
  linkToken,
  mailTo,
  postForm,
  type EmailTestbed,
} from './helpers.ts';

let t: EmailTestbed;
let calm: string;
beforeAll(async () => {
  t = await emailTestbed();
  // The harness runs its own copies of the programs under suffixed keys.
  calm = t.deps.programs.all().find((p) => p.name === 'Calm')!.key;
});
afterAll(async () => t?.close());

const get = (url: string) => t.app.inject({ method: 'GET', url });

describe('the sign-up page', () => {
  it('?language=es&program=calm is Spanish, names Calm, and links to the English form', async () => {
    const res = await get(`/?language=es&program=${calm}`);
    expect(res.statusCode).toBe(200);
    const html = res.body;
    expect(html).toContain('<html lang="es">');
    expect(html).toContain('Pasos pequeños, uno a la vez');
    expect(html).toContain('Te estás inscribiendo en <strong>Calm</strong>.');
    expect(html).toContain('Dos semanas de pasos pequeños');
    expect(html).toContain('<button type="submit" aria-describedby="consent">Inscribirme</button>');
    expect(html).toContain('>Salida rápida</a>');
    // The hidden fields stay, and the switch keeps the program.
    expect(html).toContain(`<input type="hidden" name="program" value="${calm}">`);
    expect(html).toContain('<input type="hidden" name="language" value="es">');
    expect(html).toContain(`<a href="/?program=${calm}" lang="en" hreflang="en">English</a>`);
    expect(html).toContain('href="/terms?language=es"');
    expect(html).toContain('href="/privacy?language=es"');
    expect(html).not.toContain('<script>');
  });

  it('in English names the program too, and links to the Spanish form', async () => {
    const html = (await get(`/?program=${calm}`)).body;
    expect(html).toContain('<html lang="en">');
    expect(html).toContain('You are signing up for <strong>Calm</strong>.');
    expect(html).toContain(
      `<a href="/?program=${calm}&amp;language=es" lang="es" hreflang="es">Español</a>`,
    );
    const plain = (await get('/')).body;
    expect(plain).toContain(`<strong>${t.deps.programs.default.name}</strong>`);
  });

  it('an unknown language is English', async () => {
    const html = (await get('/?language=xx')).body;
    expect(html).toContain('<html lang="en">');
    expect(html).toContain('Small steps, one at a time');
    expect(html).not.toContain('name="language"');
  });

  it('the Spanish form makes a Spanish Calm subscriber, sent a Spanish confirmation', async () => {
    const email = freshEmail('es-calm');
    const res = await postForm(t, '/subscribe', {
      email,
      firstName: 'Lucía',
      timezone: 'America/Chicago',
      program: calm,
      language: 'es',
    });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('<html lang="es">');
    expect(res.body).toContain('Revisa tu correo');
    const sub = await t.deps.db.subscriber.findUniqueOrThrow({
      where: { email },
      include: { enrollments: true },
    });
    expect(sub.locale).toBe('es');
    expect(sub.enrollments.map((e) => e.program)).toEqual([calm]);
    await t.settle();
    const mail = mailTo(t, email).find((m) => /\/confirm\//.test(m.text));
    expect(mail?.subject).toBe('Confirma tu suscripción');
    expect(mail?.text).toContain('Hola, Lucía:');
    expect(mail?.text).toContain('/terms?language=es');
  });

  it('a refused Spanish form comes back in Spanish', async () => {
    const res = await postForm(t, '/subscribe', {
      email: 'not-an-address',
      timezone: 'America/Chicago',
      language: 'es',
    });
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain('<html lang="es">');
    expect(res.body).toContain('Escribe una dirección de correo como nombre@example.com.');
  });
});

describe('the confirm and unsubscribe pages speak the subscriber’s language', () => {
  it('a Spanish subscriber: Spanish confirm page, Spanish unsubscribe pages', async () => {
    const email = freshEmail('es-links');
    await postForm(t, '/subscribe', { email, timezone: 'America/Chicago', language: 'es' });
    await t.settle();
    const token = linkToken(
      mailTo(t, email).find((m) => /\/confirm\//.test(m.text))!,
      'confirm',
    );
    const ask = await get(`/confirm/${token}`);
    expect(ask.body).toContain('<html lang="es">');
    expect(ask.body).toContain('Confirma tu inscripción');
    const done = await t.app.inject({ method: 'POST', url: `/confirm/${token}` });
    expect(done.statusCode).toBe(200);
    expect(done.body).toContain('¡Listo, ya estás dentro!');
    expect(done.body).toContain('href="/terms?language=es"');

    const s = await activeSubscriber(t, freshEmail('es-unsub'), { language: 'es' });
    const page = await get(`/unsubscribe/${s.unsubscribeToken}`);
    expect(page.body).toContain('<html lang="es">');
    expect(page.body).toContain('<button type="submit">Darme de baja</button>');
    const gone = await postForm(t, `/unsubscribe/${s.unsubscribeToken}`, {});
    expect(gone.body).toContain('Ya te diste de baja');
    expect(gone.body).toContain('<a href="/?language=es">inscribirte de nuevo</a>');
  });

  it('an English subscriber: English pages', async () => {
    const s = await activeSubscriber(t, freshEmail('en-unsub'));
    const page = await get(`/unsubscribe/${s.unsubscribeToken}`);
    expect(page.body).toContain('<html lang="en">');
    expect(page.body).toContain('<button type="submit">Unsubscribe</button>');
    const email = freshEmail('en-links');
    await postForm(t, '/subscribe', { email, timezone: 'America/Chicago' });
    await t.settle();
    const token = linkToken(
      mailTo(t, email).find((m) => /\/confirm\//.test(m.text))!,
      'confirm',
    );
    const ask = await get(`/confirm/${token}`);
    expect(ask.body).toContain('<html lang="en">');
    expect(ask.body).toContain('Confirm your subscription');
  });

  it('a broken link is answered in English', async () => {
    const res = await get('/unsubscribe/abc.def');
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain('<html lang="en">');
  });
});

describe('/resources, /terms and /privacy', () => {
  it('?language=es is Spanish, with the Spanish help lines', async () => {
    const res = await get('/resources?language=es');
    expect(res.body).toContain('<html lang="es">');
    expect(res.body).toContain('Dónde encontrar ayuda');
    expect(res.body).toContain('atienden en español');
    expect(res.body).toContain('id="quick-exit">Salida rápida</a>');
    const terms = await get('/terms?language=es');
    expect(terms.body).toContain('<html lang="es">');
    expect(terms.body).toContain('Términos de uso</h1>');
    const privacy = await get('/privacy?language=es');
    expect(privacy.body).toContain('<html lang="es">');
    expect(privacy.body).toContain('Aviso de privacidad</h1>');
    expect(privacy.body).toContain('/terms?language=es');
  });

  it.each(['/resources', '/terms', '/privacy'])(
    '%s with an unknown language is English',
    async (path) => {
      for (const q of ['', '?language=xx', '?language=__proto__']) {
        const res = await get(path + q);
        expect(res.statusCode).toBe(200);
        expect(res.body).toContain('<html lang="en">');
        expect(res.body).toContain('>Quick exit</a>');
      }
    },
  );
});
