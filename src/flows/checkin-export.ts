// The check-in results export: one row per check-in sent, for analysis outside Steady, with no
// contact details and no reply text. The person is a keyed hash of their subscriber id under a
// purpose label of its own ('export:'), so an export's ids cannot be joined to the suppression
// list, rate-limit keys or any other hash Steady makes, nor turned back into a subscriber id
// without APP_SECRET. The same secret gives the same ids in every export; rotating APP_SECRET
// (its first key signs) changes them.
//
// Rows stream in batches from a server-side cursor inside one read-only REPEATABLE READ
// transaction: PostgreSQL sorts once, memory stays flat whatever the row count, and the whole
// export (and the row count audited) is one consistent snapshot. The caller's `write` applies
// backpressure: a slow reader holds the cursor, not our memory.
import type { Writable } from 'node:stream';
import type { Content } from '../content/types.ts';
import {
  csvHeader,
  EXPORT_FORMATS,
  formatCheckinRow,
  type CheckinExportRow,
  type ExportFormat,
} from '../core/export-format.ts';
import { Prisma, type Db } from '../db/client.ts';
import { keyedHash } from '../security/crypto.ts';

export interface CheckinExportFilters {
  format: ExportFormat;
  /** The enrollment's program key. */
  program: string | null;
  /** Check-ins sent at or after this time. */
  since: Date | null;
}

/** Bad input from a person (a CLI option, a query parameter); the message says what to give. */
export class ExportInputError extends Error {
  constructor(
    readonly code: 'invalid_format' | 'invalid_since' | 'unknown_program',
    message: string,
  ) {
    super(message);
    this.name = 'ExportInputError';
  }
}

const BATCH = 2000;
/** An export that takes longer is cut off (its transaction ends) rather than hold a snapshot. */
const MAX_EXPORT_MS = 2 * 3600_000;
export const OPT_OUT_WINDOW_HOURS = 48;

export function exportPseudonym(secret: string, subscriberId: string): string {
  return keyedHash(secret, 'export:' + subscriberId);
}

/** A date as YYYY-MM-DD (UTC midnight) or an ISO 8601 time with a zone (2026-05-01T09:00:00Z). */
export function parseSinceDate(value: string): Date {
  const day = /^\d{4}-\d{2}-\d{2}$/.test(value);
  const time = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/.test(
    value,
  );
  const d = day ? new Date(`${value}T00:00:00Z`) : time ? new Date(value) : null;
  // Date rolls 2026-02-30 over to March: a day that does not exist is refused, not moved.
  if (!d || Number.isNaN(d.getTime()) || (day && d.toISOString().slice(0, 10) !== value))
    throw new ExportInputError(
      'invalid_since',
      `since must be a date as YYYY-MM-DD (e.g. 2026-05-01) or an ISO 8601 time with a zone (2026-05-01T09:00:00Z), not "${value}"`,
    );
  return d;
}

/** Programs one can export: those in messages/ and those anyone was ever enrolled in. */
export async function exportablePrograms(
  db: Db,
  content: Pick<Content, 'programs'> | null,
): Promise<string[]> {
  const rows = await db.$queryRaw<{ program: string }[]>`SELECT DISTINCT program FROM enrollments`;
  return [
    ...new Set([...Object.keys(content?.programs ?? {}), ...rows.map((r) => r.program)]),
  ].sort();
}

/** Checks a person's filters; absent or empty program and since mean "all". */
export function checkExportFilters(
  input: { format?: string; program?: string; since?: string },
  programs: readonly string[],
): CheckinExportFilters {
  const format = input.format as ExportFormat;
  if (!EXPORT_FORMATS.includes(format))
    throw new ExportInputError(
      'invalid_format',
      input.format
        ? `Unknown format "${input.format}"; use one of: ${EXPORT_FORMATS.join(', ')}`
        : `Give a format: ${EXPORT_FORMATS.join(', ')}`,
    );
  const program = input.program?.trim() || null;
  if (program !== null && !programs.includes(program))
    throw new ExportInputError(
      'unknown_program',
      `Unknown program "${program}"; known: ${programs.join(', ') || '(none yet)'}`,
    );
  const since = input.since?.trim() ? parseSinceDate(input.since.trim()) : null;
  return { format, program, since };
}

/**
 * The check-in's experiment variant: the `variant` column of its message row where the messages
 * table has one (experiments add it), else NULL. Asked once per export, so the export works
 * before and after that migration without a code change.
 */
export async function variantColumn(db: Pick<Db, '$queryRaw'>): Promise<Prisma.Sql> {
  const [row] = await db.$queryRaw<{ present: boolean }[]>`
    SELECT EXISTS (
      SELECT 1 FROM information_schema.columns
      WHERE table_schema = current_schema() AND table_name = 'messages' AND column_name = 'variant'
    ) AS present`;
  return row?.present ? Prisma.sql`m.variant::text` : Prisma.sql`NULL::text`;
}

interface RawRow {
  subscriber_id: string;
  program: string;
  locale: string;
  variant: string | null;
  week: number;
  step: string;
  sent_at: Date;
  answered_at: Date | null;
  rating: number | null;
  opted_out_48h: boolean;
}

export interface ExportProgress {
  rows: number;
}

/**
 * Writes the export (CSV header first) through `write`, which may wait (backpressure) and may
 * throw to stop (the reader went away). Returns the number of rows written.
 */
export async function writeCheckinExport(
  deps: { db: Db; config: { appSecret: string } },
  filters: CheckinExportFilters,
  write: (chunk: string) => Promise<void>,
  onBatch: (p: ExportProgress) => void = () => {},
): Promise<number> {
  const variant = await variantColumn(deps.db);
  const where: Prisma.Sql[] = [];
  if (filters.program !== null) where.push(Prisma.sql`e.program = ${filters.program}`);
  if (filters.since !== null) where.push(Prisma.sql`c."openedAt" >= ${filters.since}`);
  const whereSql = where.length ? Prisma.sql`WHERE ${Prisma.join(where, ' AND ')}` : Prisma.empty;
  const window = Prisma.raw(`interval '${OPT_OUT_WINDOW_HOURS} hours'`);
  if (filters.format === 'csv') await write(csvHeader());
  return deps.db.$transaction(
    async (tx) => {
      // A check-in is sent when it opens (flows/deliver.ts: sending it opens it). An opt-out
      // counts on the enrollment's channel: leaving email says nothing about an SMS check-in.
      await tx.$executeRaw`SET TRANSACTION READ ONLY`;
      // Every row is read: plan for the whole result, not for the first tenth (the default
      // for cursors, which picks nested loops that are fast to start and slow to finish).
      await tx.$executeRaw`SET LOCAL cursor_tuple_fraction = 1.0`;
      await tx.$executeRaw`
        DECLARE checkin_export NO SCROLL CURSOR FOR
        SELECT e."subscriberId"::text AS subscriber_id, e.program, s.locale, ${variant} AS variant,
               c.week, c.step, c."openedAt" AS sent_at, c."answeredAt" AS answered_at, c.rating,
               EXISTS (
                 SELECT 1 FROM consent_events ce
                 WHERE ce."subscriberId" = e."subscriberId" AND ce.kind = 'opt_out'
                   AND ce.channel = e.channel
                   AND ce.at >= c."openedAt" AND ce.at <= c."openedAt" + ${window}
               ) AS opted_out_48h
        FROM checkins c
        JOIN enrollments e ON e.id = c."enrollmentId"
        JOIN subscribers s ON s.id = e."subscriberId"
        LEFT JOIN messages m ON m.id = c."messageId"
        ${whereSql}
        ORDER BY c."openedAt", c.id`;
      let rows = 0;
      for (;;) {
        const batch = await tx.$queryRawUnsafe<RawRow[]>(`FETCH ${BATCH} FROM checkin_export`);
        if (batch.length === 0) break;
        await write(batch.map((r) => formatCheckinRow(filters.format, toRow(deps, r))).join(''));
        rows += batch.length;
        onBatch({ rows });
        if (batch.length < BATCH) break;
      }
      return rows;
    },
    { isolationLevel: 'RepeatableRead', timeout: MAX_EXPORT_MS, maxWait: 10_000 },
  );
}

function toRow(deps: { config: { appSecret: string } }, r: RawRow): CheckinExportRow {
  return {
    subscriber: exportPseudonym(deps.config.appSecret, r.subscriber_id),
    program: r.program,
    locale: r.locale,
    variant: r.variant,
    week: r.week,
    step: r.step,
    sent_at: r.sent_at.toISOString(),
    answered_at: r.answered_at?.toISOString() ?? null,
    rating: r.rating,
    answered: r.answered_at !== null,
    opted_out_48h: r.opted_out_48h,
  };
}

/** Who exported what: the filters and the row count, never a row. One event per export. */
export async function auditCheckinExport(
  db: Db,
  event: {
    actor: string;
    /** `cli`, or the route pattern (GET /admin/api/export/checkins). */
    via: string;
    filters: CheckinExportFilters;
    rows: number;
    complete: boolean;
  },
): Promise<void> {
  await db.auditEvent.create({
    data: {
      actor: event.actor,
      action: 'checkins.export',
      target: event.via,
      detail: {
        format: event.filters.format,
        program: event.filters.program,
        since: event.filters.since?.toISOString() ?? null,
        rows: event.rows,
        complete: event.complete,
      },
    },
  });
}

/**
 * `write` for a Node stream: resolves at once while the stream takes more, waits for 'drain' when
 * its buffer is full, and fails once the stream errors or closes, so a reader that went away
 * (a closed pipe, a dropped download) ends the export and its transaction.
 */
export function writerFor(stream: Writable): (chunk: string) => Promise<void> {
  let failure: Error | null = null;
  stream.on('error', (err: Error) => void (failure ??= err));
  const gone = () => failure ?? new Error('the export was closed before it ended');
  return (chunk) =>
    new Promise((resolve, reject) => {
      if (failure || stream.destroyed || stream.writableEnded) return reject(gone());
      if (stream.write(chunk)) return resolve();
      const settle = (err?: Error) => {
        stream.off('drain', onDrain);
        stream.off('close', onClose);
        stream.off('error', settle);
        if (err) reject(err);
        else resolve();
      };
      const onDrain = () => settle();
      const onClose = () => settle(gone());
      stream.once('drain', onDrain);
      stream.once('close', onClose);
      stream.once('error', settle);
    });
}
