import { SANDBOX_RESULT_PATH } from '../result/result-path.ts';
import { SANDBOX_RUNTIME_DIR } from '../result/runtime-mount.ts';
import type { LanguageRuntime } from './language-runtime.ts';
import { prefixedWarmRunner } from './warm-runner.ts';

const RUNNER = ['/usr/bin/python3', '-B', `${SANDBOX_RUNTIME_DIR}/run_python.py`];

/** Through the runner, which hands back the value of the last expression (result-path.ts). */
export const python: LanguageRuntime = {
  language: 'python',
  displayName: 'Python 3',
  fileName: 'main.py',
  runArgv: (file) => [...RUNNER, SANDBOX_RESULT_PATH, file],
  warm: prefixedWarmRunner(RUNNER),
};
