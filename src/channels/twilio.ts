// SMS through the real Twilio SDK. `apiBase` points the SDK at another origin (the fake in tests
// and benchmarks) while keeping every path, header and form field exactly as the SDK builds them.
import http from 'node:http';
import { request as httpsRequest } from 'node:https';
import twilio from 'twilio';
import type SdkRequestClient from 'twilio/lib/base/RequestClient.js';
import type SdkResponse from 'twilio/lib/http/response.js';
import type { OutgoingSms, ProviderMessage, SendResult, SmsSender } from './port.ts';
import { twilioErrorToSendError } from './twilio-errors.ts';

type Response<T> = SdkResponse.default<T>;

export interface TwilioSmsOptions {
  accountSid: string;
  authToken: string;
  /** Sender number (E.164); or use messagingServiceSid and let Twilio pick. */
  from?: string;
  messagingServiceSid?: string;
  /** Origin to send API calls to instead of https://api.twilio.com (tests, benchmarks). */
  apiBase?: string;
  /** Per request; an unanswered send becomes a retryable `network` error. */
  timeoutMs?: number;
  /** Open connections per host; at least the send concurrency, or requests queue for a socket. */
  maxSockets?: number;
}

/** Rewrites each request's origin, and keeps plain-http connections alive too: the SDK only
 * configures an https agent, so http:// would otherwise use Node's global agent.
 *
 * It also carries the SDK's form posts itself (sending a message): the SDK still builds the
 * request (path, form fields, auth, User-Agent) and reads the answer (the MessageInstance, or a
 * RestException with Twilio's code), but the bytes go over node:http instead of axios, whose
 * per-request config merging cost more CPU than the rest of a send. Anything else (queries,
 * other auth strategies, JSON bodies, debug logging) takes the SDK's own axios path. */
class RoutedRequestClient extends twilio.RequestClient {
  private readonly origin: URL | undefined;
  private readonly timeoutMs: number;

  constructor(apiBase: string | undefined, opts: { timeout: number; maxSockets: number }) {
    super({ timeout: opts.timeout, keepAlive: true, maxSockets: opts.maxSockets });
    this.origin = apiBase ? new URL(apiBase) : undefined;
    this.timeoutMs = opts.timeout;
    this.axios.defaults.httpAgent = new http.Agent({
      keepAlive: true,
      maxSockets: opts.maxSockets,
      timeout: opts.timeout,
    });
  }

  override request<TData>(opts: SdkRequestClient.RequestOptions<TData>) {
    if (this.origin) {
      const uri = new URL(opts.uri);
      uri.protocol = this.origin.protocol;
      uri.host = this.origin.host;
      opts = { ...opts, uri: uri.href };
    }
    const form = (opts.headers?.['Content-Type'] ?? FORM) === FORM;
    if (
      opts.method === 'post' &&
      form &&
      opts.username &&
      opts.password &&
      !opts.params &&
      !opts.authStrategy &&
      opts.logLevel !== 'debug'
    )
      return this.postForm(opts);
    return super.request<TData>(opts);
  }

  private postForm<TData>(opts: SdkRequestClient.RequestOptions<TData>): Promise<Response<TData>> {
    const uri = new URL(opts.uri);
    const body = formBody(opts.data);
    const headers: Record<string, string> = {
      ...(opts.headers as Record<string, string> | undefined),
      'Content-Type': FORM,
      'Content-Length': String(Buffer.byteLength(body)),
      Connection: 'keep-alive',
      Authorization: 'Basic ' + Buffer.from(`${opts.username}:${opts.password}`).toString('base64'),
    };
    const https = uri.protocol === 'https:';
    const agent = (
      https ? this.axios.defaults.httpsAgent : this.axios.defaults.httpAgent
    ) as http.Agent;
    const timeout = opts.timeout ?? this.timeoutMs;
    return new Promise((resolve, reject) => {
      const req = (https ? httpsRequest : http.request)(
        uri,
        { method: 'POST', headers, agent },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          // The SDK parses a string body as JSON itself (and maps an error answer to RestException).
          res.on('end', () =>
            resolve({
              statusCode: res.statusCode ?? 0,
              body: Buffer.concat(chunks).toString('utf8') as TData,
              headers: res.headers,
            } as Response<TData>),
          );
        },
      );
      // As axios reports its timeout: the request may have reached Twilio, so it is not "refused".
      req.setTimeout(timeout, () =>
        req.destroy(
          Object.assign(new Error(`timeout of ${timeout}ms exceeded`), { code: 'ECONNABORTED' }),
        ),
      );
      req.on('error', reject);
      req.end(body);
    });
  }
}

const FORM = 'application/x-www-form-urlencoded';

/** The SDK's form data (values already serialized by it; arrays repeat their key). */
function formBody(data: unknown): string {
  const form = new URLSearchParams();
  for (const [key, value] of Object.entries((data ?? {}) as Record<string, unknown>)) {
    if (value === undefined || value === null) continue;
    for (const v of Array.isArray(value) ? value : [value]) form.append(key, String(v));
  }
  return form.toString();
}

export function twilioSms(opts: TwilioSmsOptions): SmsSender {
  if (!opts.from && !opts.messagingServiceSid) {
    throw new Error('twilioSms needs `from` or `messagingServiceSid`');
  }
  const timeout = opts.timeoutMs ?? 10_000;
  const httpClient = new RoutedRequestClient(opts.apiBase, {
    timeout,
    maxSockets: opts.maxSockets ?? 100,
  });
  // autoRetry stays off: retries are the queue's decision, made from SendError.retryable.
  const client = twilio(opts.accountSid, opts.authToken, { httpClient, timeout });
  // A messaging service picks the sender itself, so `from` is sent only without one.
  const sender = opts.messagingServiceSid
    ? { messagingServiceSid: opts.messagingServiceSid }
    : { from: opts.from };

  return {
    name: 'twilio',
    async send(msg: OutgoingSms): Promise<SendResult> {
      try {
        const created = await client.messages.create({
          to: msg.to,
          body: msg.body,
          ...sender,
          ...(msg.statusCallback ? { statusCallback: msg.statusCallback } : {}),
        });
        return { providerId: created.sid, status: created.status };
      } catch (err) {
        throw twilioErrorToSendError(err);
      }
    },
    async recentTo(to: string, since: Date): Promise<ProviderMessage[]> {
      try {
        // Newest first; a number gets a handful of messages a day, so one page covers the window.
        const list = await client.messages.list({ to, pageSize: 50, limit: 50 });
        return list
          .filter((m) => m.dateCreated && m.dateCreated.getTime() >= since.getTime())
          .map((m) => ({ providerId: m.sid, body: m.body, createdAt: m.dateCreated }));
      } catch (err) {
        throw twilioErrorToSendError(err);
      }
    },
    async close() {
      (httpClient.axios.defaults.httpAgent as http.Agent).destroy();
      (httpClient.axios.defaults.httpsAgent as http.Agent | undefined)?.destroy?.();
    },
  };
}
