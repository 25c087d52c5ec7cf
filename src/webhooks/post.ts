// One HTTP POST to an endpoint, through the SSRF guard: the address is resolved and checked, and
// the connection goes to that address (TLS still checks the certificate against the host name).
// The whole exchange has one deadline; the answer's body is read (at most 4 KB) and dropped.
import http from 'node:http';
import https from 'node:https';
import { checkUrlShape, guardedLookup, type GuardOptions } from './ssrf.ts';

export interface PostResult {
  status: number;
}

export class PostError extends Error {
  constructor(
    message: string,
    public readonly status: number | null = null,
  ) {
    super(message);
    this.name = 'PostError';
  }
}

export async function postJson(
  rawUrl: string,
  body: string,
  headers: Record<string, string>,
  opts: GuardOptions & { timeoutMs: number },
): Promise<PostResult> {
  const url = checkUrlShape(rawUrl, opts);
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    let settled = false;
    const done = (err: Error | null, r?: PostResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(r!);
    };
    const req = client.request(
      url,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(body)),
          'user-agent': 'Steady-Webhooks/1',
          ...headers,
        },
        lookup: guardedLookup(opts) as never,
        agent: false,
      },
      (res) => {
        let seen = 0;
        res.on('data', (chunk: Buffer) => {
          seen += chunk.length;
          if (seen > 4096) res.destroy();
        });
        const finish = () => done(null, { status: res.statusCode ?? 0 });
        res.on('end', finish);
        res.on('close', finish);
        res.on('error', finish);
      },
    );
    const timer = setTimeout(() => {
      req.destroy(new PostError(`no answer within ${opts.timeoutMs} ms`));
    }, opts.timeoutMs);
    req.on('error', (err) => done(err instanceof PostError ? err : new PostError(err.message)));
    req.end(body);
  });
}
