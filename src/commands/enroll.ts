// `enroll --phone E164 | --email ADDR [--program key] [--locale en|es] [--tz Zone] [--name First] [--confirm]`
import type { Config } from '../config.ts';
import { enroll } from '../flows/enroll.ts';
import { buildDeps, closeDeps } from '../main.ts';
import { parse, UsageError } from './args.ts';

const USAGE =
  'enroll --phone +12025550123 | --email name@example.com [--program steady] [--locale es] [--tz America/Chicago] [--name First] [--confirm]';

export async function enrollCommand(cfg: Config, args: string[]): Promise<number> {
  const { values } = parse(
    args,
    {
      phone: { type: 'string' },
      email: { type: 'string' },
      tz: { type: 'string' },
      name: { type: 'string' },
      program: { type: 'string' },
      locale: { type: 'string' },
      confirm: { type: 'boolean' },
    },
    USAGE,
  );
  if (!values.phone === !values.email)
    throw new UsageError(`Give exactly one of --phone or --email.\nUsage: ${USAGE}`);
  const deps = await buildDeps(cfg);
  try {
    const r = await enroll(deps, {
      phone: values.phone,
      email: values.email,
      timezone: values.tz,
      firstName: values.name,
      ...(values.program ? { program: values.program } : {}),
      ...(values.locale ? { locale: values.locale } : {}),
      confirm: Boolean(values.confirm),
      evidence: { source: 'cli', user: process.env.USER ?? 'unknown' },
    });
    const e = await deps.db.enrollment.findUniqueOrThrow({
      where: { id: r.enrollmentId },
      include: { subscriber: true },
    });
    console.log(
      [
        `${r.created ? 'enrolled' : 'already known'}: subscriber ${r.subscriberId} (${r.channel}, ${e.subscriber.timezone})`,
        `program ${e.program} (language ${e.subscriber.locale})`,
        `enrollment ${e.state}${e.nextStep ? `; next step ${e.nextStep} at ${e.nextRunAt?.toISOString()}` : ''}`,
        e.state === 'pending'
          ? `waiting for confirmation (${r.channel === 'sms' ? 'reply YES' : 'the link in the confirmation email'}); --confirm skips it`
          : '',
      ]
        .filter(Boolean)
        .join('\n'),
    );
    return 0;
  } finally {
    await closeDeps(deps);
  }
}
