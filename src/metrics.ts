// A small in-process metrics registry, served in Prometheus text format at GET /metrics. Counters
// only live as long as the process; queue depths are read from Redis when scraped.

type Labels = Record<string, string>;

const counters = new Map<string, Map<string, number>>();
const help: Record<string, string> = {
  steady_messages_sent_total: 'Messages accepted by a provider, by channel and kind.',
  steady_send_failures_total: 'Sends that failed, by channel and error code.',
  steady_quiet_hours_deferrals_total:
    'Program messages held back at send time because they would land in quiet hours, by channel and kind.',
  steady_safety_flags_total: 'Inbound messages flagged as disclosing danger.',
  steady_safety_bands_total: 'Inbound messages by safety band (act, ask, none).',
  steady_safety_asks_total: 'Worrying replies answered with the discreet check-in (band ask).',
  steady_safety_reader_total: 'Calls to the second safety reader, by outcome.',
  steady_optout_queries_resolved_total:
    'Unclear opt-out replies settled, by resolution (opted_out, kept) and by whom (operator, deadline).',
  steady_signup_cap_hits_total: 'Sign-ups or confirmations refused by an abuse cap.',
  steady_inbound_total: 'Inbound messages recorded, by channel.',
  steady_webhook_rejected_total: 'Webhook requests rejected (bad signature, bad input).',
  steady_email_reports_total: 'Bounce and complaint reports received, by kind and outcome.',
  steady_redis_errors_total: 'Errors on a Redis connection (failed reconnects included), by code.',
  steady_reconcile_errors_total:
    'Send reconciliations the provider could not answer, by our error code.',
};

const key = (labels: Labels) =>
  Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, '_')}"`)
    .join(',');

export const metrics = {
  inc(name: string, labels: Labels = {}, by = 1): void {
    const series = counters.get(name) ?? new Map<string, number>();
    counters.set(name, series);
    const k = key(labels);
    series.set(k, (series.get(k) ?? 0) + by);
  },
  get(name: string, labels: Labels = {}): number {
    return counters.get(name)?.get(key(labels)) ?? 0;
  },
  render(gauges: { name: string; help: string; labels: Labels; value: number }[] = []): string {
    const lines: string[] = [];
    for (const [name, series] of counters) {
      lines.push(`# HELP ${name} ${help[name] ?? name}`, `# TYPE ${name} counter`);
      for (const [k, v] of series) lines.push(`${name}${k ? `{${k}}` : ''} ${v}`);
    }
    const seen = new Set<string>();
    for (const g of gauges) {
      if (!seen.has(g.name)) lines.push(`# HELP ${g.name} ${g.help}`, `# TYPE ${g.name} gauge`);
      seen.add(g.name);
      const k = key(g.labels);
      lines.push(`${g.name}${k ? `{${k}}` : ''} ${g.value}`);
    }
    return lines.join('\n') + '\n';
  },
};
