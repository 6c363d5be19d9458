import type { Language } from './language.ts';
import type { WarmRunner } from './warm-runner.ts';

/** How one language's snippet is stored in the workspace and started inside the sandbox. */
export interface LanguageRuntime {
  readonly language: Language;
  readonly displayName: string;
  /** The file the code is written to, inside /workspace. */
  readonly fileName: string;
  /** argv inside the sandbox; the program reads its code from `file`, never from argv. */
  runArgv(file: string): string[];
  /** Started ahead of demand in a warm sandbox; absent: this language always starts cold. */
  readonly warm?: WarmRunner;
}
