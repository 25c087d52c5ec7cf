// Loads messages/ at start-up. Content that fails validation never reaches the service.
import { buildContent, type BuildResult } from './build.ts';
import { ContentError } from './errors.ts';
import { readTree } from './read.ts';
import type { Content } from './types.ts';

export { ContentError } from './errors.ts';

/** Every error and warning, and the content when there are no errors. Never throws for
 * content problems (only for unreadable disks). */
export async function inspectContent(dir: string): Promise<BuildResult> {
  return buildContent(await readTree(dir));
}

/** The validated content of `dir` (usually "<repo>/messages"). Throws ContentError listing
 * every problem, each starting with its file. Warnings are on `.warnings` of the result of
 * inspectContent; pass `onWarning` to see them here. */
export async function loadContent(
  dir: string,
  onWarning: (warning: string) => void = () => {},
): Promise<Content> {
  const result = await inspectContent(dir);
  for (const warning of result.warnings) onWarning(warning);
  if (!result.content) throw new ContentError(result.errors, result.warnings);
  return result.content;
}
