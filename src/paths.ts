// Where Steady's files are read from at run time: the package root (the nearest folder above this
// file that holds package.json), whether this runs as src/paths.ts under tsx or as the built
// dist/src/paths.js. messages/ and prisma/migrations/ are never copied into dist/.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

function packageRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) return join(from, '..');
  }
}

export const ROOT = packageRoot(import.meta.dirname);
export const MESSAGES_DIR = join(ROOT, 'messages');
export const MIGRATIONS_DIR = join(ROOT, 'prisma', 'migrations');
