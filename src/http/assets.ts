// Our pages' scripts as files: GET /assets/<name>.js. The Content-Security-Policy allows scripts
// from this origin only ('self', no 'unsafe-inline', no inline event handlers), so a page never
// carries script text of its own: it loads these. Each module that owns a script registers it with
// scriptAsset() and puts the returned tag where the inline <script> used to be (same place in the
// page, no defer: it runs at the same moment the inline one did).
//
// Cache-Control is no-store, as for the pages: a cached file from this site in a shared or watched
// browser would say the site was visited after its history was cleared. The files are a few KB;
// the cost is one small request per page. The ?v= content hash keeps a page and its script in step
// anyway, should a proxy keep a copy regardless.
import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';

interface Asset {
  body: Buffer;
  hash: string;
}

const scripts = new Map<string, Asset>();

const NAME = /^[a-z0-9-]+$/;

/** Registers a page script (plain JavaScript, no <script> tag) and returns the tag that loads it. */
export function scriptAsset(name: string, source: string): string {
  if (!NAME.test(name)) throw new Error(`asset name must be lowercase letters, digits, -: ${name}`);
  const body = Buffer.from(`${source.trim()}\n`, 'utf8');
  const hash = createHash('sha256').update(body).digest('base64url').slice(0, 12);
  const known = scripts.get(name);
  if (known && known.hash !== hash) throw new Error(`two different scripts named ${name}`);
  scripts.set(name, { body, hash });
  return `<script src="/assets/${name}.js?v=${hash}"></script>`;
}

/** The registered script's text, for tests. */
export function scriptSource(name: string): string | undefined {
  return scripts.get(name)?.body.toString('utf8');
}

export function assetRoutes(app: FastifyInstance): void {
  app.get<{ Params: { file: string } }>('/assets/:file', async (req, reply) => {
    const m = /^([a-z0-9-]+)\.js$/.exec(req.params.file);
    const asset = m ? scripts.get(m[1]!) : undefined;
    if (!asset) return reply.code(404).send({ error: 'not_found', message: 'No such page' });
    return reply
      .header('Cache-Control', 'no-store')
      .type('text/javascript; charset=utf-8')
      .send(asset.body);
  });
}
