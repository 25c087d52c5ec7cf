import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';

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
    });
    expect(c.devRoutes).toBe(false);
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
