import { bash } from './bash.ts';
import { javascript } from './javascript.ts';
import type { Language } from './language.ts';
import type { LanguageRuntime } from './language-runtime.ts';
import { python } from './python.ts';
import { typescript } from './typescript.ts';

export const LANGUAGE_RUNTIMES: Readonly<Record<Language, LanguageRuntime>> = {
  python,
  javascript,
  typescript,
  bash,
};

export { LANGUAGES, isLanguage, type Language } from './language.ts';
export type { LanguageRuntime } from './language-runtime.ts';
