// The benchmark's printed table: each figure beside its target, then the claim query's plans.
import type { BenchReport } from './run.ts';

const num = (v: number | null | undefined, digits = 0) =>
  v === null || v === undefined || !Number.isFinite(v)
    ? '-'
    : v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const mb = (bytes: number | null | undefined) =>
  bytes === null || bytes === undefined ? '-' : `${num(bytes / 1e6, 1)} MB`;
const check = (ok: boolean | null) => (ok === null ? '' : ok ? 'ok' : 'MISSED');

export function formatReport(r: BenchReport): string {
  const { summary: s, ceiling, steady, scale, limit } = r;
  const rows: [string, string, string, string][] = [];
  const add = (part: string, what: string, value: string, target = '') =>
    rows.push([part, what, value, target]);
  // The steady and scale parts run one program's steps: name it beside their figures.
  add('program', 'enrolled into (PROGRAM)', r.program);
  if (ceiling) {
    add('ceiling', 'messages/s (bare pipeline)', num(ceiling.perS), '');
    add('', 'CPU s / 1000 msgs (pipeline process)', num(ceiling.cpuSPer1000, 3));
    if (ceiling.services)
      add(
        '',
        '  PostgreSQL / Redis (shared)',
        `${num(ceiling.services.postgresCpuSPer1000, 3)} / ${num(ceiling.services.redisCpuSPer1000, 3)}`,
      );
    add('', '  fake provider', num(ceiling.fakeCpuSPer1000, 3));
    add(
      '',
      'peak RSS / peak Redis',
      `${num(ceiling.rssPeakMb)} MB / ${mb(ceiling.redisPeakBytes)}`,
    );
    add(
      '',
      'provider received / duplicates',
      `${num(ceiling.providerReceived)} / ${ceiling.duplicates}`,
    );
  }
  if (steady) {
    add('steady', 'messages/s', num(steady.perS), '');
    if (s.ratio !== null)
      add(
        '',
        'ratio steady / ceiling',
        num(s.ratio, 2),
        `>= 0.5 (aim 0.8) ${check(s.ratio >= 0.5)}`,
      );
    add(
      '',
      'lateness p50 / p99 (due -> provider)',
      `${num(steady.latenessP50Ms)} / ${num(steady.latenessP99Ms)} ms`,
      'all due at once: a drain time',
    );
    add('', 'CPU s / 1000 msgs: Steady process', num(steady.steady.cpuSPer1000, 3));
    if (steady.services)
      add(
        '',
        '  PostgreSQL / Redis (shared)',
        `${num(steady.services.postgresCpuSPer1000, 3)} / ${num(steady.services.redisCpuSPer1000, 3)}`,
      );
    if (steady.fake) add('', '  fake provider', num(steady.fake.cpuSPer1000, 3));
    add(
      '',
      'peak RSS: Steady / fake provider',
      `${num(steady.steady.rssPeakMb)} MB / ${num(steady.fake?.rssPeakMb)} MB`,
    );
    add(
      '',
      'peak Redis used_memory (before: ' + mb(steady.redisBaselineBytes) + ')',
      mb(steady.redisPeakBytes),
    );
    add(
      '',
      'sent / provider received / duplicates',
      `${num(steady.sent)} / ${num(steady.providerReceived)} / ${steady.duplicates}`,
      check(steady.duplicates === 0),
    );
    add('', 'seeding rows/s (set-based INSERT)', num(steady.seedRowsPerS));
    if (steady.safety) {
      const sf = steady.safety;
      add(
        'safety',
        `reply -> safety message p50 / p99 (${sf.answered}/${sf.replies})`,
        `${num(sf.p50Ms)} / ${num(sf.p99Ms)} ms`,
        `p99 <= 1000 ms ${check(sf.p99Ms !== null && sf.p99Ms <= 1000)}`,
      );
      add('', 'slowest', `${num(sf.maxMs)} ms`);
      add(
        '',
        '  p50 stages: reply read / safety sent',
        `${num(sf.stages.readP50Ms)} / ${num(sf.stages.sendP50Ms)} ms`,
      );
      if (sf.failures.length) add('', 'webhook failures', sf.failures.slice(0, 3).join('; '));
    }
  }
  if (scale) {
    const [a, b] = [scale.steps[0], scale.steps[scale.steps.length - 1]];
    for (const st of scale.steps) {
      add(
        st === a ? 'scale' : '',
        `${num(st.enrolled)} enrolled, ${num(st.due)} due: tick (batch ${scale.batch})`,
        `${num(st.tickMs, 1)} ms`,
        '',
      );
      add(
        '',
        '  empty tick / seeding',
        `${num(st.emptyTickMs, 1)} ms / ${num(st.seedSeconds, 1)} s (${num(st.seedRowsPerS)} rows/s)`,
      );
      add(
        '',
        '  Redis idle / 1% queued',
        `${mb(st.redisIdleBytes)} / ${mb(st.redisQueuedBytes)}`,
        st.enrolled >= 1_000_000 ? `< 50 MB ${check(st.redisQueuedBytes < 50e6)}` : '',
      );
      add(
        '',
        '  bench keys idle / 1% queued',
        `${mb(st.prefixIdleBytes)} / ${mb(st.prefixQueuedBytes)}`,
      );
    }
    if (a && b && a !== b)
      add(
        '',
        'tick ratio largest / smallest',
        num(b.tickMs / a.tickMs, 2),
        `<= 1.5 ${check(b.tickMs / a.tickMs <= 1.5)}`,
      );
  }
  if (limit) {
    const off = limit.achieved / limit.target - 1;
    add(
      'limit',
      `achieved rate over ${limit.seconds} s`,
      `${num(limit.achieved, 1)}/s of ${limit.target}/s`,
      `+-5% ${check(Math.abs(off) <= 0.05)}`,
    );
    add('', 'busiest 1 s / 100 ms', `${limit.busiestSecond} / ${limit.busiest100ms}`);
  }
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((row) => row[i]!.length), 4));
  const lines = [`Steady benchmark: n = ${num(s.n)}, ${num(r.seconds)} s`, ''];
  for (const row of rows)
    lines.push(
      row
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    );
  for (const st of scale?.steps ?? [])
    lines.push(
      '',
      `Claim query at ${num(st.enrolled)} enrolled (EXPLAIN ANALYZE, BUFFERS):`,
      st.explain,
    );
  if (steady?.problems.length)
    lines.push('', 'Warnings and errors the service logged:', ...steady.problems.slice(0, 10));
  return lines.join('\n');
}
