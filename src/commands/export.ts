// `export checkins --format csv|jsonl [--program P] [--since DATE] [--out FILE]`: one row per
// check-in sent, with a pseudonymous subscriber id and no contact details or reply text
// (flows/checkin-export.ts). Rows go to stdout, or to a new file (never over an existing one,
// owner-only); progress and the summary go to stderr, so `npm run --silent cli -- export ...
// > file.csv` holds only the export. Needs PostgreSQL only (not Redis). Audited like every export.
import { createWriteStream, type WriteStream } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Writable } from 'node:stream';
import type { Config } from '../config.ts';
import { loadContent } from '../content/load.ts';
import { createDb, type Db } from '../db/client.ts';
import {
  auditCheckinExport,
  checkExportFilters,
  exportablePrograms,
  ExportInputError,
  writeCheckinExport,
  writerFor,
  type CheckinExportFilters,
} from '../flows/checkin-export.ts';
import { MESSAGES_DIR } from '../paths.ts';
import { StartupError } from '../startup-error.ts';
import { parse, UsageError } from './args.ts';

const USAGE =
  'export checkins --format csv|jsonl [--program KEY] [--since YYYY-MM-DD|ISO-TIME] [--out FILE]';
const PROGRESS_EVERY_MS = 2000;

export async function exportCommand(cfg: Config, args: string[]): Promise<number> {
  const [what, ...rest] = args;
  if (what !== 'checkins')
    throw new UsageError(
      `${what ? `Unknown export "${what}"` : 'Say what to export'}; exports: checkins\nUsage: ${USAGE}`,
    );
  const { values, positionals } = parse(
    rest,
    {
      format: { type: 'string' },
      program: { type: 'string' },
      since: { type: 'string' },
      out: { type: 'string' },
    },
    USAGE,
  );
  if (positionals.length)
    throw new UsageError(`Unexpected argument "${positionals[0]}"\nUsage: ${USAGE}`);
  const filtersFrom = (input: typeof values, programs: readonly string[]) => {
    try {
      return checkExportFilters(input, programs);
    } catch (err) {
      if (err instanceof ExportInputError) throw new UsageError(`${err.message}\nUsage: ${USAGE}`);
      throw err;
    }
  };
  // Format and date first: a typo is reported without touching the database.
  filtersFrom({ ...values, program: undefined }, []);
  const db = createDb(cfg.databaseUrl, { max: 2 });
  try {
    await reachable(db, cfg.databaseUrl);
    const content = await loadContent(MESSAGES_DIR).catch(() => null);
    const filters = filtersFrom(values, await exportablePrograms(db, content));
    const out = values.out ? resolve(values.out) : null;
    const stream = out ? await newFile(out) : process.stdout;
    return await run(db, cfg, filters, stream, out);
  } finally {
    await db.$disconnect();
  }
}

async function run(
  db: Db,
  cfg: Config,
  filters: CheckinExportFilters,
  stream: Writable,
  out: string | null,
): Promise<number> {
  const started = performance.now();
  let lastReport = started;
  const progress = ({ rows }: { rows: number }) => {
    const now = performance.now();
    if (now - lastReport < PROGRESS_EVERY_MS) return;
    lastReport = now;
    process.stderr.write(
      `export: ${rows} check-ins so far (${Math.round(rows / ((now - started) / 1000))}/s)\n`,
    );
  };
  let rows = 0;
  try {
    rows = await writeCheckinExport({ db, config: cfg }, filters, writerFor(stream), progress);
    if (out) await finish(stream as WriteStream);
  } catch (err) {
    if (out) {
      stream.destroy();
      await unlink(out).catch(() => {});
    }
    await auditCheckinExport(db, {
      actor: 'cli',
      via: 'cli',
      filters,
      rows,
      complete: false,
    }).catch(() => {});
    throw err;
  }
  await auditCheckinExport(db, { actor: 'cli', via: 'cli', filters, rows, complete: true });
  const seconds = (performance.now() - started) / 1000;
  process.stderr.write(
    `export: wrote ${rows} check-in${rows === 1 ? '' : 's'} (${filters.format}) to ${out ?? 'stdout'} in ${seconds.toFixed(1)} s\n`,
  );
  return 0;
}

/** A new owner-only file: an existing one is never replaced (it may be someone's only copy). */
function newFile(path: string): Promise<WriteStream> {
  return new Promise((ok, fail) => {
    const s = createWriteStream(path, { flags: 'wx', mode: 0o600 });
    s.once('open', () => ok(s));
    s.once('error', (err: NodeJS.ErrnoException) =>
      fail(
        err.code === 'EEXIST'
          ? new UsageError(`${path} already exists; choose another --out or move it away`)
          : new UsageError(`Cannot write ${path}: ${err.message}`),
      ),
    );
  });
}

function finish(s: WriteStream): Promise<void> {
  return new Promise((ok, fail) => {
    s.once('error', fail);
    s.end(() => ok());
  });
}

async function reachable(db: Db, databaseUrl: string): Promise<void> {
  try {
    await db.$queryRaw`SELECT 1`;
  } catch (err) {
    const u = new URL(databaseUrl);
    const why = (err instanceof Error ? err.message : String(err)).split('\n').filter(Boolean);
    throw new StartupError(
      `PostgreSQL is not reachable at ${u.hostname}:${u.port || 5432} (${why.pop()?.trim() ?? 'no answer'}); start it and try again`,
    );
  }
}
