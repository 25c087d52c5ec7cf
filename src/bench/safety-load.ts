// Safety under load: people reply disclosing danger while a backlog of nudges drains. Each reply
// goes through the real, signed Twilio webhook of the running service; the clock runs from the
// webhook's answer (the reply is recorded) to the fake provider receiving the safety message.
import type pg from 'pg';
import { signTwilioRequest } from '../channels/twilio-webhook.ts';
import { BENCH_FROM, BENCH_PUBLIC_URL } from './env.ts';
import type { FakeMessage } from './procs.ts';
import { percentile } from './stats.ts';

/** A reply the safety screen flags (abuse), as a person might text it. */
export const DISCLOSURE = 'he hit me again last night and i am scared to go home';

const PATH = '/webhooks/twilio/sms';

export interface Disclosures {
  /** When the webhook answered, per phone (ms since the epoch). */
  accepted: Map<string, number>;
  failures: string[];
}

/** Posts one signed inbound SMS per phone, `spacingMs` apart, without waiting for the previous. */
export async function sendDisclosures(
  serviceUrl: string,
  fake: { accountSid: string; authToken: string },
  phones: readonly string[],
  spacingMs = 50,
): Promise<Disclosures> {
  const accepted = new Map<string, number>();
  const failures: string[] = [];
  const posts: Promise<void>[] = [];
  for (const [i, phone] of phones.entries()) {
    const params: Record<string, string> = {
      MessageSid: `SM${Date.now().toString(16)}${String(i).padStart(8, '0')}`.padEnd(34, '0'),
      AccountSid: fake.accountSid,
      From: phone,
      To: BENCH_FROM,
      Body: DISCLOSURE,
      NumMedia: '0',
    };
    const signature = signTwilioRequest(fake.authToken, BENCH_PUBLIC_URL + PATH, params);
    posts.push(
      fetch(serviceUrl + PATH, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-twilio-signature': signature,
        },
        body: new URLSearchParams(params).toString(),
      }).then(
        async (res) => {
          await res.text();
          if (res.ok) accepted.set(phone, Date.now());
          else failures.push(`${phone}: HTTP ${res.status}`);
        },
        (err: unknown) => void failures.push(`${phone}: ${String(err)}`),
      ),
    );
    if (spacingMs > 0) await new Promise((r) => setTimeout(r, spacingMs));
  }
  await Promise.all(posts);
  return { accepted, failures };
}

export interface SafetyResult {
  replies: number;
  answered: number;
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
  /** Where the time went (p50, ms): reply recorded -> read (inbound queue and the reply pipeline),
   * safety message created -> recorded sent (priority queue and delivery). */
  stages: { readP50Ms: number | null; sendP50Ms: number | null };
  failures: string[];
}

/** Matches each safety message the provider received (by its sid, through the message row) to
 * the reply that caused it. */
export async function safetyLatencies(
  pool: pg.Pool,
  received: readonly FakeMessage[],
  sent: Disclosures,
): Promise<SafetyResult> {
  const { rows } = await pool.query<{ phone: string; providerId: string }>(
    `SELECT s.phone, m."providerId" FROM messages m JOIN subscribers s ON s.id = m."subscriberId"
     WHERE m.kind = 'safety' AND m.direction = 'out' AND m."providerId" IS NOT NULL`,
  );
  const at = new Map(received.map((m) => [m.sid, m.receivedAt]));
  const { rows: stages } = await pool.query<{ read_ms: number | null; send_ms: number | null }>(
    `SELECT EXTRACT(EPOCH FROM (i."processedAt" - i."createdAt")) * 1000 AS read_ms,
            EXTRACT(EPOCH FROM (o."sentAt" - o."createdAt")) * 1000 AS send_ms
     FROM messages i LEFT JOIN messages o ON o."dedupeKey" LIKE 're-' || i.id || '-%' AND o.kind = 'safety'
     WHERE i.direction = 'in'`,
  );
  const stage = (k: 'read_ms' | 'send_ms') =>
    percentile(
      stages.map((r) => Number(r[k])).filter((v) => Number.isFinite(v)),
      50,
    );
  const latencies: number[] = [];
  for (const r of rows) {
    const got = at.get(r.providerId);
    const asked = sent.accepted.get(r.phone);
    if (got !== undefined && asked !== undefined) latencies.push(got - asked);
  }
  return {
    replies: sent.accepted.size,
    answered: latencies.length,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    maxMs: latencies.length ? Math.max(...latencies) : null,
    stages: { readP50Ms: stage('read_ms'), sendP50Ms: stage('send_ms') },
    failures: sent.failures,
  };
}
