// The one place that constructs a Prisma client. Prisma runs on the pg driver adapter (no native
// engine), so the connection pool is a plain node-postgres pool we can size and close.
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient } from '../generated/prisma/client.ts';

export type Db = PrismaClient;

/**
 * A pool that gets back the connections a transaction loses. When the server ends a connection
 * in the middle of a transaction (a restart, a failover, pg_terminate_backend), Prisma's ROLLBACK
 * fails on the dead connection and the adapter never releases it: every such event leaked one
 * pool slot for good, and after a few of them every query waited forever. Here a checked-out
 * connection that ends is released (and so removed) at once, and a later release of it is a no-op.
 */
class ReleasingPool extends pg.Pool {
  override connect(): Promise<pg.PoolClient>;
  override connect(
    callback: (
      err: Error | undefined,
      client: pg.PoolClient | undefined,
      done: (release?: unknown) => void,
    ) => void,
  ): void;
  override connect(
    callback?: (
      err: Error | undefined,
      client: pg.PoolClient | undefined,
      done: (release?: unknown) => void,
    ) => void,
  ): Promise<pg.PoolClient> | void {
    // The callback form is pool.query()'s, which always releases what it takes.
    if (callback) return super.connect(callback);
    return super.connect().then((client) => {
      const release = client.release.bind(client);
      let released = false;
      const onEnd = () => {
        if (released) return;
        released = true;
        release(new Error('connection ended while checked out'));
      };
      client.once('end', onEnd);
      client.release = (err?: Error | boolean) => {
        client.removeListener('end', onEnd);
        if (released) return;
        released = true;
        release(err);
      };
      return client;
    });
  }
}

export function createDb(databaseUrl: string, opts: { max?: number } = {}): Db {
  const pool = new ReleasingPool({
    connectionString: databaseUrl,
    max: opts.max ?? 10,
    // A database restart or failover ends connections; the pool replaces them.
    idleTimeoutMillis: 30_000,
  });
  const adapter = new PrismaPg(pool, { disposeExternalPool: true });
  return new PrismaClient({ adapter });
}

export * from '../generated/prisma/client.ts';
