import type { LanguageRuntime } from './language-runtime.ts';

export const python: LanguageRuntime = {
  language: 'python',
  displayName: 'Python 3',
  fileName: 'main.py',
  runArgv: (file) => ['/usr/bin/python3', '-B', file],
};
