#!/usr/bin/env node
// `npm run build`: compiles Steady to dist/ so that `npm start -- <role>` (`node dist/cli.js
// <role>`) runs with no TypeScript tooling. Generates the Prisma client first when the schema or
// the lock file changed since it was last generated (it lives in src/generated/ and is compiled
// with the rest), then runs tsc with tsconfig.build.json, which keeps the layout (dist/src,
// dist/jobs). messages/ and prisma/migrations/ stay where they are: the built code reads them
// from the package root (src/paths.ts). Plain Node, like the other tools.
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isCurrent, schemaStamp, stampValues } from './stamps.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const say = (line) => console.log(`[build] ${line}`);

function run(args) {
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`[build] \`node ${args.join(' ')}\` failed (exit ${r.status}).`);
    process.exit(r.status ?? 1);
  }
}

const started = Date.now();
const { schemaHash } = stampValues(root);
if (!isCurrent(schemaStamp(root), schemaHash)) {
  say('generating the Prisma client');
  run([join(root, 'tools', 'prisma.mjs'), 'generate']);
  mkdirSync(dirname(schemaStamp(root)), { recursive: true });
  writeFileSync(schemaStamp(root), schemaHash);
}

const dist = join(root, 'dist');
rmSync(dist, { recursive: true, force: true });
say('compiling src/ and jobs/ to dist/ (tsc -p tsconfig.build.json)');
run([join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json']);
writeFileSync(
  join(dist, 'cli.js'),
  [
    '#!/usr/bin/env node',
    '// The built command line: `node dist/cli.js <command>` (npm start -- <command>).',
    "import './src/cli.js';",
    '',
  ].join('\n'),
);
say(`dist/ ready in ${((Date.now() - started) / 1000).toFixed(1)} s: node dist/cli.js <command>`);
