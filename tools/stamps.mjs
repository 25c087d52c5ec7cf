// Where setup and postinstall record what node_modules and the Prisma client were made from.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const lockStamp = (root) => join(root, 'node_modules', '.steady-lock-hash');
export const schemaStamp = (root) => join(root, 'src', 'generated', '.schema-hash');

function hashOf(...files) {
  const h = createHash('sha256');
  for (const f of files) h.update(existsSync(f) ? readFileSync(f) : '');
  return h.digest('hex');
}

export function stampValues(root) {
  return {
    lockHash: hashOf(join(root, 'package-lock.json')),
    schemaHash: hashOf(join(root, 'prisma', 'schema.prisma'), join(root, 'package-lock.json')),
  };
}

export function isCurrent(file, value) {
  return existsSync(file) && readFileSync(file, 'utf8') === value;
}
