// `erase --phone E164 | --email ADDR`: removes a person's data (every contact point of theirs)
// and queued jobs; prints what it removed. Exits 1, naming them, when some jobs could not be removed.
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
        ? `erased: ${r.subscribers} subscriber(s), ${r.contacts} contact point(s), ${r.messages} message(s), ${r.consents} consent event(s), ${r.flags} safety flag(s), ${r.outbox} outbox item(s), ${r.jobs} queued job(s); ${r.audit} audit event(s) now name only a keyed hash`
        : 'no data for that contact',
    );
    console.log(
      `kept: a suppression entry for each of the ${r.contacts} contact point(s) (a keyed hash, not the contact), so they are never messaged again`,
    );
    if (r.notRemoved.length === 0) return 0;
    process.stderr.write(
      [
        `erase: could not remove ${r.notRemoved.length} queued job(s):`,
        ...r.notRemoved.map((n) => `  ${n}`),
        'Everything else is erased, including the messages these jobs point at, so they find',
        'nothing to send. Check the jobs have gone (they carry only a message id) once their',
        'worker has finished, or once Redis answers, and remove any left by hand.',
      ].join('\n') + '\n',
    );
    return 1;
  } finally {
    await closeDeps(deps);
  }
}
