// A query on the outer client from inside a transaction's callback takes a second pool connection
// while the transaction holds one; a burst of such transactions starves the pool. The suite runs
// with `strictTransactions`, which refuses it at once, so such a query cannot hide in a flow.
import { afterAll, describe, expect, it } from 'vitest';
import { createDb } from '../../src/db/client.ts';
import { TEST_DATABASE_URL } from '../support/env.ts';

const strict = createDb(TEST_DATABASE_URL, { max: 2, strictTransactions: true });
const loose = createDb(TEST_DATABASE_URL, { max: 2 });
afterAll(async () => {
  await Promise.all([strict.$disconnect(), loose.$disconnect()]);
});

describe('strictTransactions', () => {
  it('refuses a query on the client inside a transaction callback, and rolls the transaction back', async () => {
    await expect(
      strict.$transaction(async (tx) => {
        await tx.$queryRaw`SELECT 1`;
        await strict.$queryRaw`SELECT 2`;
      }),
    ).rejects.toThrow(/outside the transaction/);
  });

  it('allows queries on the transaction client, and on the client outside any transaction', async () => {
    const inside = await strict.$transaction(
      async (tx) => tx.$queryRaw<{ n: number }[]>`SELECT 1 AS n`,
    );
    expect(inside).toEqual([{ n: 1 }]);
    expect(await strict.$queryRaw<{ n: number }[]>`SELECT 2 AS n`).toEqual([{ n: 2 }]);
    // Concurrent transactions and plain queries side by side are not "inside" one another.
    const results = await Promise.all([
      strict.$transaction(async (tx) => tx.$queryRaw<{ n: number }[]>`SELECT 3 AS n`),
      strict.$queryRaw<{ n: number }[]>`SELECT 4 AS n`,
    ]);
    expect(results).toEqual([[{ n: 3 }], [{ n: 4 }]]);
  });

  it('leaves a client without the setting as it was (production)', async () => {
    const got = await loose.$transaction(
      async () => loose.$queryRaw<{ n: number }[]>`SELECT 5 AS n`,
    );
    expect(got).toEqual([{ n: 5 }]);
  });
});
