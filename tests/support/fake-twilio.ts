// A stand-in for Twilio's Messages API, fast enough for benchmarks (keep-alive, no logging, no
// framework). The real SDK talks to it through `apiBase`, so tests cover the SDK's own request
// building and error parsing. Run it as a script to use it from another process (chaos tests):
//   tsx tests/support/fake-twilio.ts [--port N] [--host ADDR] [--fail-rate 0.1] [--throttle-rate 0.05] [--delay-ms 5]
// prints {"url","accountSid","authToken"} as one JSON line on stdout, and serves
//   GET /_fake/messages          what it accepted, as JSON
//   GET .../Messages.json?To=    Twilio's message list (newest first), for send reconciliation
//   POST /_fake/behavior         {"failRate"?, "throttleRate"?, "delayMs"?, "fail"?: {...} | null}
// `failNext` makes the next Messages requests fail as Twilio (or the network) would: an error code
// with Twilio's status and JSON body, a bare HTTP status, a connection reset after the request
// arrived, or no answer at all (the client times out).
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';

export interface FakeTwilioMessage {
  sid: string;
  to: string;
  from: string | null;
  messagingServiceSid: string | null;
  body: string;
  statusCallback: string | null;
  receivedAt: number;
}

export interface FakeFailure {
  status: number;
  code: number;
  message?: string;
}

/** What `failNext` can make one request do: a Twilio error code (21211, 21610, 21614, 20429, ...)
 * answered with its HTTP status and JSON body; a bare HTTP status below 600 (429, 500, 503) with
 * no Twilio code, as an edge proxy answers; 'reset' (the socket is destroyed once the request has
 * arrived); 'timeout' (the request is read and never answered). */
export type FakeFault = number | 'reset' | 'timeout';

/** The HTTP status Twilio answers each error code with. */
const CODE_STATUS: Record<number, number> = {
  20003: 401,
  20404: 404,
  20429: 429,
  20500: 500,
  20503: 503,
};

/** Twilio's answer for a fault given as a number (a Twilio code, or a bare HTTP status). */
export function faultAnswer(code: number): FakeFailure & { bare?: boolean } {
  if (code < 600) return { status: code, code, bare: true };
  return { status: CODE_STATUS[code] ?? 400, code };
}

/** Called with the 1-based number of each Messages request; a failure makes it answer that. */
export type FakeBehavior = (n: number) => FakeFailure | null;

export interface FakeTwilioOptions {
  /** Fraction of requests answered 500 / 20500 at random. */
  failRate?: number;
  /** Fraction of requests answered 429 / 20429 (Too Many Requests) at random. */
  throttleRate?: number;
  failWith?: FakeBehavior;
  delayMs?: number;
  /** 0 (default) picks a free port; a fixed one lets a restarted fake take over the same URL. */
  port?: number;
  /** Address to listen on (default 127.0.0.1; tools/fleet uses its data host's). */
  host?: string;
  accountSid?: string;
  authToken?: string;
  /** Keep accepted messages in `messages` (default true; turn off for long benchmarks). */
  keepMessages?: boolean;
}

export interface FakeTwilio {
  url: string;
  accountSid: string;
  authToken: string;
  messages: FakeTwilioMessage[];
  /** Requests to the Messages endpoint (failed ones included) and TCP connections opened. */
  stats: { requests: number; failures: number; connections: number };
  setBehavior(fn: FakeBehavior | null): void;
  /** The next `times` Messages requests (sends) fail this way, then sending works again. */
  failNext(fault: FakeFault, times?: number): void;
  setDelay(ms: number): void;
  close(): Promise<void>;
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

// Unique 32-hex sids without a random draw per message (that showed up in benchmark profiles).
const sidPrefix = hex(8);
let sidCounter = 0;
const nextSid = () => 'SM' + sidPrefix + (++sidCounter).toString(16).padStart(16, '0');

const MESSAGES_PATH = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/;

const ERROR_MESSAGES: Record<number, string> = {
  20003: 'Authenticate',
  20404: 'The requested resource was not found',
  20429: 'Too Many Requests',
  20500: 'An internal server error has occurred',
  21211: "The 'To' number is not a valid phone number.",
  21602: 'Message body is required.',
  21604: "A 'To' phone number is required.",
  21606: "The 'From' phone number provided is not a valid message-capable Twilio phone number.",
  21610: 'Attempt to send to unsubscribed recipient',
  21614: "'To' number is not a valid mobile number",
};

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

function sendError(res: http.ServerResponse, f: FakeFailure & { bare?: boolean }): void {
  // A bare status (an edge proxy, not Twilio's API) carries no Twilio error code.
  if (f.bare)
    return sendJson(res, f.status, { status: f.status, message: http.STATUS_CODES[f.status] });
  sendJson(res, f.status, {
    code: f.code,
    message: f.message ?? ERROR_MESSAGES[f.code] ?? `Error ${f.code}`,
    more_info: `https://www.twilio.com/docs/errors/${f.code}`,
    status: f.status,
  });
}

function authorized(req: http.IncomingMessage, sid: string, token: string): boolean {
  const header = req.headers.authorization ?? '';
  if (!header.startsWith('Basic ')) return false;
  return Buffer.from(header.slice(6), 'base64').toString('utf8') === `${sid}:${token}`;
}

export async function startFakeTwilio(opts: FakeTwilioOptions = {}): Promise<FakeTwilio> {
  const accountSid = opts.accountSid ?? 'AC' + hex(16);
  const authToken = opts.authToken ?? hex(16);
  const keep = opts.keepMessages ?? true;
  const messages: FakeTwilioMessage[] = [];
  const stats = { requests: 0, failures: 0, connections: 0 };
  let behavior: FakeBehavior | null = opts.failWith ?? null;
  let failRate = opts.failRate ?? 0;
  let throttleRate = opts.throttleRate ?? 0;
  let delayMs = opts.delayMs ?? 0;
  const faults: FakeFault[] = [];

  async function createMessage(req: http.IncomingMessage, res: http.ServerResponse, sid: string) {
    const n = ++stats.requests;
    const form = new URLSearchParams(await readBody(req));
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
    const fault = faults.shift();
    if (fault === 'reset' || fault === 'timeout') {
      stats.failures++;
      // The request arrived: a reset now, or silence until the client gives up (close() ends it).
      if (fault === 'reset') req.socket.destroy();
      return;
    }

    const failure =
      (!authorized(req, accountSid, authToken) && { status: 401, code: 20003 }) ||
      (sid !== accountSid && { status: 404, code: 20404 }) ||
      (fault !== undefined && faultAnswer(fault)) ||
      behavior?.(n) ||
      (failRate > 0 && Math.random() < failRate && { status: 500, code: 20500 }) ||
      (throttleRate > 0 && Math.random() < throttleRate && { status: 429, code: 20429 }) ||
      (!form.get('To') && { status: 400, code: 21604 }) ||
      (!form.get('Body') && { status: 400, code: 21602 }) ||
      (!form.get('From') && !form.get('MessagingServiceSid') && { status: 400, code: 21606 }) ||
      null;
    if (failure) {
      stats.failures++;
      return sendError(res, failure);
    }

    const msg: FakeTwilioMessage = {
      sid: nextSid(),
      to: form.get('To') ?? '',
      from: form.get('From'),
      messagingServiceSid: form.get('MessagingServiceSid'),
      body: form.get('Body') ?? '',
      statusCallback: form.get('StatusCallback'),
      receivedAt: Date.now(),
    };
    if (keep) messages.push(msg);
    sendJson(res, 201, resource(msg));
  }

  // The fields Twilio returns; a messaging service without From is "accepted" until it picks one.
  function resource(msg: FakeTwilioMessage) {
    const at = new Date(msg.receivedAt).toUTCString().replace('GMT', '+0000');
    return {
      account_sid: accountSid,
      api_version: '2010-04-01',
      body: msg.body,
      date_created: at,
      date_updated: at,
      date_sent: null,
      direction: 'outbound-api',
      error_code: null,
      error_message: null,
      from: msg.from,
      messaging_service_sid: msg.messagingServiceSid,
      num_media: '0',
      num_segments: '1',
      price: null,
      price_unit: 'USD',
      sid: msg.sid,
      status: msg.from ? 'queued' : 'accepted',
      subresource_uris: {
        media: `/2010-04-01/Accounts/${accountSid}/Messages/${msg.sid}/Media.json`,
      },
      to: msg.to,
      uri: `/2010-04-01/Accounts/${accountSid}/Messages/${msg.sid}.json`,
    };
  }

  /** GET Messages.json?To=&From=&PageSize=: what Twilio holds, newest first, one page. */
  function listMessages(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    sid: string,
    query: URLSearchParams,
  ) {
    if (!authorized(req, accountSid, authToken))
      return sendError(res, { status: 401, code: 20003 });
    if (sid !== accountSid) return sendError(res, { status: 404, code: 20404 });
    const to = query.get('To');
    const from = query.get('From');
    const size = Math.min(1000, Number(query.get('PageSize')) || 50);
    const found = [];
    for (let i = messages.length - 1; i >= 0 && found.length < size; i--) {
      const m = messages[i]!;
      if ((!to || m.to === to) && (!from || m.from === from)) found.push(resource(m));
    }
    const uri = `/2010-04-01/Accounts/${accountSid}/Messages.json`;
    sendJson(res, 200, {
      messages: found,
      end: Math.max(0, found.length - 1),
      first_page_uri: `${uri}?PageSize=${size}&Page=0`,
      next_page_uri: null,
      page: 0,
      page_size: size,
      previous_page_uri: null,
      start: 0,
      uri: `${uri}?PageSize=${size}&Page=0`,
    });
  }

  async function control(req: http.IncomingMessage, res: http.ServerResponse, path: string) {
    if (req.method === 'GET' && path === '/_fake/messages') return sendJson(res, 200, messages);
    if (req.method === 'POST' && path === '/_fake/behavior') {
      const b = JSON.parse((await readBody(req)) || '{}') as {
        failRate?: number;
        throttleRate?: number;
        delayMs?: number;
        fail?: FakeFailure | null;
      };
      if (b.failRate !== undefined) failRate = b.failRate;
      if (b.throttleRate !== undefined) throttleRate = b.throttleRate;
      if (b.delayMs !== undefined) delayMs = b.delayMs;
      if (b.fail !== undefined) behavior = b.fail ? () => b.fail ?? null : null;
      return sendJson(res, 200, { failRate, throttleRate, delayMs, stats });
    }
    sendError(res, { status: 404, code: 20404 });
  }

  const server = http.createServer((req, res) => {
    const [path = '/', query = ''] = (req.url ?? '/').split('?');
    const match = MESSAGES_PATH.exec(path);
    const work =
      match && req.method === 'POST'
        ? createMessage(req, res, match[1] ?? '')
        : match && req.method === 'GET'
          ? Promise.resolve(listMessages(req, res, match[1] ?? '', new URLSearchParams(query)))
          : control(req, res, path);
    work.catch(() => {
      if (!res.headersSent) sendError(res, { status: 500, code: 20500 });
      else res.destroy();
    });
  });
  server.on('connection', () => stats.connections++);
  // Longer than any client's idle timeout, so the client (not us) closes idle sockets and never
  // writes into one we are closing.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://${opts.host ?? '127.0.0.1'}:${port}`,
    accountSid,
    authToken,
    messages,
    stats,
    setBehavior(fn) {
      behavior = fn;
    },
    failNext(fault, times = 1) {
      for (let i = 0; i < times; i++) faults.push(fault);
    },
    setDelay(ms) {
      delayMs = ms;
    },
    close() {
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function arg(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

/** Script entry: starts a fake, prints its URL and credentials as JSON, stops on SIGTERM/SIGINT. */
export async function main(argv = process.argv.slice(2)): Promise<FakeTwilio> {
  const num = (name: string) => {
    const v = arg(argv, name);
    return v === undefined ? undefined : Number(v);
  };
  const fake = await startFakeTwilio({
    port: num('--port'),
    host: arg(argv, '--host'),
    failRate: num('--fail-rate'),
    throttleRate: num('--throttle-rate'),
    delayMs: num('--delay-ms'),
    accountSid: arg(argv, '--account-sid'),
    authToken: arg(argv, '--auth-token'),
    keepMessages: !argv.includes('--no-keep'),
  });
  process.stdout.write(
    JSON.stringify({ url: fake.url, accountSid: fake.accountSid, authToken: fake.authToken }) +
      '\n',
  );
  const stop = () => void fake.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  return fake;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
