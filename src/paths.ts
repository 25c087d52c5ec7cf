import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '..');
export const MESSAGES_DIR = join(ROOT, 'messages');
export const MIGRATIONS_DIR = join(ROOT, 'prisma', 'migrations');
