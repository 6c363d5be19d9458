import { LANGUAGE_RUNTIMES, type Language } from '../languages/index.ts';
import { writeNewWorkspaceFile } from '../sandbox/safe-fs.ts';
import { SANDBOX_WORKSPACE } from '../sandbox/sandbox-command.ts';
import { baseSandboxEnv } from '../sandbox/sandbox-environment.ts';
import type { PreparedCommand } from './run-in-sandbox.ts';

/**
 * A run's `prepare` for a snippet: the code written to its file in the workspace (never passed in
 * argv), and the language's command for that file; `argvFor` gives another (the syntax check).
 */
export function snippetCommand(options: {
  language: Language;
  code: string;
  owner: { uid: number; gid: number } | null;
  argvFor?: (file: string) => string[];
}): (workspaceDir: string) => Promise<PreparedCommand> {
  const runtime = LANGUAGE_RUNTIMES[options.language];
  const argvFor = options.argvFor ?? ((file: string) => runtime.runArgv(file));
  return async (workspaceDir) => {
    await writeNewWorkspaceFile(workspaceDir, runtime.fileName, options.code, options.owner);
    return { argv: argvFor(`${SANDBOX_WORKSPACE}/${runtime.fileName}`), env: baseSandboxEnv() };
  };
}
