// Builds real Deps for integration tests: the test database, real Redis under a fresh key prefix,
// the real content, and transports the test chooses (by default the outbox, which writes to the
// test database). Time is a fake clock the test moves.
import type {
  EmailSender,
  OutgoingEmail,
  OutgoingSms,
  SmsSender,
} from '../../src/channels/port.ts';
import { fakeClock, type FakeClock } from '../../src/clock.ts';
import type { Config } from '../../src/config.ts';
import type { Deps } from '../../src/deps.ts';
import { deliver } from '../../src/flows/deliver.ts';
import { handleInbound } from '../../src/flows/inbound.ts';
import { createLog, type Log } from '../../src/log.ts';
import { buildDeps, closeDeps } from '../../src/main.ts';
import type { QueueName } from '../../src/queues.ts';
import { testConfig } from './env.ts';

/** Records what would be sent, in memory. */
export class MemorySms implements SmsSender {
  readonly name = 'memory';
  sent: OutgoingSms[] = [];
  async send(m: OutgoingSms) {
    this.sent.push(m);
    return { providerId: `SM${String(this.sent.length).padStart(32, '0')}`, status: 'queued' };
  }
}
export class MemoryEmail implements EmailSender {
  readonly name = 'memory';
  sent: OutgoingEmail[] = [];
  async send(m: OutgoingEmail) {
    this.sent.push(m);
    return { providerId: `<${m.messageId}@example.com>`, status: 'queued' };
  }
}

export interface Harness {
  deps: Deps;
  clock: FakeClock;
  config: Config;
  sms: MemorySms;
  email: MemoryEmail;
  /** Runs every job waiting in the queues in-process (no workers), until none are left. */
  drain(): Promise<number>;
  close(): Promise<void>;
}

export async function harness(
  opts: {
    start?: string;
    env?: Record<string, string>;
    sms?: SmsSender;
    email?: EmailSender;
    log?: Log;
  } = {},
): Promise<Harness> {
  const config = testConfig(opts.env);
  const clock = fakeClock(opts.start ?? '2026-05-04T13:00:00Z');
  const sms = new MemorySms();
  const email = new MemoryEmail();
  const deps = await buildDeps(config, {
    clock,
    sms: opts.sms ?? sms,
    email: opts.email ?? email,
    log: opts.log ?? createLog('silent'),
    dbPoolSize: 4,
  });
  // Each harness runs its own copy of the program under a unique key: the scheduler claims only
  // its program's enrollments, so test files running in parallel never claim each other's rows.
  deps.program = { ...deps.program, key: `${deps.program.key}-${config.redisPrefix.slice(-8)}` };
  const drain = async () => {
    let n = 0;
    for (let round = 0; round < 50; round++) {
      let did = 0;
      for (const name of ['inbound', 'priority', 'sms', 'email'] as QueueName[]) {
        const jobs = await deps.queues[name].getJobs(
          ['waiting', 'delayed', 'prioritized'],
          0,
          -1,
          true,
        );
        for (const job of jobs) {
          await job.remove();
          if (name === 'inbound') await handleInbound(deps, job.data.messageId);
          else await deliver(deps, job.data.messageId);
          did++;
        }
      }
      n += did;
      if (!did) break;
    }
    return n;
  };
  return {
    deps,
    clock,
    config,
    sms,
    email,
    drain,
    async close() {
      for (const q of Object.values(deps.queues))
        await q.obliterate({ force: true }).catch(() => {});
      await closeDeps(deps);
    },
  };
}
