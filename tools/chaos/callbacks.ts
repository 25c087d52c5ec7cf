// After the run, Twilio's side of the story: a `delivered` status callback for every message the
// fake provider accepted, signed and posted to the callback URL the message carried. This is what
// settles a message a dead worker left `unknown` although the provider had taken it.
import type { FakeTwilioMessage } from '../../tests/support/fake-twilio.ts';
import { postSigned, type InjectTarget } from './inject.ts';

export async function postStatusCallbacks(
  t: InjectTarget,
  messages: FakeTwilioMessage[],
  concurrency = 16,
): Promise<{ posted: number; failed: number }> {
  const result = { posted: 0, failed: 0 };
  const todo = messages.filter((m) => m.statusCallback?.startsWith(t.publicUrl));
  let next = 0;
  const worker = async () => {
    while (next < todo.length) {
      const m = todo[next++]!;
      const path = m.statusCallback!.slice(t.publicUrl.length);
      const params = {
        AccountSid: t.accountSid,
        MessageSid: m.sid,
        SmsSid: m.sid,
        MessageStatus: 'delivered',
        SmsStatus: 'delivered',
        To: m.to,
        From: m.from ?? '',
      };
      let ok = false;
      for (let attempt = 0; attempt < 5 && !ok; attempt++) {
        const status = await postSigned(t, path, params).catch(() => 0);
        ok = status >= 200 && status < 300;
      }
      if (ok) result.posted++;
      else result.failed++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return result;
}
