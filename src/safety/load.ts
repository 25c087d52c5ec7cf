// Reads the safety screen's data files: the phrase rules come with the content (safety.yaml),
// the model from messages/safety/model.json + model.bin. Run once at start-up; the screen itself
// is pure and gets both passed in.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeModel, type SafetyModel } from './model.ts';
import { compileRules } from './rules.ts';
import type { SafetyScreener } from './screen.ts';

export const SAFETY_DIR = (messagesDir: string) => join(messagesDir, 'safety');

export async function loadSafetyModel(messagesDir: string): Promise<SafetyModel> {
  const dir = SAFETY_DIR(messagesDir);
  const [meta, bin] = await Promise.all([
    readFile(join(dir, 'model.json'), 'utf8').catch(() => null),
    readFile(join(dir, 'model.bin')).catch(() => null),
  ]);
  if (meta === null || bin === null)
    throw new Error(
      `${dir}/model.json or model.bin is missing: run \`npm run --silent cli -- safety train\``,
    );
  return decodeModel(JSON.parse(meta), bin);
}

/** The screener for the parsed safety.yaml (Content.safety) and the shipped model. */
export async function loadScreener(
  safetyYaml: unknown,
  messagesDir: string,
): Promise<SafetyScreener> {
  return { rules: compileRules(safetyYaml), model: await loadSafetyModel(messagesDir) };
}
