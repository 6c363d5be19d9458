import type { RunView } from '@runbox/api';
import { DEFAULT_TERMINAL_SIZE, type TerminalSize } from './terminal-size';
import { envFromText, textFromEnv } from './tool-arguments';

/** What the snippet form holds besides the code and stdin. */
export interface SnippetOptionInputs {
  /** Keep stdin open: the run page then has an input box (runs.sendInput). */
  interactive: boolean;
  /** Run on a pseudo-terminal: the run page shows a terminal that takes the typing (implies
   * interactive). */
  tty: boolean;
  /** Program arguments, one per line. */
  argsText: string;
  /** Extra variables, NAME=value lines. */
  envText: string;
  /** What stdout should be; the run gets a verdict. */
  expectedOutput: string;
}

export const EMPTY_SNIPPET_OPTIONS: SnippetOptionInputs = {
  interactive: false,
  tty: false,
  argsText: '',
  envText: '',
  expectedOutput: '',
};

/** The fields these options add to a snippet's `runs.create`, each only when it is set. */
export interface SnippetAdditions {
  interactive?: true;
  tty?: TerminalSize;
  args?: string[];
  env?: Record<string, string>;
  expectedOutput?: string;
}

/** The arguments typed, one per line (blank lines are none; a pasted `\r` is dropped). */
export function argsFromLines(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.replace(/\r$/, ''))
    .filter((line) => line.trim() !== '');
}

/** The options as `runs.create` fields, or what is wrong with the variables typed. */
export function snippetAdditions(
  inputs: SnippetOptionInputs,
): { additions: SnippetAdditions } | { error: string } {
  const env = envFromText(inputs.envText);
  if ('error' in env) return { error: env.error };
  const args = argsFromLines(inputs.argsText);
  return {
    additions: {
      ...(inputs.interactive || inputs.tty ? { interactive: true as const } : {}),
      // The page fits the terminal to the window as soon as it opens (runs.resize).
      ...(inputs.tty ? { tty: { ...DEFAULT_TERMINAL_SIZE } } : {}),
      ...(args.length > 0 ? { args } : {}),
      ...(Object.keys(env.env).length > 0 ? { env: env.env } : {}),
      ...(inputs.expectedOutput !== '' ? { expectedOutput: inputs.expectedOutput } : {}),
    },
  };
}

/**
 * A snippet's options back in the form ("run again"). Its expected output is not among what a
 * run shows (only its verdict), so that field starts empty.
 */
export function optionsFromRun(
  run: Pick<RunView, 'interactive' | 'tty' | 'args' | 'env'>,
): SnippetOptionInputs {
  return {
    interactive: run.interactive === true,
    tty: run.tty !== undefined,
    argsText: (run.args ?? []).join('\n'),
    envText: textFromEnv(run.env),
    expectedOutput: '',
  };
}
