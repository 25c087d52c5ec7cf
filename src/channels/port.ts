// Every provider behind one small contract. Adapters own their provider's quirks: signature
// checks, status mapping, and turning provider error codes into SendError.

export interface OutgoingSms {
  messageId: string;
  to: string; // E.164
  body: string;
  /** Where the provider should post delivery status callbacks. */
  statusCallback?: string;
  /** What this message is (nudge, checkin, safety, ...); the outbox records it, providers ignore it. */
  kind?: string;
}

export interface OutgoingEmail {
  messageId: string;
  to: string;
  from: string;
  subject: string;
  text: string;
  html: string;
  replyTo?: string;
  /** Extra headers (List-Unsubscribe, ...). Values must not contain CR or LF. */
  headers: Record<string, string>;
  /** What this message is (nudge, confirm, ...); the outbox records it, providers ignore it. */
  kind?: string;
}

export interface SendResult {
  providerId: string;
  /** Provider's initial status, e.g. "queued". */
  status: string;
}

export type SendErrorCode =
  | 'opted_out' // recipient opted out at the carrier (Twilio 21610): record an opt-out
  | 'invalid_recipient' // number or address cannot receive: fail permanently
  | 'rejected' // provider refused this message for good (content, config)
  | 'throttled' // rate limited: retry later
  | 'provider_down' // 5xx: retry later
  | 'network' // no answer, reset, timeout: retry later (at-most-once callers mark unknown)
  | 'auth' // our credentials are wrong: retrying will not help
  | 'unknown';

export class SendError extends Error {
  readonly code: SendErrorCode;
  readonly retryable: boolean;
  readonly providerCode?: number | string;
  constructor(
    code: SendErrorCode,
    opts: { retryable: boolean; providerCode?: number | string; message?: string },
  ) {
    super(opts.message ?? code);
    this.name = 'SendError';
    this.code = code;
    this.retryable = opts.retryable;
    this.providerCode = opts.providerCode;
  }
}

/** A message the provider holds, as its message list reports it. */
export interface ProviderMessage {
  providerId: string;
  body: string;
  createdAt: Date;
}

export interface SmsSender {
  readonly name: string;
  send(msg: OutgoingSms): Promise<SendResult>;
  /** The provider's own record of what it took for this number since then (newest first), so a
   * send cut off by a crash can be looked up instead of guessed. Optional: not every transport
   * can answer. Throws SendError when the provider cannot be asked. */
  recentTo?(to: string, since: Date): Promise<ProviderMessage[]>;
  close?(): Promise<void>;
}

export interface EmailSender {
  readonly name: string;
  send(msg: OutgoingEmail): Promise<SendResult>;
  close?(): Promise<void>;
}
