// Errors on the hot paths are reported, never swallowed: a Redis that cannot be reached and a
// provider that cannot answer a reconciliation are each counted in metrics every time and logged
// at most once a minute per kind of error, with no phone number, address or reply text.
import { Writable } from 'node:stream';
import { createServer } from 'node:net';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { twilioSms } from '../../src/channels/twilio.ts';
import { LOG_EVERY_MS, logThrottled, maskedMessage } from '../../src/error-report.ts';
import { createLog } from '../../src/log.ts';
import { buildDeps } from '../../src/main.ts';
import { metrics } from '../../src/metrics.ts';
import { enroll } from '../../src/flows/enroll.ts';
import { createOutbound } from '../../src/flows/outbound.ts';
import { reconcileSending } from '../../src/flows/reconcile.ts';
import { freshPhone } from '../support/db.ts';
import { testConfig } from '../support/env.ts';
import { harness, waitFor, type Harness } from '../support/harness.ts';

/** A log that keeps its lines (pino JSON), to assert on what was written. */
function capturedLog() {
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];
  const dest = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString('utf8').split('\n').filter(Boolean)) {
        raw.push(l);
        lines.push(JSON.parse(l) as Record<string, unknown>);
      }
      done();
    },
  });
  return { log: createLog('info', dest), lines, raw };
}

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as { port: number };
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const redisErrors = () =>
  metrics.get('steady_redis_errors_total', { connection: 'main', code: 'ECONNREFUSED' });

describe('error reports', () => {
  it('log one line per kind a minute, then say how many went unlogged', () => {
    const { log, lines } = capturedLog();
    const t0 = Date.parse('2026-05-04T15:00:00Z');
    const at = (ms: number, kind = 'a') => logThrottled(log, 'warn', kind, { kind }, 'x', t0 + ms);
    expect([at(0), at(1000), at(LOG_EVERY_MS - 1), at(5, 'b'), at(LOG_EVERY_MS)]).toEqual([
      true,
      false,
      false,
      true,
      true,
    ]);
    expect(lines.map((l) => [l.kind, l.unlogged])).toEqual([
      ['a', undefined],
      ['b', undefined],
      ['a', 2],
    ]);
  });

  it('mask phone numbers and addresses in an error message, and keep only its first line', () => {
    const err = new Error(
      "The 'To' number +12025550123 is not valid (jane.doe@example.com, (202) 555-0123)\nsecret",
    );
    expect(maskedMessage(err)).toBe(
      "The 'To' number +1*******23 is not valid (j***@e***.com, *******23)",
    );
    expect(maskedMessage(new Error('connect ECONNREFUSED 127.0.0.1:6379'))).toBe(
      'connect ECONNREFUSED 127.0.0.1:6379',
    );
  });
});

describe('errors on the hot paths', () => {
  it('a Redis that refuses connections is counted every time and logged once a minute', async () => {
    const port = await closedPort();
    const { log, lines } = capturedLog();
    const before = redisErrors();
    const deps = await buildDeps(testConfig({ REDIS_URL: `redis://127.0.0.1:${port}` }), {
      log,
      skipChecks: true,
      dbPoolSize: 1,
    });
    try {
      // ioredis retries after 50 ms, 100 ms, 150 ms...: a few failures within two seconds.
      await waitFor(() => redisErrors() - before >= 3, { timeout: 10_000 });
      const logged = lines.filter((l) => l.code === 'ECONNREFUSED' && l.connection === 'main');
      expect(logged).toHaveLength(1);
      expect(logged[0]).toMatchObject({ level: 50, msg: expect.stringMatching(/Redis/) });
      expect(await metrics.render()).toMatch(/steady_redis_errors_total\{[^}]*code="ECONNREFUSED"/);
    } finally {
      const queueConnection = await deps.queues.sms.client.catch(() => null);
      queueConnection?.disconnect();
      deps.redis.disconnect();
      await deps.db.$disconnect();
    }
  });

  describe('send reconciliation', () => {
    let h: Harness;
    beforeAll(async () => {
      h = await harness({ workers: false, start: '2026-05-04T15:00:00Z' });
    });
    afterAll(async () => {
      await h?.close();
    });

    it('a provider that cannot answer is counted by error code and logged once, masked', async () => {
      const phone = await freshPhone(h.deps.db);
      const r = await enroll(h.deps, { phone, confirm: true, evidence: { source: 'test' } });
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        const send = await h.deps.db.$transaction((tx) =>
          createOutbound(
            tx,
            {
              subscriberId: r.subscriberId,
              enrollmentId: r.enrollmentId,
              channel: 'sms',
              kind: 'safety',
              template: 'safety_abuse',
              lane: 'priority',
              dedupeKey: `t-${randomBytes(6).toString('hex')}`,
            },
            h.clock.now(),
          ),
        );
        await h.deps.db.message.update({
          where: { id: send!.messageId },
          data: { status: 'sending' },
        });
        ids.push(send!.messageId);
      }
      // The real SDK against a port nobody listens on: Twilio unreachable.
      const unreachable = twilioSms({
        accountSid: h.twilio.accountSid,
        authToken: h.twilio.authToken,
        from: '+12025550100',
        apiBase: `http://127.0.0.1:${await closedPort()}`,
      });
      const { log, lines, raw } = capturedLog();
      const before = metrics.get('steady_reconcile_errors_total', { code: 'network' });
      try {
        for (const id of ids)
          expect(await reconcileSending({ ...h.deps, sms: unreachable, log }, id)).toBe(
            'unanswered',
          );
      } finally {
        await unreachable.close?.();
      }
      expect(metrics.get('steady_reconcile_errors_total', { code: 'network' }) - before).toBe(3);
      const logged = lines.filter((l) => l.code === 'network');
      expect(logged).toHaveLength(1);
      expect(logged[0]).toMatchObject({ level: 40, messageId: ids[0] });
      const digits = phone.replace(/\D/g, '');
      for (const l of raw) {
        expect(l).not.toContain(digits);
        expect(l).not.toContain(digits.slice(1));
      }
      // The rows are left for the sweep's own rules.
      for (const id of ids)
        expect((await h.deps.db.message.findUniqueOrThrow({ where: { id } })).status).toBe(
          'sending',
        );
    });
  });
});
