// Route modules and side services beyond the core ones (webhooks, admin API, health, outbox):
// each feature registers itself here, so buildApp stays small.
import type { Deps } from '../deps.ts';
import { startInboundSmtp } from '../email/inbound-smtp.ts';
import type { RouteModule } from './app.ts';
import { emailCourseRoutes } from './email-routes.ts';
import { adminConsole } from './admin/index.ts';
import { devPhone } from './dev-phone.ts';
import { legalPages } from './legal-pages.ts';
import { resourcesPage } from './resources-page.ts';

export const routeModules: RouteModule[] = [
  emailCourseRoutes,
  adminConsole,
  devPhone,
  resourcesPage,
  legalPages,
];

/** Listeners that run beside the web server (e.g. the inbound SMTP server). */
export async function startSideServices(deps: Deps): Promise<{ stop(): Promise<void> }> {
  const stops: (() => Promise<void>)[] = [];
  // Inbound email: replies, the List-Unsubscribe mailto, bounces (INBOUND_SMTP_PORT on INBOUND_SMTP_HOST, 127.0.0.1 by default).
  const smtp = await startInboundSmtp(deps);
  deps.log.info({ port: smtp.port }, 'inbound SMTP listening');
  stops.push(smtp.stop);
  return {
    stop: async () => {
      for (const stop of stops.reverse()) await stop();
    },
  };
}
