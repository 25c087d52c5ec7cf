// The production settings the built-service checks start roles with (tools/smoke-built.mjs,
// tools/rehearse-image.mjs): fresh secrets, none a public default, and real-looking public
// values, so production's start-up guards pass. Outbox transports: nothing leaves the machine.
import { randomBytes } from 'node:crypto';

const secret = () => randomBytes(24).toString('hex');

export function productionSettings() {
  return {
    PUBLIC_URL: 'https://steady.smoke.test',
    APP_SECRET: secret(),
    ADMIN_TOKEN: secret(),
    TWILIO_AUTH_TOKEN: secret(),
    INBOUND_EMAIL_SECRET: secret(),
    REPLY_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    EMAIL_FROM: 'Steady <hello@steady.smoke.test>',
    POSTAL_ADDRESS: 'Steady, 1 Smoke Lane, Testville',
    SUPPORT_CONTACT: 'help@steady.smoke.test',
    REPLY_DOMAIN: 'reply.steady.smoke.test',
    TRUST_PROXY: '1',
    SHUTDOWN_GRACE_MS: '5000',
  };
}
