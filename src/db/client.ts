// The one place that constructs a Prisma client. Prisma runs on the pg driver adapter (no native
// engine), so the connection pool is a plain node-postgres pool we can size and close.
import { AsyncLocalStorage } from 'node:async_hooks';
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
  /** Set under `strictTransactions`: whether the caller runs inside a transaction's callback. */
  inTransaction?: AsyncLocalStorage<true>;

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
    // A query on the client (not on `tx`) inside a transaction's callback takes a second
    // connection while the transaction holds one: with every connection held by such a
    // transaction the pool starves until the transactions time out (seen as JOINs that stalled
    // for 20 s under a burst). Tests refuse it outright.
    if (this.inTransaction?.getStore()) {
      const err = new Error(
        'a query outside the transaction while its callback runs: use the transaction client',
      );
      if (callback) return callback(err, undefined, () => {});
      return Promise.reject(err);
    }
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

/**
 * `strictTransactions` (the test suite's setting) makes a query on the client from inside a
 * `$transaction` callback fail at once instead of quietly taking a second connection.
 */
export function createDb(
  databaseUrl: string,
  opts: { max?: number; strictTransactions?: boolean } = {},
): Db {
  const pool = new ReleasingPool({
    connectionString: databaseUrl,
    max: opts.max ?? 10,
    // A database restart or failover ends connections; the pool replaces them.
    idleTimeoutMillis: 30_000,
  });
  const adapter = new PrismaPg(pool, { disposeExternalPool: true });
  const db = new PrismaClient({ adapter });
  if (!opts.strictTransactions) return db;
  const inTransaction = new AsyncLocalStorage<true>();
  pool.inTransaction = inTransaction;
  // The transaction's own connection is taken before the callback runs, so only queries made
  // from inside the callback on the outer client are caught.
  const begin = db.$transaction.bind(db) as (...args: unknown[]) => Promise<unknown>;
  Object.defineProperty(db, '$transaction', {
    value: (arg: unknown, options?: unknown) =>
      typeof arg === 'function'
        ? begin((tx: unknown) => inTransaction.run(true, () => arg(tx)), options)
        : begin(arg, options),
  });
  return db;
}

export * from '../generated/prisma/client.ts';
