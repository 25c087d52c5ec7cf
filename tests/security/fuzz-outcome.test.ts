// The fuzz test counts only an HTTP 4xx as a refusal. These are the ways a server can fail to
// answer, from a local server that misbehaves on purpose: each must come back as a failure, so a
// service that crashed or hung on bad input could never pass the fuzz test as "refused".
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpOutcome } from '../support/fuzz.ts';

let server: http.Server;
let base: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    if (req.url === '/reset') return req.socket.destroy();
    if (req.url === '/hang') return; // never answers
    if (req.url === '/hangup') return req.socket.end(); // closes without a status line
    res.writeHead(req.url === '/refuse' ? 400 : 500).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

describe('httpOutcome', () => {
  it.each([
    ['/reset', 'a reset connection'],
    ['/hang', 'no answer before the timeout'],
    ['/hangup', 'a hang-up without a status line'],
  ])('%s (%s) is a failure, not a refusal', async (path) => {
    const outcome = await httpOutcome(base + path, { method: 'POST', body: 'x' }, 300);
    expect(outcome.kind).toBe('failure');
  });

  it('an HTTP 4xx is an answer the fuzz test may count as a refusal; a 5xx is an answer too', async () => {
    expect(await httpOutcome(`${base}/refuse`, { method: 'GET' })).toMatchObject({
      kind: 'answer',
      status: 400,
    });
    expect(await httpOutcome(`${base}/boom`, { method: 'GET' })).toMatchObject({
      kind: 'answer',
      status: 500,
    });
  });

  it('a request the client will not send is unsendable, not a refusal', async () => {
    const outcome = await httpOutcome(`${base}/refuse`, {
      method: 'GET',
      headers: { 'x-bad': 'line\nbreak' },
    });
    expect(outcome.kind).toBe('unsendable');
  });
});
