// A program's own join words (program.yaml `keywords:`) must lead to one place: not another
// program's word, and not a word keywords.yaml already gives a meaning (STOP, HELP, JOIN, ...).
import { foldText } from '../core/normalize.ts';
import type { Problems } from './errors.ts';
import type { KeywordSet, Program } from './types.ts';

const form = (w: string) =>
  foldText(w)
    .replace(/'/g, '')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();

export function checkJoinWords(
  programs: Record<string, Program>,
  keywords: Record<string, KeywordSet>,
  keywordsFile: string,
  root: string,
  p: Problems,
): void {
  const shared = new Map<string, string>();
  for (const [locale, set] of Object.entries(keywords))
    for (const [command, words] of Object.entries(set))
      for (const w of words as string[]) shared.set(form(w), `${locale}.${command}`);
  const owner = new Map<string, string>();
  for (const program of Object.values(programs)) {
    const file = `${root}/${program.key}/program.yaml`;
    for (const [locale, words] of Object.entries(program.keywords)) {
      for (const word of words) {
        const f = form(word);
        const taken = shared.get(f);
        if (taken)
          p.error(file, `keywords.${locale}: "${word}" is already ${taken} in ${keywordsFile}`);
        const other = owner.get(f);
        if (other && other !== program.key)
          p.error(file, `keywords.${locale}: "${word}" also joins program "${other}"`);
        owner.set(f, program.key);
      }
    }
  }
}
