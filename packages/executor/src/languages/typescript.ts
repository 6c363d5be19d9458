import { SANDBOX_RESULT_PATH } from '../result/result-path.ts';
import { SANDBOX_RUNTIME_DIR } from '../result/runtime-mount.ts';
import type { LanguageRuntime } from './language-runtime.ts';
import { prefixedWarmRunner } from './warm-runner.ts';

const RUNNER = ['node', `${SANDBOX_RUNTIME_DIR}/run-node.mjs`];

/**
 * Node 24 strips the types itself: no compiler runs, and type errors do not stop a run. Through
 * the runner, which hands back the value of the last expression (result-path.ts).
 */
export const typescript: LanguageRuntime = {
  language: 'typescript',
  displayName: 'TypeScript (Node.js 24 type stripping)',
  fileName: 'main.ts',
  runArgv: (file) => [...RUNNER, SANDBOX_RESULT_PATH, file],
  warm: prefixedWarmRunner(RUNNER, ['typescript']),
};
