// Disclosure replies through the signed Twilio webhook of the web process, as Twilio would post
// them. A request that fails (the web process lost its database connection, Redis is restarting)
// is posted again with the same MessageSid, as Twilio's retries would: it must be recorded once
// and answered once.
import { signTwilioRequest } from '../../src/channels/twilio-webhook.ts';
import { sleep } from './ports.ts';

export const DISCLOSURE_TEXTS = [
  'he hit me again last night and I am scared to go home',
  'Honestly not great. He hit me when I got back late.',
  'my boyfriend hit me and took my phone',
];

export interface InjectTarget {
  webUrl: string;
  publicUrl: string;
  authToken: string;
  accountSid: string;
  to: string;
}

export interface InjectResult {
  posted: number;
  attempts: number;
  failures: number;
}

export async function postSigned(
  t: InjectTarget,
  path: string,
  params: Record<string, string>,
): Promise<number> {
  const signature = signTwilioRequest(t.authToken, t.publicUrl + path, params);
  const res = await fetch(t.webUrl + path, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': signature,
    },
    body: new URLSearchParams(params).toString(),
    signal: AbortSignal.timeout(15_000),
  });
  await res.arrayBuffer();
  return res.status;
}

/** Posts one inbound SMS until the web process answers 200 (up to `deadline`). */
export async function injectReply(
  t: InjectTarget,
  from: string,
  text: string,
  sid: string,
  deadline: number,
  result: InjectResult,
): Promise<boolean> {
  const params = {
    AccountSid: t.accountSid,
    MessageSid: sid,
    SmsSid: sid,
    From: from,
    To: t.to,
    Body: text,
    NumMedia: '0',
  };
  for (let wait = 200; Date.now() < deadline; wait = Math.min(wait * 2, 3000)) {
    result.attempts++;
    const status = await postSigned(t, '/webhooks/twilio/sms', params).catch(() => 0);
    if (status === 200) {
      result.posted++;
      return true;
    }
    result.failures++;
    await sleep(wait);
  }
  return false;
}

/**
 * Posts one disclosure from each of `phones`, spread over the first seconds of a run (so they
 * cross the faults), each until it is taken or `deadline` passes. Counts go to `result`.
 */
export function injectDisclosures(
  t: InjectTarget,
  phones: readonly string[],
  texts: readonly string[],
  t0: number,
  deadline: number,
  result: InjectResult,
): Promise<boolean[]> {
  return Promise.all(
    phones.map(async (phone, i) => {
      await sleep(300 + i * 120);
      const sid = `SM${(t0 + i).toString(16).padStart(16, '0')}${i.toString(16).padStart(16, '0')}`;
      return injectReply(t, phone, texts[i % texts.length]!, sid, deadline, result);
    }),
  );
}
