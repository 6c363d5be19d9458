import { chown, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { LANGUAGE_RUNTIMES, type Language } from '../languages/index.ts';
import { writeNewWorkspaceFile } from '../sandbox/safe-fs.ts';
import { SANDBOX_WORKSPACE } from '../sandbox/sandbox-command.ts';
import { baseSandboxEnv } from '../sandbox/sandbox-environment.ts';
import type { PreparedCommand } from './run-in-sandbox.ts';

export interface SnippetFile {
  /** A relative path inside the workspace, already checked (snippet-fields.ts filePathRefusal). */
  name: string;
  content: string;
}

/**
 * Writes one file at a relative path of a fresh workspace, making its directories (owned by the
 * run's user, as the workspace is). Nothing else has been in the workspace yet: no program has
 * run there, so no name in it can be a link; each directory is made new (an existing one is one
 * this snippet's own files made, listed in `made`) and the file is created exclusively, without
 * following a link.
 */
async function writeSnippetFile(
  workspaceDir: string,
  file: SnippetFile,
  owner: { uid: number; gid: number } | null,
  made: Set<string>,
): Promise<void> {
  const parts = file.name.split('/');
  let directory = workspaceDir;
  for (const part of parts.slice(0, -1)) {
    directory = join(directory, part);
    if (made.has(directory)) continue;
    await mkdir(directory, { mode: 0o755 });
    made.add(directory);
    if (owner) await chown(directory, owner.uid, owner.gid);
  }
  await writeNewWorkspaceFile(directory, parts.at(-1) ?? '', file.content, owner);
}

/**
 * A run's `prepare` for a snippet: its entry file (`entry`, default the language's file name)
 * written with `code`, the other `files` beside it (never passed in argv), and the language's
 * command for the entry with the program's `args` after it, in the sandbox's environment with
 * `env` added (names already checked: none of the sandbox's own is among them). `argvFor` gives
 * another command (the syntax check).
 */
export function snippetCommand(options: {
  language: Language;
  code: string;
  owner: { uid: number; gid: number } | null;
  entry?: string | undefined;
  files?: readonly SnippetFile[] | undefined;
  args?: readonly string[] | undefined;
  env?: Readonly<Record<string, string>> | undefined;
  argvFor?: (file: string) => string[];
}): (workspaceDir: string) => Promise<PreparedCommand> {
  const runtime = LANGUAGE_RUNTIMES[options.language];
  const argvFor = options.argvFor ?? ((file: string) => runtime.runArgv(file));
  const entry = options.entry ?? runtime.fileName;
  return async (workspaceDir) => {
    const made = new Set<string>();
    const all = [{ name: entry, content: options.code }, ...(options.files ?? [])];
    for (const file of all) await writeSnippetFile(workspaceDir, file, options.owner, made);
    return {
      argv: [...argvFor(`${SANDBOX_WORKSPACE}/${entry}`), ...(options.args ?? [])],
      env: { ...options.env, ...baseSandboxEnv() },
    };
  };
}
