// Prisma CLI configuration. The CLI runs on the JavaScript (WebAssembly) schema engine with the pg
// driver adapter, because the native engine binaries cannot be downloaded here. Migrations are
// applied by Steady's own migrator (`npm run cli -- migrate`), not by `prisma migrate deploy`.
import { PrismaPg } from '@prisma/adapter-pg';
import { defineConfig } from 'prisma/config';

export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: 'prisma/schema.prisma',
  adapter: async () =>
    new PrismaPg({
      connectionString: process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/steady',
    }),
});
