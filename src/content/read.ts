// Reads the files under messages/ into memory, without interpreting them. Paths are kept in the
// form people see them ("messages/steady/en/sms.yaml") so every problem can name its file.
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';

export interface RawFile {
  /** Shown in problems: the messages folder's own name, then the path inside it. */
  path: string;
  text: string;
}

export interface RawLocale {
  locale: string;
  /** e.g. "messages/steady/en" */
  dir: string;
  sms?: RawFile;
  emails: RawFile[];
}

export interface RawProgram {
  /** e.g. "messages/steady" */
  dir: string;
  program: RawFile;
  locales: RawLocale[];
}

export interface RawTree {
  root: string;
  programs: RawProgram[];
  keywords?: RawFile;
  safety?: RawFile;
  /** messages/legal/terms.md and privacy.md: the /terms and /privacy pages. */
  legal: { terms?: RawFile; privacy?: RawFile };
  /** messages/legal/<locale>/terms.md and privacy.md: the same pages in another language. */
  legalLocales: Record<string, { terms?: RawFile; privacy?: RawFile }>;
  /** messages/pages/<locale>.yaml: the web pages' words, one key per string. */
  pages: RawFile[];
}

/** Names of the folders (or files) in `path`, sorted; symbolic links are followed. */
async function names(path: string, wantDirs: boolean): Promise<string[]> {
  const found = await readdir(path, { withFileTypes: true }).catch(() => []);
  const kept: string[] = [];
  for (const entry of found) {
    const info = entry.isSymbolicLink()
      ? await stat(join(path, entry.name)).catch(() => undefined)
      : entry;
    if (info && (wantDirs ? info.isDirectory() : info.isFile())) kept.push(entry.name);
  }
  return kept.sort();
}

/** Every program folder (one holding program.yaml), its locale folders, and the shared files. */
export async function readTree(dir: string): Promise<RawTree> {
  const root = basename(dir);
  const file = async (...parts: string[]): Promise<RawFile | undefined> => {
    const text = await readFile(join(dir, ...parts), 'utf8').catch(() => undefined);
    return text === undefined ? undefined : { path: [root, ...parts].join('/'), text };
  };

  const programs: RawProgram[] = [];
  for (const programDir of await names(dir, true)) {
    const program = await file(programDir, 'program.yaml');
    if (!program) continue; // not a program folder
    const locales: RawLocale[] = [];
    for (const locale of await names(join(dir, programDir), true)) {
      const emails: RawFile[] = [];
      for (const name of await names(join(dir, programDir, locale, 'email'), false)) {
        if (!name.endsWith('.md')) continue;
        const email = await file(programDir, locale, 'email', name);
        if (email) emails.push(email);
      }
      const sms = await file(programDir, locale, 'sms.yaml');
      locales.push({ locale, dir: `${root}/${programDir}/${locale}`, sms, emails });
    }
    programs.push({ dir: `${root}/${programDir}`, program, locales });
  }
  const legalLocales: RawTree['legalLocales'] = {};
  for (const locale of await names(join(dir, 'legal'), true)) {
    legalLocales[locale] = {
      terms: await file('legal', locale, 'terms.md'),
      privacy: await file('legal', locale, 'privacy.md'),
    };
  }
  const pages: RawFile[] = [];
  for (const name of await names(join(dir, 'pages'), false)) {
    if (!name.endsWith('.yaml')) continue;
    const page = await file('pages', name);
    if (page) pages.push(page);
  }
  return {
    root,
    programs,
    legalLocales,
    pages,
    keywords: await file('keywords.yaml'),
    safety: await file('safety.yaml'),
    legal: { terms: await file('legal', 'terms.md'), privacy: await file('legal', 'privacy.md') },
  };
}
