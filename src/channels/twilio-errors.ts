// Turns whatever the Twilio SDK throws into our one error type. Pure: it reads the fields the
// SDK sets (RestException: `status` = HTTP status, `code` = Twilio error code; axios errors:
// `code` = a Node errno string) so it can be tested with plain objects.
import { SendError, type SendErrorCode } from './port.ts';

/** Twilio error codes that mean something specific to us; anything else goes by HTTP status. */
const TWILIO_CODES: Record<number, SendErrorCode> = {
  21610: 'opted_out', // recipient replied STOP: record an opt-out, never retry
  21211: 'invalid_recipient', // invalid 'To' phone number
  21217: 'invalid_recipient', // phone number does not appear to be valid
  21401: 'invalid_recipient', // invalid phone number
  21407: 'invalid_recipient', // this number type does not support SMS
  21408: 'invalid_recipient', // sending to this region is not enabled
  21421: 'invalid_recipient', // phone number is invalid
  21612: 'invalid_recipient', // 'To' number cannot be reached via SMS from this 'From'
  21614: 'invalid_recipient', // 'To' number is not a mobile number
  30005: 'invalid_recipient', // unknown destination handset (delivery callbacks)
  30006: 'invalid_recipient', // landline or unreachable carrier (delivery callbacks)
  20003: 'auth', // authentication failed
  20005: 'auth', // account not active
  // A 404 on our own Messages resource means the AccountSid is wrong, not that the message is.
  20404: 'auth',
  20429: 'throttled', // too many requests
  14107: 'throttled', // SMS rate limit exceeded for this 'From'
};

const RETRYABLE: Record<SendErrorCode, boolean> = {
  opted_out: false,
  invalid_recipient: false,
  rejected: false,
  auth: false,
  throttled: true,
  provider_down: true,
  network: true,
  // We do not know whether it was sent, and retrying a bug will not fix it.
  unknown: false,
};

// Errors from the socket or the HTTP client, before any answer from Twilio. ECONNABORTED is
// axios's request timeout.
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ERR_NETWORK',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
]);

function make(code: SendErrorCode, providerCode: number | string | undefined, message: string) {
  return new SendError(code, { retryable: RETRYABLE[code], providerCode, message });
}

function byStatus(status: number): SendErrorCode {
  if (status === 429) return 'throttled';
  if (status === 401 || status === 403) return 'auth';
  if (status >= 500) return 'provider_down';
  if (status >= 400) return 'rejected';
  return 'unknown';
}

/** Maps a RestException, an axios/Node network error, or anything else to a SendError. */
export function twilioErrorToSendError(err: unknown): SendError {
  if (err instanceof SendError) return err;
  const e = (typeof err === 'object' && err !== null ? err : {}) as {
    status?: unknown;
    code?: unknown;
    message?: unknown;
    cause?: { code?: unknown };
  };
  const message = typeof e.message === 'string' && e.message ? e.message : String(err);
  const twilioCode = typeof e.code === 'number' ? e.code : undefined;
  const status = typeof e.status === 'number' ? e.status : undefined;

  if (status !== undefined) {
    const known = twilioCode !== undefined ? TWILIO_CODES[twilioCode] : undefined;
    return make(known ?? byStatus(status), twilioCode ?? status, `Twilio: ${message}`);
  }
  const errno = typeof e.code === 'string' ? e.code : e.cause?.code;
  if (typeof errno === 'string' && NETWORK_CODES.has(errno)) {
    return make('network', errno, `Twilio unreachable: ${message}`);
  }
  return make('unknown', twilioCode, `Twilio: ${message}`);
}
