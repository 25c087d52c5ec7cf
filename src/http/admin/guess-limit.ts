// Guessing ADMIN_TOKEN. The sign-in form and the API's bearer header open the same door, so their
// attempts share one count, per client (clientId: a keyed hash, never the address) and across
// all clients (the client address comes from X-Forwarded-For under trustProxy, which a client
// talking to us directly can vary, so the per-client count alone does not bound guessing).
//
// Every attempt is counted before the token is compared, atomically, so a burst of parallel
// guesses cannot all slip past a check made before the count; an attempt that turns out right is
// given back. Over either limit every attempt is refused, the right token too, until the window
// passes: answering a right token while refusing wrong ones would tell a guesser when it had won.
import type { Deps } from '../../deps.ts';
import { clientId, rateLimit, refundRateLimit, type RateLimitResult } from '../rate-limit.ts';

export const GUESS_LIMIT = { attempts: 10, windowSec: 10 * 60 };
export const GUESS_LIMIT_ALL = { attempts: 200, windowSec: 10 * 60 };

type LimitDeps = Pick<Deps, 'redis' | 'config'>;

const keys = (deps: LimitDeps, ip: string) => ({
  client: `admin-auth:${clientId(deps, ip)}`,
  all: 'admin-auth:all',
});

export interface GuessAttempt {
  /** The limit that refuses this attempt (answer 429 with its Retry-After), or null. */
  refused: RateLimitResult | null;
  /** The token was right: this attempt does not count against anyone. */
  succeeded(): Promise<void>;
}

export async function countGuess(deps: LimitDeps, ip: string): Promise<GuessAttempt> {
  const k = keys(deps, ip);
  const [client, all] = await Promise.all([
    rateLimit(deps, k.client, GUESS_LIMIT.attempts, GUESS_LIMIT.windowSec),
    rateLimit(deps, k.all, GUESS_LIMIT_ALL.attempts, GUESS_LIMIT_ALL.windowSec),
  ]);
  return {
    refused: !client.ok ? client : !all.ok ? all : null,
    async succeeded() {
      await Promise.all([refundRateLimit(deps, k.client), refundRateLimit(deps, k.all)]);
    },
  };
}
