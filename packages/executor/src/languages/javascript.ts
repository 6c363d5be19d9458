import { SANDBOX_RESULT_PATH } from '../result/result-path.ts';
import { SANDBOX_RUNTIME_DIR } from '../result/runtime-mount.ts';
import type { LanguageRuntime } from './language-runtime.ts';
import { prefixedWarmRunner } from './warm-runner.ts';

const RUNNER = ['node', `${SANDBOX_RUNTIME_DIR}/run-node.mjs`];

/** Through the runner, which hands back the value of the last expression (result-path.ts). */
export const javascript: LanguageRuntime = {
  language: 'javascript',
  displayName: 'JavaScript (Node.js 24)',
  fileName: 'main.js',
  runArgv: (file) => [...RUNNER, SANDBOX_RESULT_PATH, file],
  warm: prefixedWarmRunner(RUNNER),
};
