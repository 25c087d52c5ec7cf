// The check-in results export over HTTP (flows/checkin-export.ts): the console's download (a
// signed-in operator, from the dashboard) and the admin API's (bearer ADMIN_TOKEN). The rows
// stream as they are read, as an attachment. Each export leaves one audit event naming the
// operator, the route, the filters and the row count; it is written before the download ends,
// so a download that completed has always been audited. A reader that goes away mid-download
// stops the query and is audited as incomplete.
import { PassThrough } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ExportFormat } from '../../core/export-format.ts';
import type { Deps } from '../../deps.ts';
import {
  auditCheckinExport,
  checkExportFilters,
  exportablePrograms,
  ExportInputError,
  writeCheckinExport,
  writerFor,
  type CheckinExportFilters,
} from '../../flows/checkin-export.ts';
import { esc } from '../html.ts';
import { consolePage, sendPage } from './layout.ts';
import { routeOf } from './read-audit.ts';
import { sessionOf } from './session.ts';

export const CONSOLE_EXPORT_PATH = '/admin/export/checkins';

export const EXPORT_MEDIA_TYPES: Record<ExportFormat, string> = {
  csv: 'text/csv',
  jsonl: 'application/x-ndjson',
};

export interface ExportQuery {
  format?: string;
  program?: string;
  since?: string;
}

/** The filters a request asks for, or the refusal to give (400, naming what to correct). */
export async function exportFiltersOf(
  deps: Pick<Deps, 'db' | 'content'>,
  q: ExportQuery,
): Promise<{ ok: true; filters: CheckinExportFilters } | { ok: false; error: ExportInputError }> {
  try {
    const programs = q.program?.trim() ? await exportablePrograms(deps.db, deps.content) : [];
    return { ok: true, filters: checkExportFilters(q, programs) };
  } catch (err) {
    if (err instanceof ExportInputError) return { ok: false, error: err };
    throw err;
  }
}

/** steady-checkins[-program][-since-2026-05-01].csv, in characters safe in any header. */
export function exportFileName(f: CheckinExportFilters): string {
  const parts = ['steady-checkins'];
  if (f.program) parts.push(f.program.replace(/[^A-Za-z0-9._-]+/g, '_'));
  if (f.since) parts.push(`since-${f.since.toISOString().slice(0, 10)}`);
  return `${parts.join('-')}.${f.format}`;
}

/** Answers with the export as a streamed attachment; audits it when it ends. */
export function sendCheckinExport(
  deps: Pick<Deps, 'db' | 'config' | 'log'>,
  req: FastifyRequest,
  reply: FastifyReply,
  actor: string,
  filters: CheckinExportFilters,
) {
  const body = new PassThrough();
  const via = routeOf(req);
  let rows = 0;
  const audit = (complete: boolean) =>
    auditCheckinExport(deps.db, { actor, via, filters, rows, complete });
  writeCheckinExport(deps, filters, writerFor(body), (p) => (rows = p.rows)).then(
    async (n) => {
      rows = n;
      await audit(true);
      body.end();
    },
    async (err: unknown) => {
      body.destroy(err instanceof Error ? err : new Error(String(err)));
      // Never the rows themselves: the count, the filters and why.
      deps.log.warn({ err: (err as Error)?.message, rows, via }, 'check-in export stopped');
      await audit(false).catch(() => {});
    },
  );
  return reply
    .code(200)
    .header('Content-Type', `${EXPORT_MEDIA_TYPES[filters.format]}; charset=utf-8`)
    .header('Content-Disposition', `attachment; filename="${exportFileName(filters)}"`)
    .header('Cache-Control', 'no-store')
    .send(body);
}

/** The console's download: GET, so the dashboard's form is a plain link with filters. CSV unless
 * ?format=jsonl. Behind the console's sign-in (registered inside the guarded plugin). */
export async function consoleExportRoute(app: FastifyInstance, deps: Deps): Promise<void> {
  app.get(CONSOLE_EXPORT_PATH.slice('/admin'.length), async (req, reply) => {
    const s = sessionOf(req);
    const q = (req.query ?? {}) as Record<string, unknown>;
    const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
    const asked = await exportFiltersOf(deps, {
      format: str(q.format) ?? 'csv',
      program: str(q.program),
      since: str(q.since),
    });
    if (!asked.ok)
      return sendPage(
        reply,
        consolePage(s, {
          title: 'Export',
          tab: 'dashboard',
          error: asked.error.message,
          body: `<h1>Check-in export</h1><p><a href="/admin/dashboard#export">Back to the dashboard</a> to choose again.</p>`,
        }),
        400,
      );
    return sendCheckinExport(deps, req, reply, s.actor, asked.filters);
  });
}

/** The dashboard's download form: a program (or all) and a first day, both optional. */
export function exportForm(programs: readonly string[]): string {
  const options = programs.map((p) => `<option value="${esc(p)}">${esc(p)}</option>`).join('');
  return `<section class="card" id="export" aria-labelledby="export-h"><h2 id="export-h" style="font-size:1.15rem;margin-top:0">Check-in results</h2>
<p class="muted">One row per check-in sent: a pseudonymous id (never the phone number or address), program, locale, variant, week, step, when it was sent and answered, the rating, and whether the person opted out within 48 hours. No replies. Each download is recorded in the audit log.</p>
<form method="get" action="${CONSOLE_EXPORT_PATH}" class="actions">
<div><label for="export-program">Program</label><select id="export-program" name="program"><option value="">All programs</option>${options}</select></div>
<div><label for="export-since">Sent on or after (UTC, optional)</label><input id="export-since" name="since" type="date"></div>
<button type="submit">Download check-ins (CSV)</button>
</form></section>`;
}
