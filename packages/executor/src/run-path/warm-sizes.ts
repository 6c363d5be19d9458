import { isLanguage, LANGUAGE_RUNTIMES, type Language } from '../languages/index.ts';

/** What RUNBOX_WARM_SANDBOXES holds when unset. */
export const DEFAULT_WARM_SIZES = 'python=2,javascript=1,typescript=1';
/** More than this waiting per language buys nothing a queue would not, and holds memory. */
export const MAX_WARM_PER_LANGUAGE = 16;

/**
 * `python=2,javascript=1` → sizes per language; `0`, `off` or an empty string → none. A language
 * without a warm runner (bash), an unknown name, a repeated one or a size out of 0..16 is an
 * error naming the entry and the rule.
 */
export function parseWarmSizes(text: string): Partial<Record<Language, number>> {
  const trimmed = text.trim();
  if (trimmed === '' || trimmed === '0' || trimmed === 'off') return {};
  const sizes: Partial<Record<Language, number>> = {};
  for (const entry of trimmed.split(',')) {
    const match = /^\s*([a-z]+)\s*=\s*(\d+)\s*$/.exec(entry);
    if (!match?.[1] || match[2] === undefined)
      throw new Error(`"${entry}" is not language=count (e.g. python=2,javascript=1)`);
    const [, name, count] = match;
    if (!isLanguage(name)) throw new Error(`"${name}" is not a language runbox runs`);
    if (!LANGUAGE_RUNTIMES[name].warm)
      throw new Error(`${name} has no warm runner: its runs always start cold`);
    if (name in sizes) throw new Error(`${name} is named twice`);
    const size = Number(count);
    if (size > MAX_WARM_PER_LANGUAGE)
      throw new Error(`${name}=${size} is above ${MAX_WARM_PER_LANGUAGE} per language`);
    sizes[name] = size;
  }
  return sizes;
}
