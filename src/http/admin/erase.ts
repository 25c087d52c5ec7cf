// The console's Erase button, over whichever erase flow this build has: eraseSubscriber (by id)
// if present, else eraseContact (by phone or address). Looked up at run time so the console keeps
// working, with the button disabled, while the flow is missing or changing shape.
import * as eraseFlow from '../../flows/erase.ts';
import type { Deps } from '../../deps.ts';

type EraseDeps = Pick<Deps, 'db' | 'queues' | 'config' | 'log'>;
type BySubscriber = (
  deps: EraseDeps,
  input: { subscriberId: string },
  actor?: string,
) => Promise<unknown>;
type ByContact = (
  deps: EraseDeps,
  contact: { phone?: string; email?: string },
  actor?: string,
) => Promise<unknown>;

const flow = eraseFlow as unknown as { eraseSubscriber?: BySubscriber; eraseContact?: ByContact };

export const eraseAvailable = (): boolean =>
  typeof flow.eraseSubscriber === 'function' || typeof flow.eraseContact === 'function';

export async function eraseFromConsole(
  deps: EraseDeps,
  sub: { id: string; phone: string | null; email: string | null },
  actor: string,
): Promise<boolean> {
  if (flow.eraseSubscriber) {
    await flow.eraseSubscriber(deps, { subscriberId: sub.id }, actor);
    return true;
  }
  if (flow.eraseContact) {
    // Both contacts, so each gets its suppression entry.
    if (sub.phone) await flow.eraseContact(deps, { phone: sub.phone }, actor);
    if (sub.email) await flow.eraseContact(deps, { email: sub.email }, actor);
    return true;
  }
  return false;
}
