import type { LanguageRuntime } from './language-runtime.ts';

/** Node 24 strips the types itself: no compiler runs, and type errors do not stop a run. */
export const typescript: LanguageRuntime = {
  language: 'typescript',
  displayName: 'TypeScript (Node.js 24 type stripping)',
  fileName: 'main.ts',
  runArgv: (file) => ['node', file],
};
