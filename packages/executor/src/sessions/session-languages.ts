import { SANDBOX_RUNTIME_DIR } from '../result/runtime-mount.ts';

/** The languages a session can speak: those with a kernel (bash has none). */
export const SESSION_LANGUAGES = ['python', 'javascript', 'typescript'] as const;
export type SessionLanguage = (typeof SESSION_LANGUAGES)[number];

export function isSessionLanguage(value: string): value is SessionLanguage {
  return (SESSION_LANGUAGES as readonly string[]).includes(value);
}

/** The kernel's argv inside the sandbox. */
export function kernelArgv(language: SessionLanguage): string[] {
  if (language === 'python')
    return ['/usr/bin/python3', '-B', `${SANDBOX_RUNTIME_DIR}/session_python.py`];
  // --expose-internals: the kernel parses cells with Node's own acorn (see session-node.mjs).
  return ['node', '--expose-internals', `${SANDBOX_RUNTIME_DIR}/session-node.mjs`, language];
}
