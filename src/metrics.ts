// Steady's metrics, in prom-client behind a small interface: `metrics.inc(name, labels)` counts,
// `metrics.observe(name, value, labels)` records a duration in a histogram, `metrics.get` reads a
// count back (tests), `metrics.render()` is the Prometheus text of everything this process holds.
// Each metric is created on first use, with its help text and buckets from the tables below; every
// role serves them on METRICS_PORT (src/metrics-server.ts), the web role on its public listener
// only when METRICS_PUBLIC=1 and behind METRICS_TOKEN. Gauges read from Redis and PostgreSQL
// (queue depth, the oldest due enrollment) are collected when scraped, by metrics-server.ts.
//
// A metric never breaks the work it measures: a label set that does not match the metric's first
// use is dropped (and still counted for `get`), never thrown.
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

type Labels = Record<string, string>;

/** This process's registry: counters, histograms and Node's default process metrics. */
export const registry = new Registry();

const help: Record<string, string> = {
  steady_messages_sent_total: 'Messages accepted by a provider, by channel and kind.',
  steady_sends_total:
    'Send attempts by channel, kind and outcome (sent, failed, retry, unknown, opted_out, suppressed, deferred).',
  steady_send_failures_total: 'Sends that failed for good, by channel and error code.',
  steady_provider_errors_total:
    "Provider calls that failed, by channel, our error code and the provider's own code.",
  steady_quiet_hours_deferrals_total:
    'Program messages held back at send time because they would land in quiet hours, by channel and kind.',
  steady_safety_flags_total:
    'Safety flags raised on inbound messages, by category and band (act: safety message sent; ask: discreet check-in).',
  steady_safety_bands_total: 'Inbound messages by safety band (act, ask, none).',
  steady_safety_asks_total: 'Worrying replies answered with the discreet check-in (band ask).',
  steady_safety_reader_total: 'Calls to the second safety reader, by outcome.',
  steady_optouts_total: 'People who opted out (newly stopped), by channel and source.',
  steady_optout_queries_need_operator_total:
    'Opt-out questions past their deadline that wait for an operator (open safety flag or hold), per hourly pass.',
  steady_optout_queries_resolved_total:
    'Unclear opt-out replies settled, by resolution (opted_out, kept) and by whom (operator, deadline).',
  steady_signup_cap_hits_total:
    'Sign-ups or confirmations refused by an abuse cap (pending_per_hour: new SMS numbers; email_pending_per_hour, email_ip, email_address: the web form).',
  steady_replies_limited_total:
    'Answers not sent because the number or person already got their share (template=help: HELP_LIMITS).',
  steady_inbound_total: 'Inbound messages recorded, by channel.',
  steady_webhook_rejected_total: 'Webhook requests rejected (bad signature, bad input).',
  steady_email_reports_total: 'Bounce and complaint reports received, by kind and outcome.',
  steady_redis_errors_total: 'Errors on a Redis connection (failed reconnects included), by code.',
  steady_reconcile_errors_total:
    'Send reconciliations the provider could not answer, by our error code.',
  steady_admin_auth_limited_total: 'Admin sign-in attempts refused by the guess limit, by surface.',
  steady_admin_auth_pressure_total:
    'Admin sign-in failures while the guess limit is under pressure, by surface.',
  steady_scheduler_claims_total:
    'Enrollments claimed by the scheduler, by result (queued, deferred, completed).',
  steady_metrics_auth_failures_total:
    'Requests to the public /metrics (METRICS_PUBLIC=1) without the right bearer token.',
  steady_operator_messages_total:
    "Operators' one-off messages (console or admin API), by channel and outcome (queued, held: waits for the person's quiet hours to end, refused).",
  steady_webhook_deliveries_total:
    'Event webhook delivery attempts by outcome (delivered, retry, dead, failed: the failure that disabled its endpoint).',
  steady_webhook_endpoints_disabled_total:
    'Event webhook endpoints disabled after a day of continuous failures.',
  steady_webhook_shed_total:
    'Event webhook deliveries put off because the send queues were backlogged (WEBHOOKS_SHED_BACKLOG).',
  steady_metrics_collect_errors_total:
    'Scrape-time gauges that could not be read in time (Redis or PostgreSQL slow or down), by source.',
};

// Seconds. Lateness spans a quick send (tens of ms) to a backlog or an outage (hours).
const LATENESS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 14400];
const QUICK = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

const histograms: Record<string, { help: string; buckets: number[] }> = {
  steady_send_lateness_seconds: {
    help: 'From when a message was due (its dueAt, or when it was created) to the start of the provider call, by channel and kind.',
    buckets: LATENESS,
  },
  steady_safety_latency_seconds: {
    help: 'From an inbound message being recorded (webhook or SMTP) to the start of the provider call for its safety message, by channel.',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
  },
  steady_provider_call_seconds: {
    help: 'Duration of one provider call (Twilio API request, SMTP transaction), by channel and outcome (ok, error).',
    buckets: QUICK,
  },
  steady_webhook_delivery_seconds: {
    help: 'Duration of one event webhook delivery attempt (the HTTP POST, with DNS and the SSRF check).',
    buckets: QUICK,
  },
  steady_claim_tick_seconds: {
    help: "Duration of one scheduler tick's claim (claim due enrollments, write their messages, queue them).",
    buckets: QUICK,
  },
};

/** Every counter and histogram Steady defines (the dashboard's test checks its queries by it). */
export const METRIC_NAMES: readonly string[] = [...Object.keys(help), ...Object.keys(histograms)];

const counters = new Map<string, Counter>();
const histos = new Map<string, Histogram>();
const values = new Map<string, Map<string, number>>();

/** A series' key for get(): label names in order, each with its value (on the send path: cheap). */
function key(labels: Labels): string {
  const names = Object.keys(labels);
  if (names.length > 1) names.sort();
  let k = '';
  for (const n of names) k += `${n}\u0000${labels[n]}\u0001`;
  return k;
}

function counter(name: string, labels: Labels): Counter {
  let c = counters.get(name);
  if (!c) {
    c = new Counter({
      name,
      help: help[name] ?? name.replace(/_/g, ' '),
      labelNames: Object.keys(labels).sort(),
      registers: [registry],
    });
    counters.set(name, c);
  }
  return c;
}

function histogram(name: string, labels: Labels): Histogram {
  let h = histos.get(name);
  if (!h) {
    const spec = histograms[name];
    h = new Histogram({
      name,
      help: spec?.help ?? name.replace(/_/g, ' '),
      labelNames: Object.keys(labels).sort(),
      buckets: spec?.buckets ?? QUICK,
      registers: [registry],
    });
    histos.set(name, h);
  }
  return h;
}

let defaults = false;
/** Node's default process metrics (CPU, memory, event loop lag, GC, handles), without a prefix so
 * stock Node.js dashboards work. Started by the first metrics server or scrape, not on import, so
 * one-shot commands never start them. */
export function collectProcessMetrics(): void {
  if (defaults) return;
  defaults = true;
  collectDefaultMetrics({ register: registry });
}

export const metrics = {
  inc(name: string, labels: Labels = {}, by = 1): void {
    const series = values.get(name) ?? new Map<string, number>();
    values.set(name, series);
    const k = key(labels);
    series.set(k, (series.get(k) ?? 0) + by);
    try {
      counter(name, labels).inc(labels, by);
    } catch {
      /* a label set unlike the metric's first use: counted for get() only */
    }
  },
  get(name: string, labels: Labels = {}): number {
    return values.get(name)?.get(key(labels)) ?? 0;
  },
  /** Records one observation in a histogram (seconds for the *_seconds ones). */
  observe(name: string, value: number, labels: Labels = {}): void {
    if (!Number.isFinite(value)) return;
    try {
      histogram(name, labels).observe(labels, value);
    } catch {
      /* as in inc() */
    }
  },
  /** Everything this process holds, in Prometheus text format. */
  render(): Promise<string> {
    return registry.metrics();
  },
  contentType: registry.contentType,
};
