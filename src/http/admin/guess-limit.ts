// Guessing ADMIN_TOKEN. The sign-in form and the API's bearer header open the same door, so their
// attempts share one count. Only real attempts are counted: a sign-in post must first pass its
// CSRF and Origin checks (login.ts), an API request must carry credentials, so a flood of junk
// posts costs nobody anything.
//
// Per client first (clientId: a keyed hash, never the address): GUESS_LIMIT attempts per window,
// then that client gets 429 (the right token too, until the window passes: answering a right token
// while refusing wrong ones would tell a guesser when it had won). Only attempts a client's own
// limit lets through count towards the total of all clients.
//
// All clients together: the client address comes from X-Forwarded-For under trustProxy, and an
// attacker may hold many addresses, so the total is watched too. But a hard global limit would
// let anyone lock every operator out by failing from many addresses; over GUESS_LIMIT_ALL no one
// is refused because of others. Instead every such attempt is counted
// (steady_admin_auth_pressure_total), operators are alerted once per window, and a client that
// has already failed itself in this window is slowed by a few hundred milliseconds more per
// attempt; a client with no failures of its own (the operator at a new address) goes straight on.
//
// Every attempt is counted before the token is compared, atomically, so a burst of parallel
// guesses cannot all slip past a check made before the count; an attempt that turns out right is
// given back.
import type { Deps } from '../../deps.ts';
import { notifyOperatorsOfSignInPressure } from '../../flows/notify.ts';
import { metrics } from '../../metrics.ts';
import { clientId, rateLimit, refundRateLimit, type RateLimitResult } from '../rate-limit.ts';

export const GUESS_LIMIT = { attempts: 10, windowSec: 10 * 60 };
export const GUESS_LIMIT_ALL = { attempts: 200, windowSec: 10 * 60 };
/** The delay a client that has failed gets while all clients together are over GUESS_LIMIT_ALL. */
export const PRESSURE_DELAY_MS = { min: 250, jitter: 200 };

type LimitDeps = Pick<Deps, 'redis' | 'config' | 'log' | 'email'>;
export type GuessSurface = 'console' | 'api';

const keys = (deps: Pick<Deps, 'config'>, ip: string) => ({
  client: `admin-auth:${clientId(deps, ip)}`,
  all: 'admin-auth:all',
  alerted: `${deps.config.redisPrefix}:rl:admin-auth:alerted`,
});

export interface GuessAttempt {
  /** This client's own limit refuses the attempt (answer 429 with its Retry-After), or null. */
  refused: RateLimitResult | null;
  /** All clients together were over their limit (this attempt was never refused for it; it was
   * slowed if its client had failed before). */
  pressure: boolean;
  /** The token was right: this attempt does not count against anyone. */
  succeeded(): Promise<void>;
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function countGuess(
  deps: LimitDeps,
  ip: string,
  surface: GuessSurface,
): Promise<GuessAttempt> {
  const k = keys(deps, ip);
  const client = await rateLimit(deps, k.client, GUESS_LIMIT.attempts, GUESS_LIMIT.windowSec);
  if (!client.ok) {
    metrics.inc('steady_admin_auth_limited_total', { surface });
    return { refused: client, pressure: false, succeeded: async () => {} };
  }
  const all = await rateLimit(deps, k.all, GUESS_LIMIT_ALL.attempts, GUESS_LIMIT_ALL.windowSec);
  if (!all.ok) {
    metrics.inc('steady_admin_auth_pressure_total', { surface });
    await underPressure(deps, GUESS_LIMIT_ALL.attempts + 1, k.alerted);
    // This attempt is the client's first in the window (nothing of its own failed): no delay.
    const failedBefore = client.remaining < GUESS_LIMIT.attempts - 1;
    if (failedBefore)
      await pause(PRESSURE_DELAY_MS.min + Math.floor(Math.random() * PRESSURE_DELAY_MS.jitter));
  }
  return {
    refused: null,
    pressure: !all.ok,
    async succeeded() {
      await Promise.all([refundRateLimit(deps, k.client), refundRateLimit(deps, k.all)]);
    },
  };
}

/** Once per window (whichever process sees it first): a warning in the log and operator alerts. */
async function underPressure(deps: LimitDeps, attempts: number, alertedKey: string) {
  const first = await deps.redis
    .set(alertedKey, '1', 'EX', GUESS_LIMIT_ALL.windowSec, 'NX')
    .catch(() => null);
  if (first !== 'OK') return;
  deps.log.warn(
    { attempts, windowSec: GUESS_LIMIT_ALL.windowSec },
    'many admin sign-in attempts from many addresses: slowing every attempt, alerting operators',
  );
  // Not awaited: a slow mail server must not hold up the request that noticed.
  notifyOperatorsOfSignInPressure(deps, {
    attempts,
    windowSec: GUESS_LIMIT_ALL.windowSec,
    at: new Date(),
  }).catch((err) =>
    deps.log.error({ err: (err as Error).message }, 'sign-in pressure alert failed'),
  );
}
