import type { LanguageRuntime } from './language-runtime.ts';

export const javascript: LanguageRuntime = {
  language: 'javascript',
  displayName: 'JavaScript (Node.js 24)',
  fileName: 'main.js',
  runArgv: (file) => ['node', file],
};
