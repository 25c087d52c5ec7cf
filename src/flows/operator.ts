// What an operator can do to one subscriber, from the JSON API, the console or the CLI. Each
// action is recorded as an audit event (and a consent event where it changes consent).
import type { Deps } from '../deps.ts';
import { resumeEnrollment } from './apply-actions.ts';
import { recordConsent, recordOptOut } from './consent.ts';

export type OperatorActionName = 'pause' | 'resume' | 'stop' | 'clear-hold';

export class OperatorActionError extends Error {
  constructor(
    public readonly status: number,
    public readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export async function operatorAction(
  deps: Pick<Deps, 'db' | 'clock'>,
  subscriberId: string,
  action: OperatorActionName,
  opts: { actor: string; note?: string },
): Promise<{ state: string }> {
  if (!/^[0-9a-f-]{36}$/.test(subscriberId))
    throw new OperatorActionError(404, 'not_found', 'No subscriber with that id');
  const now = deps.clock.now();
  return deps.db.$transaction(async (tx) => {
    const sub = await tx.subscriber.findUnique({
      where: { id: subscriberId },
      include: { enrollments: true },
    });
    if (!sub) throw new OperatorActionError(404, 'not_found', 'No subscriber with that id');
    const enrollment = sub.enrollments[0];
    const evidence = { source: 'operator', actor: opts.actor };
    switch (action) {
      case 'stop':
        await recordOptOut(tx, sub.id, enrollment?.channel ?? 'sms', evidence, now);
        break;
      case 'pause':
        if (!enrollment || enrollment.state !== 'active')
          throw new OperatorActionError(
            409,
            'not_active',
            `Enrollment is ${enrollment?.state ?? 'missing'}, not active`,
          );
        await tx.enrollment.update({
          where: { id: enrollment.id },
          data: { state: 'paused', pausedUntil: null },
        });
        await recordConsent(tx, sub.id, enrollment.channel, 'pause', evidence, now);
        break;
      case 'resume':
      case 'clear-hold':
        if (!enrollment || !['paused', 'safety_hold'].includes(enrollment.state))
          throw new OperatorActionError(
            409,
            'not_paused',
            `Enrollment is ${enrollment?.state ?? 'missing'}, not paused or on hold`,
          );
        if (action === 'clear-hold' && enrollment.state !== 'safety_hold')
          throw new OperatorActionError(409, 'not_on_hold', 'Enrollment is not on a safety hold');
        await resumeEnrollment(tx, enrollment.id, sub.timezone, now);
        if (action === 'clear-hold') {
          await tx.safetyFlag.updateMany({
            where: { subscriberId: sub.id, status: 'open' },
            data: { status: 'cleared', acknowledgedAt: now, note: opts.note ?? null },
          });
        }
        break;
    }
    await tx.auditEvent.create({
      data: {
        actor: opts.actor,
        action: `subscriber.${action}`,
        target: sub.id,
        detail: opts.note ? { note: opts.note } : {},
      },
    });
    const after = enrollment
      ? await tx.enrollment.findUnique({ where: { id: enrollment.id } })
      : null;
    return { state: after?.state ?? 'none' };
  });
}
