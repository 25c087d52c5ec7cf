import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    globalSetup: ['tests/support/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration tests share one test database and one Redis; files run in parallel but each
    // uses its own queue prefix and its own rows.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
