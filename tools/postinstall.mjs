#!/usr/bin/env node
// npm's postinstall for Steady: generate the Prisma client, then record what it was generated
// from, so that tools/setup.mjs (the pre-script of `npm run dev` and `npm test`) knows it is up
// to date and does not install or generate a second time.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lockStamp, schemaStamp, stampValues } from './stamps.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// A production install (`npm ci --omit=dev`) has no Prisma CLI and needs none: the client was
// generated and compiled into dist/ by `npm run build`.
if (!existsSync(join(root, 'node_modules', 'prisma', 'build', 'index.js'))) {
  console.log(
    '[postinstall] no Prisma CLI (production install): using the client built into dist/',
  );
  process.exit(0);
}
const r = spawnSync(process.execPath, [join(root, 'tools', 'prisma.mjs'), 'generate'], {
  cwd: root,
  stdio: 'inherit',
});
if (r.status !== 0) process.exit(r.status ?? 1);
const { lockHash, schemaHash } = stampValues(root);
mkdirSync(dirname(schemaStamp(root)), { recursive: true });
writeFileSync(lockStamp(root), lockHash);
writeFileSync(schemaStamp(root), schemaHash);
