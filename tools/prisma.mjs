#!/usr/bin/env node
// Runs the Prisma CLI offline. Prisma's CLI insists on engine binaries it would download; this
// machine cannot download them and Steady does not need them (the client runs on the pg driver
// adapter and migrations run through our own migrator), so point both at a stub that says so.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const stubDir = join(tmpdir(), 'steady-prisma-stub');
const stub = join(stubDir, 'no-engine.sh');
if (!existsSync(stub)) {
  mkdirSync(stubDir, { recursive: true });
  writeFileSync(stub, '#!/bin/sh\necho "native schema engine not available" >&2\nexit 1\n');
  chmodSync(stub, 0o755);
}
const env = {
  ...process.env,
  PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? stub,
  PRISMA_QUERY_ENGINE_LIBRARY: process.env.PRISMA_QUERY_ENGINE_LIBRARY ?? stub,
  PRISMA_HIDE_UPDATE_MESSAGE: '1',
  CHECKPOINT_DISABLE: '1',
};
const bin = join(root, 'node_modules', 'prisma', 'build', 'index.js');
if (!existsSync(bin)) {
  console.error('prisma is not installed yet: run `npm ci` first.');
  process.exit(1);
}
const result = spawnSync(process.execPath, [bin, ...process.argv.slice(2)], {
  cwd: root,
  env,
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
