// Experiments: each step with variants, how each variant does (sends, reply rate to the next
// check-in, its rating, opt-outs within 48 hours) with 95% intervals and the probability that it
// is best, and a button to end a variant (its traffic goes to the others; audited). The figures
// and the rules for naming a winner are in src/flows/experiments.ts and src/core/experiment-stats.ts.
import type { FastifyInstance } from 'fastify';
import type { Deps } from '../../deps.ts';
import {
  endVariant,
  experimentsReport,
  type ExperimentsReport,
  type OutcomeVerdict,
  type RateOutcome,
  type RatingOutcome,
  type StepReport,
  type VariantReport,
} from '../../flows/experiments.ts';
import { esc } from '../html.ts';
import {
  backTo,
  backWithError,
  consolePage,
  csrfField,
  scrollingTable,
  sendPage,
  when,
} from './layout.ts';
import { sessionOf, type ConsoleSession } from './session.ts';

const PATH = '/admin/experiments';

// Only these notes are shown (a crafted link cannot put words on the page).
const DONE: Record<string, string> = {
  'variant-ended': 'Variant ended: new assignments go to the step’s other variants.',
};
const FAILED: Record<string, string> = {
  unknown_program: 'No such program.',
  unknown_variant: 'That step has no such variant (the content may have changed).',
  already_ended: 'That variant had already ended (another operator may have ended it).',
  last_variant: 'That is the last variant running for the step: a step keeps at least one.',
  bad_request: 'The form was incomplete. Reload the page and try again.',
};

const pct = (v: number | null): string => (v === null ? '–' : `${(v * 100).toFixed(1)}%`);

function rateCell(o: RateOutcome): string {
  if (o.n === 0) return '<td class="num">–</td>';
  const i = o.interval
    ? ` <span class="muted">(${pct(o.interval.low)} to ${pct(o.interval.high)})</span>`
    : '';
  return `<td class="num">${pct(o.rate)}${i}<br><span class="muted">${o.count} of ${o.n}</span></td>`;
}

function ratingCell(o: RatingOutcome): string {
  if (o.n === 0 || o.mean === null) return '<td class="num">–</td>';
  const i = o.interval
    ? ` <span class="muted">(${o.interval.low.toFixed(2)} to ${o.interval.high.toFixed(2)})</span>`
    : '';
  return `<td class="num">${o.mean.toFixed(2)}${i}<br><span class="muted">n ${o.n}</span></td>`;
}

const bestCell = (p: number | null): string => `<td class="num">${p === null ? '–' : pct(p)}</td>`;

function verdict(label: string, v: OutcomeVerdict): string {
  if (v.status === 'not enough data') return `${label}: not enough data`;
  return v.winner
    ? `${label}: <strong>winner ${esc(v.winner)}</strong>`
    : `${label}: no winner yet`;
}

function endForm(s: ConsoleSession, step: StepReport, v: VariantReport, live: number): string {
  if (v.ended) return `ended ${when(new Date(v.ended.at))} by ${esc(v.ended.by)}`;
  if (live <= 1) return 'running (the last one)';
  return `<form method="post" action="${PATH}/end">${csrfField(s)}
<input type="hidden" name="program" value="${esc(step.program)}"><input type="hidden" name="step" value="${esc(step.step)}"><input type="hidden" name="variant" value="${esc(v.name)}">
<button class="danger" aria-label="End variant ${esc(v.name)} of ${esc(step.step)}">End variant</button></form>`;
}

function stepSection(s: ConsoleSession, step: StepReport): string {
  const live = step.variants.filter((v) => !v.ended).length;
  const rows = step.variants
    .map(
      (v) =>
        `<tr><th scope="row">${esc(v.name)}</th><td class="num">${v.weight === null ? '–' : esc(String(v.weight))}</td><td class="num">${v.n}</td>` +
        `${rateCell(v.replyRate)}${bestCell(v.replyRate.pBest)}${ratingCell(v.rating)}${bestCell(v.rating.pBest)}` +
        `${rateCell(v.optOut)}${bestCell(v.optOut.pBest)}<td>${endForm(s, step, v, live)}</td></tr>`,
    )
    .join('');
  const id = `x-${step.program}-${step.step}`.replace(/[^A-Za-z0-9_-]/g, '_');
  const table = `<table><thead><tr><th scope="col">Variant</th><th scope="col" class="num">Weight</th><th scope="col" class="num">Sends</th><th scope="col" class="num">Replied to next check-in (95%)</th><th scope="col" class="num">P(best)</th><th scope="col" class="num">Mean rating (95%)</th><th scope="col" class="num">P(best)</th><th scope="col" class="num">Opted out in 48 h (95%)</th><th scope="col" class="num">P(best, lowest)</th><th scope="col">State</th></tr></thead><tbody>${rows}</tbody></table>`;
  return `<section aria-labelledby="${esc(id)}"><h2 id="${esc(id)}">${esc(step.program)} · ${esc(step.step)}</h2>
${scrollingTable(`Variants of ${step.step}`, table)}
<p class="meta"><span>${verdict('Reply rate', step.replyRate)}</span><span>${verdict('Rating', step.rating)}</span><span>${verdict('Opt-outs', step.optOut)}</span></p></section>`;
}

export function experimentsBody(s: ConsoleSession, r: ExperimentsReport): string {
  const intro = `<h1>Experiments</h1>
<p class="muted">Steps with variants. Each person gets one variant per step, fixed when the step is scheduled. Reply rate: answered the next check-in within its window; rating: that check-in's 1-5 answer; opt-out: stopped within ${r.optOutWindowHours} hours of the send. Intervals are 95% (Wilson for rates, t for ratings). P(best) is the chance each variant is truly best (Beta posteriors with a uniform prior, ${r.draws.toLocaleString('en-US')} seeded draws, for rates; a normal approximation for ratings), shown once every variant has ${r.minNPerVariant} outcomes; a winner is named only above ${Math.round(r.winnerProbability * 100)}%. Ending a variant sends its future traffic to the others; people already assigned keep theirs.</p>`;
  if (r.experiments.length === 0) return `${intro}<p role="status">No step has variants.</p>`;
  return intro + r.experiments.map((step) => stepSection(s, step)).join('');
}

export async function experimentRoutes(app: FastifyInstance, deps: Deps): Promise<void> {
  app.get('/experiments', async (req, reply) => {
    const s = sessionOf(req);
    const report = await experimentsReport(deps);
    const { done, failed } = (req.query ?? {}) as { done?: string; failed?: string };
    return sendPage(
      reply,
      consolePage(s, {
        title: 'Experiments',
        tab: 'experiments',
        body: experimentsBody(s, report),
        notice: DONE[String(done ?? '')],
        error: failed === undefined ? undefined : (FAILED[failed] ?? 'That did not work.'),
      }),
    );
  });

  app.post('/experiments/end', async (req, reply) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const field = (k: string) => (typeof body[k] === 'string' ? (body[k] as string) : '');
    const [program, step, variant] = [field('program'), field('step'), field('variant')];
    if (!program || !step || !variant) return backWithError(reply, PATH, 'bad_request');
    const r = await endVariant(deps, {
      program,
      step,
      variant,
      actor: sessionOf(req).actor,
      via: 'console',
    });
    if (!r.ok) return backWithError(reply, PATH, r.code);
    return backTo(reply, PATH, 'variant-ended');
  });
}
