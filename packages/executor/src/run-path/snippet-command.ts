import { chown, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { TerminalSize } from '../engine/run-request.ts';
import { LANGUAGE_RUNTIMES, type Language } from '../languages/index.ts';
import { SANDBOX_RUNTIME_DIR } from '../result/runtime-mount.ts';
import { writeNewWorkspaceFile } from '../sandbox/safe-fs.ts';
import { SANDBOX_WORKSPACE } from '../sandbox/sandbox-command.ts';
import { baseSandboxEnv } from '../sandbox/sandbox-environment.ts';
import type { PreparedCommand } from './run-in-sandbox.ts';

/** The pseudo-terminal wrapper of tty runs. */
const TTY_WRAPPER = ['/usr/bin/python3', '-I', '-S', '-B', `${SANDBOX_RUNTIME_DIR}/tty_run.py`];

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
  /** On a pseudo-terminal of this size (runtime/tty_run.py), with a control descriptor. */
  tty?: TerminalSize | undefined;
}): (workspaceDir: string) => Promise<PreparedCommand> {
  const runtime = LANGUAGE_RUNTIMES[options.language];
  const argvFor = options.argvFor ?? ((file: string) => runtime.runArgv(file));
  const entry = options.entry ?? runtime.fileName;
  return async (workspaceDir) => {
    const made = new Set<string>();
    const all = [{ name: entry, content: options.code }, ...(options.files ?? [])];
    for (const file of all) await writeSnippetFile(workspaceDir, file, options.owner, made);
    const argv = [...argvFor(`${SANDBOX_WORKSPACE}/${entry}`), ...(options.args ?? [])];
    const env = { ...options.env, ...baseSandboxEnv() };
    if (!options.tty) return { argv, env };
    const { rows, cols } = options.tty;
    return {
      argv: [...TTY_WRAPPER, String(rows), String(cols), '--', ...argv],
      // A terminal that understands what programs write to one (the page shows it in xterm.js).
      env: { ...env, TERM: 'xterm-256color' },
      controlFd: true,
    };
  };
}
