import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';

/** What a real deployment sets about itself (production requires each). */
const REAL_PUBLIC_VALUES = {
  EMAIL_FROM: 'Weekly notes <notes@calm-notes.org>',
  POSTAL_ADDRESS: 'Calm Notes, 12 Harbour Lane, Portland, ME 04101, USA',
  SUPPORT_CONTACT: 'help@calm-notes.org',
  PUBLIC_URL: 'https://notes.calm-notes.org',
  REPLY_DOMAIN: 'reply.calm-notes.org',
  TRUST_PROXY: '1',
};

describe('configuration', () => {
  it('runs on defaults alone, with outbox transports and dev routes', () => {
    const c = loadConfig({});
    expect(c.sms.transport).toBe('outbox');
    expect(c.email.transport).toBe('outbox');
    expect(c.devRoutes).toBe(true);
    expect(c.databaseUrl).toMatch(/^postgresql:/);
    expect(c.quietHours).toEqual({ start: '21:00', end: '08:00' });
    expect(c.encryptionKeys[0]?.key.length).toBe(32);
  });

  it('lists every bad variable in one message, without echoing secrets', () => {
    let err: unknown;
    try {
      loadConfig({
        PORT: 'eighty',
        QUIET_HOURS_START: '25:00',
        DEFAULT_TIMEZONE: 'Mars/Base',
        APP_SECRET: 'short',
        SMS_TRANSPORT: 'twilio',
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as ConfigError).message;
    for (const name of [
      'PORT',
      'QUIET_HOURS_START',
      'DEFAULT_TIMEZONE',
      'APP_SECRET',
      'TWILIO_ACCOUNT_SID',
      'TWILIO_AUTH_TOKEN',
      'TWILIO_FROM',
    ])
      expect(msg).toContain(name);
    expect(msg).toContain('"25:00"');
    expect(msg).not.toContain('short'); // secrets are named, never shown
  });

  it('picks Twilio and SMTP when their settings are present', () => {
    const c = loadConfig({
      TWILIO_ACCOUNT_SID: 'AC' + 'a'.repeat(32),
      TWILIO_AUTH_TOKEN: 'secret-token-123',
      TWILIO_FROM: '+12025550100',
      SMTP_URL: 'smtp://mail.example.com:587',
    });
    expect(c.sms.transport).toBe('twilio');
    expect(c.email.transport).toBe('smtp');
    expect(c.devRoutes).toBe(false);
  });

  it('refuses development secrets in production and keeps dev routes off there', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(
      /APP_SECRET[\s\S]*ADMIN_TOKEN|ADMIN_TOKEN[\s\S]*APP_SECRET/,
    );
    const c = loadConfig({
      NODE_ENV: 'production',
      APP_SECRET: 'x'.repeat(40),
      ADMIN_TOKEN: 'y'.repeat(20),
      TWILIO_AUTH_TOKEN: 'z'.repeat(32),
      INBOUND_EMAIL_SECRET: 'w'.repeat(32),
      REPLY_ENCRYPTION_KEYS: 'k1:' + Buffer.alloc(32, 3).toString('base64'),
      ...REAL_PUBLIC_VALUES,
    });
    expect(c.devRoutes).toBe(false);
    expect(c.supportContact).toBe('help@calm-notes.org');
    expect(c.termsUrl).toBe('https://notes.calm-notes.org/terms');
    expect(c.privacyUrl).toBe('https://notes.calm-notes.org/privacy');
  });

  it('has a support contact with a local default, and links to the legal pages', () => {
    const c = loadConfig({ PUBLIC_URL: 'https://steady.test/' });
    expect(c.supportContact).toBe('help@example.com');
    expect(c.termsUrl).toBe('https://steady.test/terms');
    expect(c.privacyUrl).toBe('https://steady.test/privacy');
    for (const ok of ['https://help.calm-notes.org/contact', '+1 (202) 555-0147', 'a@b.org'])
      expect(loadConfig({ SUPPORT_CONTACT: ok }).supportContact).toBe(ok);
    expect(() => loadConfig({ SUPPORT_CONTACT: 'call us' })).toThrow(/SUPPORT_CONTACT/);
  });

  it('refuses in production a missing or example sender, postal address and support contact, and a PUBLIC_URL that is not https, naming each', () => {
    const secrets = {
      NODE_ENV: 'production',
      APP_SECRET: 'x'.repeat(40),
      ADMIN_TOKEN: 'y'.repeat(20),
      TWILIO_AUTH_TOKEN: 'z'.repeat(32),
      INBOUND_EMAIL_SECRET: 'w'.repeat(32),
      REPLY_ENCRYPTION_KEYS: 'k1:' + Buffer.alloc(32, 3).toString('base64'),
    };
    const problems = (env: Record<string, string>): string[] => {
      try {
        loadConfig({ ...secrets, ...env });
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as ConfigError).problems;
      }
      return [];
    };
    const names = [
      'EMAIL_FROM',
      'POSTAL_ADDRESS',
      'SUPPORT_CONTACT',
      'TRUST_PROXY',
      'REPLY_DOMAIN',
      'PUBLIC_URL',
    ];
    const named = (list: string[]) => names.filter((n) => list.some((p) => p.startsWith(n)));

    // Unset: every one named at once, in one error.
    const unset = problems({});
    expect(named(unset)).toEqual(names);
    for (const n of names) expect(unset.join('\n')).toMatch(new RegExp(`^${n}: must be set`, 'm'));

    // The development defaults, copied into a deployment.
    const dev = loadConfig({});
    const copied = problems({
      EMAIL_FROM: dev.email.from,
      POSTAL_ADDRESS: dev.email.postalAddress,
      SUPPORT_CONTACT: dev.supportContact,
      REPLY_DOMAIN: dev.email.replyDomain,
      PUBLIC_URL: dev.publicUrl,
    });
    expect(named(copied)).toEqual(names);
    expect(copied.join('\n')).toMatch(/^PUBLIC_URL: must start with https:\/\//m);

    // Example placeholders, in any case and spelling.
    const examples = problems({
      EMAIL_FROM: 'Notes <notes@mail.example.org>',
      POSTAL_ADDRESS: '1 Example Road, Springfield',
      SUPPORT_CONTACT: 'https://example.net/help',
      REPLY_DOMAIN: 'reply.example.org',
      PUBLIC_URL: 'http://notes.calm-notes.org',
    });
    expect(named(examples)).toEqual(names);

    // Real values pass; every other check is unchanged. "example" inside a real name is fine, and
    // a phone number may be written with its area code in brackets.
    expect(problems(REAL_PUBLIC_VALUES)).toEqual([]);
    expect(
      problems({
        ...REAL_PUBLIC_VALUES,
        EMAIL_FROM: 'Notes <notes@example-health.org>',
        SUPPORT_CONTACT: '(800) 555-0100',
      }),
    ).toEqual([]);
  });

  it('refuses in production a secret set to a development default, naming each', () => {
    const dev = loadConfig({}); // the development defaults, as a careless deploy might copy them
    const devKey = dev.encryptionKeys[0]!.key.toString('base64');
    let err: unknown;
    try {
      loadConfig({
        NODE_ENV: 'production',
        APP_SECRET: 'a-real-production-secret-0123456789abcdef,' + dev.appSecret,
        ADMIN_TOKEN: dev.adminToken,
        TWILIO_AUTH_TOKEN: dev.sms.authToken,
        INBOUND_EMAIL_SECRET: dev.appSecret,
        REPLY_ENCRYPTION_KEYS: `prod:${devKey}`,
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems.join('\n');
    for (const name of [
      'APP_SECRET',
      'ADMIN_TOKEN',
      'TWILIO_AUTH_TOKEN',
      'INBOUND_EMAIL_SECRET',
      'REPLY_ENCRYPTION_KEYS',
    ])
      expect(problems).toMatch(new RegExp(`^${name}: .*development default`, 'm'));
    expect(problems).not.toContain(dev.appSecret); // named, never shown
  });

  it('reads APP_SECRET as a key list: the first signs, every one verifies', () => {
    const c = loadConfig({
      APP_SECRET: ' new-secret-0123456789-0123456789-abc , old-secret-0123456789-0123456789-abc ',
    });
    expect(c.appSecret).toBe('new-secret-0123456789-0123456789-abc');
    expect(c.appSecrets).toEqual([
      'new-secret-0123456789-0123456789-abc',
      'old-secret-0123456789-0123456789-abc',
    ]);
    expect(() => loadConfig({ APP_SECRET: 'new-secret-0123456789-0123456789-abc,short' })).toThrow(
      /APP_SECRET/,
    );
  });

  it('reads rotating encryption keys, the first one encrypting', () => {
    const k1 = Buffer.alloc(32, 1).toString('base64');
    const k2 = Buffer.alloc(32, 2).toString('base64');
    const c = loadConfig({ REPLY_ENCRYPTION_KEYS: `new:${k1},old:${k2}` });
    expect(c.encryptionKeys.map((k) => k.id)).toEqual(['new', 'old']);
    expect(() => loadConfig({ REPLY_ENCRYPTION_KEYS: 'bad' })).toThrow(/REPLY_ENCRYPTION_KEYS/);
  });
});
