// The email course's web side, as one route module (registered in modules.ts): sign-up, the
// confirmation link, unsubscribe (page and one-click), and the provider inbound-email webhook.
// The inbound SMTP listener is a side service (src/email/inbound-smtp.ts).
import type { FastifyInstance } from 'fastify';
import type { Deps } from '../deps.ts';
import { emailConfirmRoutes } from './email-confirm.ts';
import { emailInboundWebhook } from './email-inbound.ts';
import { emailSignupRoutes } from './email-signup.ts';
import { emailUnsubscribeRoutes } from './email-unsubscribe.ts';

export async function emailCourseRoutes(app: FastifyInstance, deps: Deps): Promise<void> {
  await emailSignupRoutes(app, deps);
  await emailConfirmRoutes(app, deps);
  await emailUnsubscribeRoutes(app, deps);
  await emailInboundWebhook(app, deps);
}
