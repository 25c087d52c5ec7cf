// The check-in results export as text: one row per check-in, a CSV header row or JSONL objects
// with the same keys. Pure, so the format can be tested cell by cell; the query and the streaming
// are in flows/checkin-export.ts.
//
// CSV follows RFC 4180 (CRLF line ends; a field holding a comma, a quote or a line break is
// quoted, its quotes doubled). No free text is exported, but a string cell that a spreadsheet
// would read as a formula (starting with = + - @, or a tab or carriage return) gets a leading
// single quote anyway: program keys and experiment variants are typed by people.

export const EXPORT_FORMATS = ['csv', 'jsonl'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** The columns, in order: the CSV header and the JSONL keys. */
export const CHECKIN_COLUMNS = [
  'subscriber',
  'program',
  'locale',
  'variant',
  'week',
  'step',
  'sent_at',
  'answered_at',
  'rating',
  'answered',
  'opted_out_48h',
] as const;

export interface CheckinExportRow {
  /** A keyed hash of the subscriber id, for this export's purpose only. */
  subscriber: string;
  program: string;
  locale: string;
  variant: string | null;
  week: number;
  step: string;
  /** ISO 8601, UTC. */
  sent_at: string;
  answered_at: string | null;
  rating: number | null;
  answered: boolean;
  opted_out_48h: boolean;
}

const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;

/** One CSV field: empty for null, true/false for booleans, a string defused and quoted as needed. */
export function csvCell(value: string | number | boolean | null): string {
  if (value === null) return '';
  if (typeof value !== 'string') return String(value);
  const safe = FORMULA_START.test(value) ? `'${value}` : value;
  return NEEDS_QUOTES.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

export function csvHeader(): string {
  return CHECKIN_COLUMNS.join(',') + '\r\n';
}

/** One row as a line of the chosen format, line end included. */
export function formatCheckinRow(format: ExportFormat, row: CheckinExportRow): string {
  if (format === 'jsonl') {
    const ordered = Object.fromEntries(CHECKIN_COLUMNS.map((c) => [c, row[c]]));
    return JSON.stringify(ordered) + '\n';
  }
  return CHECKIN_COLUMNS.map((c) => csvCell(row[c])).join(',') + '\r\n';
}
