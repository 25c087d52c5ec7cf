// Puts an experiment into the running test's program: variants of one step, in memory, so these
// tests do not depend on which steps messages/ gives variants today. Returns the program's key.
import type { Deps } from '../../src/deps.ts';

export function addExperiment(
  deps: Deps,
  step: string,
  texts: Record<string, string>,
  weights: Record<string, number> = {},
): string {
  const variants = Object.fromEntries(
    Object.entries(texts).map(([name, text]) => [name, { text, weight: weights[name] ?? 1 }]),
  );
  const live = deps.programs.default;
  // The content and the live programs may hold the same object or copies: set it on both.
  for (const program of new Set([live, deps.content.programs[live.key]])) {
    const texts = program?.locales[program.defaultLocale];
    if (!program || !texts) continue;
    texts.variants ??= { sms: {}, email: {} };
    texts.variants.sms[step] = variants;
    texts.sms[step] = Object.values(variants)[0]!.text;
  }
  return live.key;
}
