// A local HTTP endpoint that records what it is sent and answers what the test says.
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  /** The status this receiver answered. */
  answered: number;
}

export interface Receiver {
  url: string;
  received: Received[];
  /** Requests answered 2xx, in arrival order. */
  accepted(): Received[];
  answer: () => number;
  close(): Promise<void>;
}

export async function startReceiver(answer: () => number = () => 200): Promise<Receiver> {
  const received: Received[] = [];
  const r: Receiver = {
    url: '',
    received,
    accepted: () => received.filter((x) => x.answered >= 200 && x.answered < 300),
    answer,
    close: () => new Promise((res) => server.close(() => res())),
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const answered = r.answer();
      received.push({
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        answered,
      });
      res.writeHead(answered, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()));
  r.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return r;
}

export const typeOf = (x: Received) => (JSON.parse(x.body) as { type: string }).type;
export const dataOf = (x: Received) =>
  (JSON.parse(x.body) as { data: Record<string, unknown> }).data;
