// A daily program summary for the log: counts only, nothing about any one person.
import type { Deps } from '../deps.ts';

export async function programSummary(
  deps: Pick<Deps, 'db' | 'clock'>,
): Promise<Record<string, number>> {
  const since = new Date(deps.clock.now().getTime() - 86400_000);
  const [enrollments, sent, failed, inbound, flags, optOuts] = await Promise.all([
    deps.db.enrollment.groupBy({ by: ['state'], _count: true }),
    deps.db.message.count({ where: { direction: 'out', sentAt: { gte: since } } }),
    deps.db.message.count({
      where: { direction: 'out', status: 'failed', updatedAt: { gte: since } },
    }),
    deps.db.message.count({ where: { direction: 'in', createdAt: { gte: since } } }),
    deps.db.safetyFlag.count({ where: { createdAt: { gte: since } } }),
    deps.db.consentEvent.count({ where: { kind: 'opt_out', at: { gte: since } } }),
  ]);
  const out: Record<string, number> = {
    sent24h: sent,
    failed24h: failed,
    inbound24h: inbound,
    safetyFlags24h: flags,
    optOuts24h: optOuts,
  };
  for (const e of enrollments) out[`enrollments_${e.state}`] = e._count;
  return out;
}
