// Slow and greedy clients, with real sockets. Fastify's request and connection timeouts default to
// none, so a request that promised 1,000 bytes and sent 7 held its socket for good; and 50 idle
// SMTP connections from one host took every slot of the inbound listener. Now the web server
// closes a request that does not arrive in HTTP_REQUEST_TIMEOUT_MS, headers that do not arrive
// in HTTP_HEADERS_TIMEOUT_MS and an idle keep-alive connection after HTTP_KEEPALIVE_TIMEOUT_MS;
// the SMTP listener closes a connection idle for INBOUND_SMTP_IDLE_TIMEOUT_MS, and one client
// address holds at most INBOUND_SMTP_MAX_CONNECTIONS_PER_CLIENT connections (421 for the next),
// so another client still gets its greeting.
import { connect, type Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, type Config } from '../../src/config.ts';
import { startInboundSmtp, type InboundSmtp } from '../../src/email/inbound-smtp.ts';
import { buildApp } from '../../src/http/app.ts';
import { harness, type Harness } from '../support/harness.ts';

const REQUEST_MS = 500;
const HEADERS_MS = 300;
const KEEPALIVE_MS = 300;
const SMTP_IDLE_MS = 500;
/** However the timers line up, a closed socket must close well before this. */
const WELL_BEFORE_MS = 5000;

let h: Harness;
let app: FastifyInstance;
let port: number;

beforeAll(async () => {
  h = await harness({
    workers: false,
    env: {
      HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_MS),
      HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_MS),
      HTTP_KEEPALIVE_TIMEOUT_MS: String(KEEPALIVE_MS),
    },
  });
  app = await buildApp(h.deps);
  await app.listen({ port: 0, host: '127.0.0.1' });
  port = (app.server.address() as { port: number }).port;
});
afterAll(async () => {
  await app?.close();
  await h?.close();
});

interface Watched {
  socket: Socket;
  /** Everything the server sent. */
  data(): string;
  /** Resolves with the ms from `since` (default: connect) to the server closing the socket. */
  closed: Promise<number>;
  mark(): void;
}

/** A raw client socket, watched until the server closes it. */
function watch(opts: { port: number; localAddress?: string }): Watched {
  const socket = connect({ port: opts.port, host: '127.0.0.1', localAddress: opts.localAddress });
  let data = '';
  let since = Date.now();
  socket.on('data', (d) => (data += d.toString('latin1')));
  socket.on('error', () => {});
  const closed = new Promise<number>((resolve) =>
    socket.on('close', () => resolve(Date.now() - since)),
  );
  return { socket, data: () => data, closed, mark: () => (since = Date.now()) };
}

const timeout = <T>(p: Promise<T>, ms: number, what: string) =>
  Promise.race([
    p,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`${what}: still open after ${ms} ms`)), ms),
    ),
  ]);

describe('HTTP: slow clients are cut off', () => {
  it('a request that promises 1,000 bytes and sends 7 is closed after the request timeout', async () => {
    const c = watch({ port });
    c.socket.write(
      'POST /subscribe HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
        'Content-Length: 1000\r\n\r\n{"emai',
    );
    const ms = await timeout(c.closed, WELL_BEFORE_MS, 'half a request');
    expect(ms).toBeGreaterThanOrEqual(REQUEST_MS - 50);
    expect(ms).toBeLessThan(WELL_BEFORE_MS);
    expect(c.data()).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('headers sent a byte at a time are closed after the headers timeout', async () => {
    const c = watch({ port });
    c.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
    const drip = setInterval(() => c.socket.writable && c.socket.write('X'), 50);
    try {
      const ms = await timeout(c.closed, WELL_BEFORE_MS, 'dripped headers');
      expect(ms).toBeGreaterThanOrEqual(HEADERS_MS - 50);
      expect(ms).toBeLessThan(WELL_BEFORE_MS);
    } finally {
      clearInterval(drip);
    }
  });

  it('a connection that never sends a byte is closed after the headers timeout', async () => {
    const c = watch({ port });
    const ms = await timeout(c.closed, WELL_BEFORE_MS, 'silent connection');
    expect(ms).toBeGreaterThanOrEqual(HEADERS_MS - 50);
    expect(ms).toBeLessThan(WELL_BEFORE_MS);
  });

  it('an idle keep-alive connection is closed after the keep-alive timeout', async () => {
    const c = watch({ port });
    c.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    await timeout(
      new Promise<void>((resolve) => c.socket.on('data', () => resolve())),
      WELL_BEFORE_MS,
      'answer',
    );
    c.mark();
    expect(c.data()).toMatch(/^HTTP\/1\.1 200 /);
    // Node closes about a second after the timeout it advertises (Keep-Alive: timeout=N), so a
    // client never reuses a socket the server is closing at that very moment.
    const ms = await timeout(c.closed, WELL_BEFORE_MS, 'idle keep-alive');
    expect(ms).toBeGreaterThanOrEqual(KEEPALIVE_MS - 50);
    expect(ms).toBeLessThan(WELL_BEFORE_MS);
  });

  it('a request that arrives in time is answered as before', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(res.status).toBe(200);
  });

  it('defaults: 30 s per request, 10 s for headers, 5 s keep-alive; the server gets them', async () => {
    const config = loadConfig({ NODE_ENV: 'test' });
    expect(config.http).toEqual({
      requestTimeoutMs: 30_000,
      headersTimeoutMs: 10_000,
      keepAliveTimeoutMs: 5_000,
    });
    const built = await buildApp({ ...h.deps, config: { ...h.deps.config, http: config.http } });
    try {
      expect(built.server.requestTimeout).toBe(30_000);
      expect(built.server.headersTimeout).toBe(10_000);
      expect(built.server.keepAliveTimeout).toBe(5_000);
    } finally {
      await built.close();
    }
    expect(app.server.requestTimeout).toBe(REQUEST_MS);
  });

  it('headers may not outlast the request; one SMTP client may not take every connection', () => {
    expect(() =>
      loadConfig({ HTTP_HEADERS_TIMEOUT_MS: '20000', HTTP_REQUEST_TIMEOUT_MS: '10000' }),
    ).toThrow(/HTTP_HEADERS_TIMEOUT_MS: must not be more than HTTP_REQUEST_TIMEOUT_MS/);
    expect(() =>
      loadConfig({
        INBOUND_SMTP_MAX_CONNECTIONS: '10',
        INBOUND_SMTP_MAX_CONNECTIONS_PER_CLIENT: '10',
      }),
    ).toThrow(ConfigError);
    expect(loadConfig({}).email).toMatchObject({
      inboundSmtpIdleTimeoutMs: 60_000,
      inboundSmtpMaxConnections: 100,
      inboundSmtpMaxConnectionsPerClient: 10,
    });
  });
});

describe('SMTP: idle and greedy clients', () => {
  const withEmail = (over: Partial<Config['email']>) => ({
    ...h.deps,
    config: { ...h.deps.config, email: { ...h.deps.config.email, ...over } },
  });

  /** The first reply line the server sends (the greeting, or a refusal). */
  const firstLine = (c: Watched) =>
    timeout(
      new Promise<string>((resolve) => {
        const check = () => {
          const line = c.data().split('\r\n')[0];
          if (c.data().includes('\r\n')) resolve(line ?? '');
        };
        c.socket.on('data', check);
        c.socket.on('close', () => resolve(c.data().split('\r\n')[0] ?? '(closed)'));
        check();
      }),
      WELL_BEFORE_MS,
      'greeting',
    );

  it('60 idle connections from one address get 10 slots; another address still gets its 220', async () => {
    const smtp: InboundSmtp = await startInboundSmtp(
      withEmail({ inboundSmtpMaxConnections: 50, inboundSmtpMaxConnectionsPerClient: 10 }),
      { port: 0 },
    );
    const greedy: Watched[] = [];
    try {
      for (let i = 0; i < 60; i++)
        greedy.push(watch({ port: smtp.port, localAddress: '127.0.0.1' }));
      const lines = await Promise.all(greedy.map(firstLine));
      const greeted = lines.filter((l) => l.startsWith('220 '));
      const refused = lines.filter((l) => l.startsWith('421 '));
      expect(greeted).toHaveLength(10);
      expect(refused).toHaveLength(50);
      expect(refused[0]).toMatch(/Too many connections from your address/);
      // The refused ones are closed; the 10 greeted ones stay open, saying nothing.
      await Promise.all(greedy.filter((_, i) => lines[i]!.startsWith('421')).map((c) => c.closed));
      const other = watch({ port: smtp.port, localAddress: '127.0.0.2' });
      expect(await firstLine(other)).toMatch(/^220 /);
      other.socket.write('EHLO other.example\r\n');
      await timeout(
        new Promise<void>((resolve) =>
          other.socket.on('data', () => other.data().includes('250 ') && resolve()),
        ),
        WELL_BEFORE_MS,
        'EHLO',
      );
      other.socket.destroy();
      // A slot given back is a slot free again for that address.
      greedy[lines.findIndex((l) => l.startsWith('220'))]!.socket.destroy();
      await new Promise((r) => setTimeout(r, 100));
      const again = watch({ port: smtp.port, localAddress: '127.0.0.1' });
      expect(await firstLine(again)).toMatch(/^220 /);
      again.socket.destroy();
    } finally {
      for (const c of greedy) c.socket.destroy();
      await smtp.stop();
    }
  });

  it('an idle SMTP connection is closed after the idle timeout', async () => {
    const smtp = await startInboundSmtp(withEmail({ inboundSmtpIdleTimeoutMs: SMTP_IDLE_MS }), {
      port: 0,
    });
    try {
      const c = watch({ port: smtp.port });
      expect(await firstLine(c)).toMatch(/^220 /);
      c.mark();
      const ms = await timeout(c.closed, WELL_BEFORE_MS, 'idle SMTP connection');
      expect(ms).toBeGreaterThanOrEqual(SMTP_IDLE_MS - 50);
      expect(ms).toBeLessThan(WELL_BEFORE_MS);
      expect(c.data()).toMatch(/\r\n421 .*[Tt]imeout/);
    } finally {
      await smtp.stop();
    }
  });
});
