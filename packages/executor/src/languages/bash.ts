import type { LanguageRuntime } from './language-runtime.ts';

export const bash: LanguageRuntime = {
  language: 'bash',
  displayName: 'Bash',
  fileName: 'main.sh',
  runArgv: (file) => ['/bin/bash', file],
};
