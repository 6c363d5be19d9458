import { SANDBOX_RESULT_PATH } from '../result/result-path.ts';
import { SANDBOX_RUNTIME_DIR } from '../result/runtime-mount.ts';
import type { LanguageRuntime } from './language-runtime.ts';

/** Through the runner, which hands back the value of the last expression (result-path.ts). */
export const javascript: LanguageRuntime = {
  language: 'javascript',
  displayName: 'JavaScript (Node.js 24)',
  fileName: 'main.js',
  runArgv: (file) => ['node', `${SANDBOX_RUNTIME_DIR}/run-node.mjs`, SANDBOX_RESULT_PATH, file],
};
