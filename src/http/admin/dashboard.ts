// The program dashboard: how many join, what happens to each step's messages, which message people
// leave after, how check-ins are answered, how often replies disclose danger, and what is queued.
// Charts are drawn on the server, each with its numbers beside it. Check-in results download
// from here as CSV (checkin-export.ts).
import type { FastifyInstance } from 'fastify';
import type { Deps } from '../../deps.ts';
import { exportablePrograms } from '../../flows/checkin-export.ts';
import { barChart, chartSection, dataTable, lineChart, type TableInput } from '../charts.ts';
import { consoleExportRoute, exportForm } from './checkin-export.ts';
import { consolePage, scrollingTable, sendPage } from './layout.ts';
import { sessionOf } from './session.ts';
import {
  checkinsByWeek,
  enrollmentsByDay,
  flagsByWeek,
  queueCounts,
  QUEUE_STATES,
  programFigures,
  stepOutcomes,
  type ProgramFigures,
  type StepOutcome,
} from './stats.ts';
import type { Program } from '../../content/types.ts';

const pct = (n: number, d: number) => (d ? `${Math.round((n / d) * 100)}%` : '–');
const short = (day: string) => day.slice(5); // MM-DD
/** A data table in a box that scrolls by itself (never the page, even at 320 px), named after its
 * caption; `tall` tables (a row per day or week) are capped in height too. */
const table = (t: TableInput, tall = false) => scrollingTable(t.caption, dataTable(t), tall);

function byWeek(steps: StepOutcome[]) {
  const weeks = [...new Set(steps.map((s) => s.week).filter((w): w is number => w !== null))].sort(
    (a, b) => a - b,
  );
  const sum = (w: number, k: 'sent' | 'delivered' | 'failed' | 'optOuts') =>
    steps.filter((s) => s.week === w).reduce((n, s) => n + s[k], 0);
  return {
    weeks,
    sent: weeks.map((w) => sum(w, 'sent')),
    delivered: weeks.map((w) => sum(w, 'delivered')),
    failed: weeks.map((w) => sum(w, 'failed')),
    optOuts: weeks.map((w) => sum(w, 'optOuts')),
  };
}

/** A program's own sections: its messages per week and per step, each titled with its name. */
function stepSections(program: Program, steps: StepOutcome[]): string[] {
  const named = `${program.name} (${program.key})`;
  const weekly = byWeek(steps);
  return [
    chartSection(
      `Program messages per week: ${named}`,
      barChart({
        id: `weekly-${program.key}`,
        title: `${named}: program messages sent, delivered and failed per program week, last 90 days`,
        labels: weekly.weeks.map((w) => `Week ${w}`),
        series: [
          { name: 'Sent', values: weekly.sent },
          { name: 'Delivered', values: weekly.delivered },
          { name: 'Failed', values: weekly.failed },
        ],
      }),
      table({
        caption: `${named}: per program week`,
        columns: ['Week', 'Sent', 'Delivered', 'Failed', 'Opt-outs'],
        rows: weekly.weeks.map((w, i) => [
          `Week ${w}`,
          weekly.sent[i] ?? 0,
          weekly.delivered[i] ?? 0,
          weekly.failed[i] ?? 0,
          weekly.optOuts[i] ?? 0,
        ]),
      }),
      'Email "delivered" is only known where the provider reports it.',
    ),
    chartSection(
      `Which message people leave after: ${named}`,
      barChart({
        id: `leave-${program.key}`,
        title: `${named}: opt-outs by the last program message the person received, last 90 days`,
        labels: steps.map((s) => s.step),
        series: [{ name: 'Opt-outs', values: steps.map((s) => s.optOuts) }],
      }),
      table(
        {
          caption: `${named}: per step`,
          columns: ['Step', 'Week', 'Sent', 'Delivered', 'Failed', 'Opt-outs', 'Opt-out rate'],
          rows: steps.map((s) => [
            s.step,
            s.week,
            s.sent,
            s.delivered,
            s.failed,
            s.optOuts,
            pct(s.optOuts, s.sent),
          ]),
        },
        true,
      ),
      'Each opt-out counts against the last program message sent to that person before they left.',
    ),
  ];
}

/** One row per live program: who is in it, what it sent, how its check-ins are answered. */
function programsSection(figures: ProgramFigures[]): string {
  return chartSection(
    'Programs',
    barChart({
      id: 'programs',
      title: 'People in each program by state',
      labels: figures.map((f) => `${f.name} (${f.program})`),
      series: [
        { name: 'Active', values: figures.map((f) => f.enrollments.active) },
        { name: 'Pending', values: figures.map((f) => f.enrollments.pending) },
        { name: 'Completed', values: figures.map((f) => f.enrollments.completed) },
        { name: 'Stopped', values: figures.map((f) => f.enrollments.stopped) },
      ],
      stacked: true,
    }),
    table({
      caption: 'Per program',
      columns: [
        'Program',
        'Active',
        'Paused or held',
        'Pending',
        'Completed',
        'Stopped',
        'Sent (90 days)',
        'Delivered',
        'Failed',
        'Check-in reply rate',
        'Mean rating',
      ],
      rows: figures.map((f) => [
        `${f.name} (${f.program})`,
        f.enrollments.active,
        f.enrollments.paused + f.enrollments.safety_hold,
        f.enrollments.pending,
        f.enrollments.completed,
        f.enrollments.stopped,
        f.sent,
        f.delivered,
        f.failed,
        pct(f.checkinsAnswered, f.checkinsAsked),
        f.meanRating,
      ]),
    }),
    'Each program runs side by side (PROGRAMS); one person may be in several, once each.',
  );
}

export async function dashboardRoutes(app: FastifyInstance, deps: Deps): Promise<void> {
  app.get('/dashboard', async (req, reply) => {
    const wall = new Date();
    const [enrolled, perProgram, figures, checkins, flags, queues, programs] = await Promise.all([
      enrollmentsByDay(deps, wall),
      Promise.all(
        deps.programs.all().map(async (program) => ({
          program,
          steps: await stepOutcomes(deps, wall, 90, program),
        })),
      ),
      programFigures(deps, wall, deps.clock.now()),
      checkinsByWeek(deps, deps.clock.now()),
      flagsByWeek(deps, wall),
      queueCounts(deps),
      exportablePrograms(deps.db, deps.content),
    ]);
    const sections = [
      programsSection(figures),
      chartSection(
        'Enrollments per day, by channel',
        barChart({
          id: 'enrol',
          title: 'Enrollments per day by channel, last 30 days',
          labels: enrolled.days.map(short),
          series: [
            { name: 'SMS', values: enrolled.sms },
            { name: 'Email', values: enrolled.email },
          ],
          stacked: true,
        }),
        table(
          {
            caption: 'Enrollments per day (UTC)',
            columns: ['Day', 'SMS', 'Email', 'Total'],
            rows: enrolled.days
              .map((d, i) => [
                d,
                enrolled.sms[i] ?? 0,
                enrolled.email[i] ?? 0,
                (enrolled.sms[i] ?? 0) + (enrolled.email[i] ?? 0),
              ])
              .reverse(),
          },
          true,
        ),
      ),
      ...perProgram.flatMap(({ program, steps }) => stepSections(program, steps)),
      chartSection(
        'Check-ins',
        lineChart({
          id: 'reply',
          title: 'Check-in reply rate per program week',
          labels: checkins.map((c) => `Week ${c.week}`),
          series: [{ name: 'Reply rate', values: checkins.map((c) => c.replyRate ?? NaN) }],
          percent: true,
          yMax: 1,
        }) +
          lineChart({
            id: 'rating',
            title: 'Mean check-in rating (1 to 5) per program week',
            labels: checkins.map((c) => `Week ${c.week}`),
            series: [{ name: 'Mean rating', values: checkins.map((c) => c.meanRating ?? NaN) }],
            yMax: 5,
          }),
        table({
          caption: 'Check-ins per program week (closed or answered)',
          columns: ['Week', 'Asked', 'Answered', 'Reply rate', 'Mean rating'],
          rows: checkins.map((c) => [
            `Week ${c.week}`,
            c.asked,
            c.answered,
            pct(c.answered, c.asked),
            c.meanRating,
          ]),
        }),
      ),
      chartSection(
        'Safety flags per week',
        barChart({
          id: 'flags',
          title: 'Safety flags per calendar week by category, last 12 weeks',
          labels: flags.weeks.map(short),
          series: [
            { name: 'Abuse or control', values: flags.abuse },
            { name: 'Self-harm', values: flags.self_harm },
          ],
          stacked: true,
        }),
        table(
          {
            caption: 'Flags per week (week starting, UTC)',
            columns: ['Week of', 'Abuse', 'Self-harm'],
            rows: flags.weeks
              .map((w, i) => [w, flags.abuse[i] ?? 0, flags.self_harm[i] ?? 0])
              .reverse(),
          },
          true,
        ),
      ),
      chartSection(
        'Queues now',
        barChart({
          id: 'queues',
          title: 'Jobs in each queue by state',
          labels: queues.map((q) => q.queue),
          series: QUEUE_STATES.map((st) => ({
            name: st,
            values: queues.map((q) => q.counts?.[st] ?? 0),
          })),
        }),
        table({
          caption: 'Jobs per queue',
          columns: ['Queue', ...QUEUE_STATES],
          rows: queues.map((q) => [
            q.queue,
            ...QUEUE_STATES.map((st) => (q.counts ? (q.counts[st] ?? 0) : null)),
          ]),
        }),
        'Details and retries: the Queues page.',
      ),
      exportForm(programs),
    ];
    const body = `<h1>Dashboard</h1><p class="muted">Figures as of ${wall.toISOString().slice(0, 16).replace('T', ' ')} UTC.</p>${sections.join('')}`;
    return sendPage(
      reply,
      consolePage(sessionOf(req), { title: 'Dashboard', tab: 'dashboard', body }),
    );
  });
  await consoleExportRoute(app, deps);
}
