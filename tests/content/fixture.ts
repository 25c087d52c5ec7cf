// A copy of messages/ in a temp folder that a test may break. The shared files (keywords.yaml,
// safety.yaml) are small stand-ins, so these tests do not depend on their current wording; the
// legal pages (legal/terms.md, privacy.md, legal/es/) and the web pages' words (pages/) are copied
// as they are.
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const REAL_MESSAGES = join(process.cwd(), 'messages');

/** True once the other half of messages/ (written by the safety and keyword work) exists. */
export const sharedFilesPresent =
  existsSync(join(REAL_MESSAGES, 'keywords.yaml')) &&
  existsSync(join(REAL_MESSAGES, 'safety.yaml'));

export const KEYWORDS_YAML = `en:
  stop: [STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT]
  start: [START, UNSTOP]
  help: [HELP, INFO]
  pause: [PAUSE]
  resume: [RESUME]
  yes: ['YES', 'Y']
  join: [JOIN]
  stopPhrases: [stop texting me]
es:
  stop: [PARAR, STOP]
  start: [INICIO]
  help: [AYUDA]
  pause: [PAUSA]
  resume: [REANUDAR]
  yes: [SI]
  join: [UNIRME]
`;

export const SAFETY_YAML = `phrases:
  en:
    abuse: [he hits me]
resources:
  US:
    abuse:
      - 'National Domestic Violence Hotline: call 1-800-799-7233 or text START to 88788 (thehotline.org)'
    self_harm:
      - '988 Suicide & Crisis Lifeline: call or text 988'
    emergency: '911'
  default:
    abuse: ['Find a helpline near you at findahelpline.com']
    self_harm: ['Find a helpline near you at findahelpline.com']
    emergency: 'your local emergency number'
`;

export interface Fixture {
  /** The copy's messages folder, named "messages" so problems read as they do for real. */
  dir: string;
  read(path: string): string;
  write(path: string, text: string): void;
  edit(path: string, change: (text: string) => string): void;
  remove(path: string): void;
  cleanup(): void;
}

export function copyMessages(): Fixture {
  const base = mkdtempSync(join(tmpdir(), 'steady-content-'));
  const dir = join(base, 'messages');
  cpSync(join(REAL_MESSAGES, 'steady'), join(dir, 'steady'), { recursive: true });
  cpSync(join(REAL_MESSAGES, 'legal'), join(dir, 'legal'), { recursive: true });
  cpSync(join(REAL_MESSAGES, 'pages'), join(dir, 'pages'), { recursive: true });
  writeFileSync(join(dir, 'keywords.yaml'), KEYWORDS_YAML);
  writeFileSync(join(dir, 'safety.yaml'), SAFETY_YAML);
  const fixture: Fixture = {
    dir,
    read: (path) => readFileSync(join(dir, path), 'utf8'),
    write: (path, text) => writeFileSync(join(dir, path), text),
    edit: (path, change) => {
      const before = fixture.read(path);
      const after = change(before);
      if (after === before) throw new Error(`fixture edit of ${path} changed nothing`);
      fixture.write(path, after);
    },
    remove: (path) => rmSync(join(dir, path)),
    cleanup: () => rmSync(base, { recursive: true, force: true }),
  };
  return fixture;
}
