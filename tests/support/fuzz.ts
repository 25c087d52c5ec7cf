// Deterministic garbage for the fuzz test: a seeded PRNG (mulberry32) and generators for the kinds
// of bad input a public endpoint gets (bad signatures, wrong content types, oversized and invalid
// UTF-8 bodies, deep JSON, injection strings, malformed tokens and MIME).

import { connect } from 'node:net';
import { prng, type Rng } from '../../src/core/random.ts';

export { prng, type Rng };

export const int = (rng: Rng, max: number) => Math.floor(rng() * max);
export const pick = <T>(rng: Rng, list: readonly T[]): T => list[int(rng, list.length)]!;
export const chance = (rng: Rng, p: number) => rng() < p;

export const INJECTIONS = [
  "' OR '1'='1' --",
  '"; DROP TABLE subscribers; --',
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  '{{7*7}}',
  '${7*7}',
  '${jndi:ldap://127.0.0.1/x}',
  '../../../../etc/passwd',
  '..%2f..%2f..%2fetc%2fpasswd',
  '\u0000\u0000',
  'a\r\nSet-Cookie: steady_session=x',
  '%0d%0aLocation:%20https://evil.example',
  '__proto__',
  'constructor',
  '$where: 1',
  '() { :; }; echo vulnerable',
  '\u202e\u2066',
  '😀'.repeat(50),
  'STOP',
  'JOIN',
  'A'.repeat(5000),
];

const ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~!*()%+=&?/:;@ ';

export function junk(rng: Rng, max = 40): string {
  if (chance(rng, 0.3)) return pick(rng, INJECTIONS);
  let s = '';
  const n = int(rng, max);
  for (let i = 0; i < n; i++)
    s += chance(rng, 0.1)
      ? String.fromCharCode(int(rng, 0xd7ff))
      : ALPHABET[int(rng, ALPHABET.length)];
  return s;
}

/** Bytes that are not valid UTF-8: lone continuation bytes, overlongs, surrogates, 0xFF. */
export function invalidUtf8(rng: Rng, size = 200): Buffer {
  const bad = [
    [0x80],
    [0xc0, 0xaf],
    [0xed, 0xa0, 0x80],
    [0xff],
    [0xfe, 0xff],
    [0xe2, 0x82],
    [0xf8, 0x88, 0x80, 0x80, 0x80],
  ];
  const parts: number[] = [];
  while (parts.length < size) {
    if (chance(rng, 0.5)) parts.push(...pick(rng, bad));
    else parts.push(0x20 + int(rng, 0x5e));
  }
  return Buffer.from(parts);
}

export function deepJson(rng: Rng): string {
  const depth = pick(rng, [100, 1000, 10_000, 100_000]);
  return chance(rng, 0.5)
    ? '['.repeat(depth) + ']'.repeat(depth)
    : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
}

export function randomJson(rng: Rng, depth = 0): unknown {
  const kind = int(rng, depth > 3 ? 4 : 6);
  if (kind === 0) return junk(rng);
  if (kind === 1) return pick(rng, [0, -1, 1e308, Number.MAX_SAFE_INTEGER, 3.14]);
  if (kind === 2) return pick(rng, [true, false, null]);
  if (kind === 3) return junk(rng, 8);
  if (kind === 4) return Array.from({ length: int(rng, 5) }, () => randomJson(rng, depth + 1));
  const o: Record<string, unknown> = {};
  for (let i = int(rng, 6); i > 0; i--)
    o[chance(rng, 0.2) ? pick(rng, ['__proto__', 'constructor', 'prototype']) : junk(rng, 12)] =
      randomJson(rng, depth + 1);
  return o;
}

/** An address readSignup can never accept (no @, or spaces, or a broken domain). */
export function badEmail(rng: Rng): string {
  return pick(rng, [
    junk(rng, 30).replace(/@/g, ''),
    `${junk(rng, 10).replace(/@/g, '')} @example.com`,
    'person@@example.com',
    'person@example',
    '@example.com',
    'person@exa mple.com',
    `"${junk(rng, 10)}"@example.com`,
    '<person@example.com>',
    'a'.repeat(300) + '@example.com',
    "x'; DROP TABLE subscribers;--@example.com",
  ]);
}

export const CONTENT_TYPES = [
  'application/x-www-form-urlencoded',
  'application/x-www-form-urlencoded; charset=utf-16',
  'application/json',
  'application/json; charset=latin1',
  'text/plain',
  'text/xml',
  'multipart/form-data; boundary=----x',
  'multipart/form-data',
  'application/octet-stream',
  'x/y; charset=utf-99',
  ';;;',
  '',
];

/** A multipart body whose parts and boundaries do not line up. */
export function brokenMultipart(rng: Rng): string {
  return [
    '------x',
    'Content-Disposition: form-data; name="List-Unsubscribe"',
    '',
    junk(rng, 100),
    chance(rng, 0.5) ? '------y--' : '------x',
    'Content-Disposition: form-data; name=',
    '',
  ].join('\r\n');
}

/** Raw mail that MIME parsers struggle with. */
export function malformedMime(rng: Rng, to: string): string {
  const boundary = junk(rng, 20).replace(/[\r\n]/g, '') || 'b';
  const variants = [
    `From: ${junk(rng, 30)}\r\nTo: ${to}\r\nSubject: ${junk(rng)}\r\nContent-Type: multipart/mixed; boundary="${boundary}"\r\n\r\n--${boundary}\r\nContent-Type: text/plain\r\n\r\n${junk(rng, 200)}\r\n--${boundary}`,
    `From: <>\r\nTo: ${to}\r\nContent-Type: multipart/alternative; boundary=\r\n\r\n--\r\n--\r\n`,
    `To: ${to}\r\nContent-Transfer-Encoding: base64\r\n\r\n${'!!!!not base64!!!!'.repeat(20)}`,
    `To: ${to}\r\nContent-Type: text/plain; charset=x-unknown-999\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n=ZZ=\r\n=0`,
    `From: "${'\\"'.repeat(100)}" <a@b>\r\nTo: ${to}\r\nSubject: =?utf-8?B?${'%%%'}?=\r\n\r\nhi`,
    `${'X-Header: ' + 'h'.repeat(2000) + '\r\n'}`.repeat(20) + `To: ${to}\r\n\r\nbody`,
    `To: ${to}\r\nContent-Type: multipart/mixed; boundary=a\r\n\r\n` +
      '--a\r\nContent-Type: multipart/mixed; boundary=a\r\n\r\n'.repeat(200),
    `\u0000\u0001\u0002${junk(rng, 500)}`,
  ];
  return pick(rng, variants);
}

/** What became of one request sent over real HTTP. Only an `answer` can be a refusal (a 4xx): a
 * reset, a hang-up, a timeout or no reply is a `failure` of the server, never a refusal. A request
 * the client would not send at all (an invalid header value) is `unsendable`: it tells us nothing
 * about the server. */
export type HttpOutcome =
  | { kind: 'answer'; status: number; location: string | null }
  | { kind: 'failure'; reason: string }
  | { kind: 'unsendable'; reason: string };

export async function httpOutcome(
  url: string,
  init: RequestInit,
  timeoutMs = 10_000,
): Promise<HttpOutcome> {
  let request: Request;
  try {
    request = new Request(url, { ...init, redirect: 'manual' });
  } catch (err) {
    return { kind: 'unsendable', reason: String(err) };
  }
  try {
    const res = await fetch(request, { signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    return { kind: 'answer', status: res.status, location: res.headers.get('location') };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const why =
      e.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (e.cause?.code ?? e.message);
    return { kind: 'failure', reason: why };
  }
}

/** Control characters no field may hold (NUL first: PostgreSQL cannot store it), and the three
 * that free text may (a tab and line breaks). */
export const CONTROL_CHARS = [
  '\u0000',
  '\u0001',
  '\u0007',
  '\u0008',
  '\u000b',
  '\u000c',
  '\u001b',
  '\u001f',
  '\u007f',
] as const;
export const TEXT_BREAKS = ['\t', '\n', '\r'] as const;

/** `value` with `char` put in at a random place (start, middle or end). */
export function poisoned(rng: Rng, value: string, char: string): string {
  const at = pick(rng, [0, Math.floor(value.length / 2), value.length]);
  return value.slice(0, at) + char + value.slice(at);
}

/**
 * A minimal SMTP client over a raw socket, for tests that send what a real client library would
 * refuse to (NUL in a command, bare control bytes in headers): sends each line after the previous
 * reply; between 354 and "." lines go out dot-stuffed as message data. Resolves with every reply
 * line; a hang-up, reset or timeout is added as a line that is not an SMTP reply, so a test that
 * wants only refusals sees it. `localAddress` picks the client address (any of 127/8 on Linux).
 */
export function smtpReplies(
  port: number,
  lines: string[],
  opts: { localAddress?: string; timeoutMs?: number } = {},
): Promise<string[]> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1', localAddress: opts.localAddress });
    const replies: string[] = [];
    let buffer = '';
    let next = 0;
    let inData = false;
    let done = false;
    const finish = (extra?: string) => {
      if (done) return;
      done = true;
      socket.destroy();
      resolve(extra ? [...replies, extra] : replies);
    };
    socket.setTimeout(opts.timeoutMs ?? 20_000, () =>
      finish(`TIMEOUT: no reply within ${opts.timeoutMs ?? 20_000} ms`),
    );
    const send = () => {
      // Message data goes out in one write, up to the "." that ends it (the reply comes after).
      const data: string[] = [];
      let line = lines[next++];
      while (inData && line !== undefined && line !== '.') {
        data.push((line.startsWith('.') ? '.' : '') + line + '\r\n');
        line = lines[next++];
      }
      if (data.length) socket.write(Buffer.from(data.join(''), 'utf8'));
      if (line === undefined) return void socket.end();
      socket.write(Buffer.from(line + '\r\n', 'utf8'));
    };
    socket.on('data', (d) => {
      buffer += d.toString('utf8');
      let idx;
      while ((idx = buffer.indexOf('\r\n')) >= 0) {
        const reply = buffer.slice(0, idx);
        buffer = buffer.slice(idx + 2);
        replies.push(reply);
        if (/^\d{3} /.test(reply)) {
          if (reply.startsWith('354')) inData = true;
          else if (inData) inData = false;
          if (reply.startsWith('221')) return finish();
          send();
        }
      }
    });
    socket.on('close', () => {
      const last = replies.at(-1) ?? '';
      finish(/^(221|[45]\d\d) /.test(last) ? undefined : 'HANG-UP: closed mid-session');
    });
    socket.on('error', (err: NodeJS.ErrnoException) => finish(`RESET: ${err.code ?? err.message}`));
  });
}
