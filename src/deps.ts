// Everything a flow, job or route needs, built once by main.ts (or by a test) and passed down.
import type { EmailSender, SmsSender } from './channels/port.ts';
import type { Clock } from './clock.ts';
import type { Config } from './config.ts';
import type { ProgramRegistry } from './content/programs.ts';
import type { Content } from './content/types.ts';
import type { SafetyScreener } from './safety/screen.ts';
import type { Db } from './db/client.ts';
import type { Log } from './log.ts';
import type { Queues } from './queues.ts';
import type { RedisClient } from './redis.ts';

export interface Deps {
  config: Config;
  db: Db;
  /** A single server's client or a Redis Cluster's (src/redis.ts): one key per command. */
  redis: RedisClient;
  queues: Queues;
  sms: SmsSender;
  email: EmailSender;
  clock: Clock;
  log: Log;
  content: Content;
  /** The live programs (PROGRAMS) and the default one (PROGRAM). Whatever acts for an enrollment
   * takes its program from here by the key the enrollment stores: `programs.of(e.program)`. */
  programs: ProgramRegistry;
  safety: SafetyScreener;
}
