// `openapi`: prints the OpenAPI 3.1 document of the HTTP API (the admin JSON API, the sign-up and
// the inbound webhooks), generated from the zod schemas the routes use (src/http/api-schemas.ts).
// The running service serves the same document at /admin/api/openapi.json (bearer ADMIN_TOKEN).
// Needs no configuration, database or Redis.
import { openApiDocument } from '../http/api-schemas.ts';
import { parse } from './args.ts';

const USAGE = 'openapi [--compact]';

export function openapiCommand(args: string[]): number {
  const { values } = parse(args, { compact: { type: 'boolean' } }, USAGE);
  console.log(JSON.stringify(openApiDocument(), null, values.compact ? undefined : 2));
  return 0;
}
