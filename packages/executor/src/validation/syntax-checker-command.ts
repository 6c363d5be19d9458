import { LANGUAGE_RUNTIMES, type Language } from '../languages/index.ts';
import { SANDBOX_RUNTIME_DIR } from '../result/runtime-mount.ts';
import { resolveLimits, type SandboxLimits } from '../sandbox/limits.ts';
import { SANDBOX_WORKSPACE } from '../sandbox/sandbox-command.ts';

/**
 * What a long-lived syntax checker is, per language: the program started in the sandbox and its
 * limits. Nothing here spawns a process.
 *
 * Each checker is the one-shot check of syntax-check-argv.ts turned into a loop, with the same
 * interpreter, the same flags and the same file name, so that its answers are the one-shot
 * check's: python and bash in runtime/syntax_checker.py (bash: `bash -n` on the file, a fork per
 * check), javascript and typescript in runtime/syntax-checker.mjs.
 */

/** The flags of the one-shot Python check: no site, no user paths, no bytecode, no warnings. */
const PYTHON = ['python3', '-I', '-S', '-B', '-W', 'ignore'];

/** The file the one-shot check writes the snippet to; errors name it. */
function snippetFile(language: Language): string {
  return `${SANDBOX_WORKSPACE}/${LANGUAGE_RUNTIMES[language].fileName}`;
}

/** argv, inside the sandbox, of the long-lived checker for `language`. */
export function syntaxCheckerArgv(language: Language): string[] {
  const file = snippetFile(language);
  switch (language) {
    case 'python':
    case 'bash':
      return [...PYTHON, `${SANDBOX_RUNTIME_DIR}/syntax_checker.py`, language, file];
    case 'javascript':
      // --expose-internals: the very functions `node --check` calls (see syntax-checker.mjs).
      return [
        'node',
        '--expose-internals',
        '--no-warnings',
        `${SANDBOX_RUNTIME_DIR}/syntax-checker.mjs`,
        language,
        file,
      ];
    case 'typescript':
      // --experimental-vm-modules as the one-shot check has it; internals for the error's arrow.
      return [
        'node',
        '--expose-internals',
        '--experimental-vm-modules',
        '--no-warnings',
        `${SANDBOX_RUNTIME_DIR}/syntax-checker.mjs`,
        language,
        file,
      ];
  }
}

/**
 * A checker's limits, the one-shot check's but for time and output. Memory as it had (a parse that
 * fits there fits here; one that does not ends the checker, and the one-shot check decides
 * instead); processes as it had (Node's threads count); the longest wall time a run may have, the
 * pool retiring it well before.
 * Output counts every reply of its life, so the pool retires it long before that limit too.
 */
export const SYNTAX_CHECKER_LIMITS: Readonly<SandboxLimits> = Object.freeze(
  resolveLimits({
    wallTimeMs: 300_000,
    memoryBytes: 256 * 1024 * 1024,
    maxProcesses: 32,
    cpus: 1,
    outputBytes: 64 * 1024 * 1024,
    workspaceBytes: 4 * 1024 * 1024,
    tmpBytes: 4 * 1024 * 1024,
  }),
);
