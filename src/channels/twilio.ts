// SMS through the real Twilio SDK. `apiBase` points the SDK at another origin (the fake in tests
// and benchmarks) while keeping every path, header and form field exactly as the SDK builds them.
import http from 'node:http';
import twilio from 'twilio';
import type SdkRequestClient from 'twilio/lib/base/RequestClient.js';
import type { OutgoingSms, ProviderMessage, SendResult, SmsSender } from './port.ts';
import { twilioErrorToSendError } from './twilio-errors.ts';

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
 * configures an https agent, so http:// would otherwise use Node's global agent. */
class RoutedRequestClient extends twilio.RequestClient {
  private readonly origin: URL | undefined;

  constructor(apiBase: string | undefined, opts: { timeout: number; maxSockets: number }) {
    super({ timeout: opts.timeout, keepAlive: true, maxSockets: opts.maxSockets });
    this.origin = apiBase ? new URL(apiBase) : undefined;
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
    return super.request<TData>(opts);
  }
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
