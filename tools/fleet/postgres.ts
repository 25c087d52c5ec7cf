// A private PostgreSQL cluster on the data host: initdb into the run's temp folder, started with
// pg_ctl inside the data host's namespace, listening on its address only, trusting the fleet's
// subnet. PostgreSQL refuses root, so it runs as `postgres` (or `nobody`), through setpriv (which
// execs, no PAM session in between). It is throwaway: no fsync, removed with the temp folder.
// The programs are found the way `dev` finds them (src/commands/dev-services.ts); `dev`'s own
// launcher keeps its data under .steady/ and listens on this namespace only, so it is not reused.
import { spawnSync } from 'node:child_process';
import { appendFileSync, chownSync, copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { answers, findPostgres } from '../../src/commands/dev-services.ts';
import type { Host } from './netns.ts';

export interface FleetPostgres {
  /** postgresql://postgres@<address>:<port>/<db> */
  url(db: string): string;
  stop(): Promise<void>;
}

function owner(): { uid: number; gid: number } {
  for (const name of ['postgres', 'nobody']) {
    const uid = spawnSync('id', ['-u', name], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', name], { encoding: 'utf8' });
    if (uid.status === 0 && gid.status === 0)
      return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  }
  throw new Error('no `postgres` or `nobody` user to run PostgreSQL as (it refuses root)');
}

export async function startPostgres(opts: {
  host: Host;
  port: number;
  dir: string;
  /** The subnet allowed in, e.g. 10.213.7.0/24. */
  allow: string;
  logDir: string;
}): Promise<FleetPostgres> {
  const found = findPostgres();
  if (!found) throw new Error('PostgreSQL is not installed (initdb and pg_ctl not found)');
  const { uid, gid } = owner();
  mkdirSync(opts.dir, { recursive: true });
  chownSync(opts.dir, uid, gid);
  const data = join(opts.dir, 'data');
  const log = join(opts.dir, 'postgres.log');
  const asOwner = ['setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups'];
  const run = (argv: string[]) => {
    const [cmd, ...args] = argv as [string, ...string[]];
    const r = spawnSync(cmd, args, { cwd: opts.dir, encoding: 'utf8', timeout: 120_000 });
    if (r.status !== 0)
      throw new Error(
        `${argv.join(' ')} failed:\n${r.stdout ?? ''}${r.stderr ?? ''}${r.error ?? ''}`,
      );
  };
  run([
    ...asOwner,
    found.initdb,
    '-D',
    data,
    '-U',
    'postgres',
    '--auth=trust',
    '--encoding=UTF8',
    '--no-locale',
    '--no-instructions',
  ]);
  appendFileSync(join(data, 'pg_hba.conf'), `host all all ${opts.allow} trust\n`);
  const settings = [
    `-p ${opts.port}`,
    `-c listen_addresses='${opts.host.address}'`,
    "-c unix_socket_directories=''",
    '-c max_connections=400',
    '-c fsync=off',
    '-c synchronous_commit=off',
    '-c full_page_writes=off',
  ].join(' ');
  run([
    ...opts.host.exec,
    ...asOwner,
    found.pgCtl,
    'start',
    '-D',
    data,
    '-l',
    log,
    '-w',
    '-t',
    '60',
    '-o',
    settings,
  ]);
  for (let i = 0; i < 100 && !(await answers(opts.host.address, opts.port)); i++)
    await new Promise((r) => setTimeout(r, 100));
  let stopped = false;
  return {
    url: (db) => `postgresql://postgres@${opts.host.address}:${opts.port}/${db}`,
    async stop() {
      if (stopped) return;
      stopped = true;
      spawnSync(asOwner[0]!, [...asOwner.slice(1), found.pgCtl, 'stop', '-D', data, '-m', 'fast'], {
        timeout: 30_000,
      });
      if (existsSync(log)) copyFileSync(log, join(opts.logDir, 'postgres.log'));
    },
  };
}
