// Twilio's side of our webhooks: proving a request came from Twilio, signing requests the way
// Twilio does (tests and `cli sms` post signed inbound SMS), and reading its message statuses.
import twilio from 'twilio';

/** True only when `signature` (the X-Twilio-Signature header) matches this URL and form.
 * `fullUrl` is the public URL Twilio called (PUBLIC_URL + path + query), not the one we see
 * behind a proxy. */
export function verifyTwilioSignature(
  authToken: string,
  fullUrl: string,
  params: Record<string, string>,
  signature: string | undefined,
): boolean {
  if (!signature) return false;
  return twilio.validateRequest(authToken, signature, fullUrl, params);
}

/** The X-Twilio-Signature Twilio would send: base64 HMAC-SHA1 over the URL followed by each
 * form key and value, keys sorted. */
export function signTwilioRequest(
  authToken: string,
  fullUrl: string,
  params: Record<string, string>,
): string {
  return twilio.getExpectedTwilioSignature(authToken, fullUrl, params);
}

export type DeliveryStatus = 'queued' | 'sent' | 'delivered' | 'failed' | 'undelivered';

/** Twilio's MessageStatus in a status callback, in our forward-only terms; null for statuses
 * that say nothing about an outbound message (inbound ones, read receipts we do not track). */
export function mapTwilioStatus(status: string): DeliveryStatus | null {
  switch (status.trim().toLowerCase()) {
    // Accepted by Twilio but not yet handed to a carrier.
    case 'accepted':
    case 'scheduled':
    case 'queued':
    case 'sending':
      return 'queued';
    case 'sent':
      return 'sent';
    case 'delivered':
    case 'read':
      return 'delivered';
    case 'failed':
    case 'canceled':
      return 'failed';
    case 'undelivered':
      return 'undelivered';
    default:
      return null;
  }
}
