// `erase --phone E164 | --email ADDR`: removes a person's data and queued jobs; prints what it removed.
import type { Config } from '../config.ts';
import { toE164 } from '../core/phone.ts';
import { normalizeEmail } from '../flows/enroll.ts';
import { eraseContact } from '../flows/erase.ts';
import { buildDeps, closeDeps } from '../main.ts';
import { parse, UsageError } from './args.ts';

const USAGE = 'erase --phone +12025550123 | --email name@example.com';

export async function eraseCommand(cfg: Config, args: string[]): Promise<number> {
  const { values } = parse(args, { phone: { type: 'string' }, email: { type: 'string' } }, USAGE);
  if (!values.phone === !values.email)
    throw new UsageError(`Give exactly one of --phone or --email.\nUsage: ${USAGE}`);
  let contact: { phone?: string; email?: string };
  if (values.phone) {
    // Any valid number can be erased, whatever the allowed countries are now.
    const phone = toE164(values.phone, cfg.defaultCountry);
    if (!phone)
      throw new UsageError('Not a phone number; use international format, e.g. +12025550123');
    contact = { phone };
  } else {
    const e = normalizeEmail(values.email!);
    if (!e) throw new UsageError('Not an email address');
    contact = { email: e };
  }
  const deps = await buildDeps(cfg);
  try {
    const r = await eraseContact(deps, contact);
    console.log(
      r.found
        ? `erased: ${r.subscribers} subscriber(s), ${r.messages} message(s), ${r.consents} consent event(s), ${r.flags} safety flag(s), ${r.outbox} outbox item(s), ${r.jobs} queued job(s)`
        : 'no data for that contact',
    );
    console.log(
      'kept: a suppression entry (a keyed hash, not the contact), so it is never messaged again',
    );
    return 0;
  } finally {
    await closeDeps(deps);
  }
}
