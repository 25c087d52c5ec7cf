// The console's Erase button: the same flow as `erase` on the command line (src/flows/erase.ts),
// which follows the person from each contact point to every other one.
import { eraseContact, type EraseResult } from '../../flows/erase.ts';
import type { Deps } from '../../deps.ts';

type EraseDeps = Pick<Deps, 'db' | 'queues' | 'config' | 'log'>;

/** Erases the person behind a subscriber row; `notRemoved` lists queued work it could not remove. */
export async function eraseFromConsole(
  deps: EraseDeps,
  sub: { id: string; phone: string | null; email: string | null },
  actor: string,
): Promise<Pick<EraseResult, 'notRemoved'>> {
  const contact = sub.phone ? { phone: sub.phone } : sub.email ? { email: sub.email } : null;
  if (contact === null) return { notRemoved: [] };
  return eraseContact(deps, contact, actor);
}
