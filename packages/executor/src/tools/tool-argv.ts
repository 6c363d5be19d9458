import { SANDBOX_WORKSPACE } from '../sandbox/sandbox-command.ts';
import { filesMatching } from './tool-applies.ts';
import { SANDBOX_TOOLS_DIR } from './sandbox-tools.ts';

/**
 * The placeholders a tool's argv may use. `{{` and `}}` stand for literal braces; any other brace
 * must belong to one of these, or the argv is refused.
 */
export const TOOL_PLACEHOLDERS = {
  '{workspace}': `${SANDBOX_WORKSPACE}: the run's copy of the project, also the working directory`,
  '{tools}': `${SANDBOX_TOOLS_DIR}: the sandbox tools (TypeScript, ESLint, wrappers), read-only`,
  '{entry}':
    "the entry file, relative to the working directory: the run's choice, else the first of the tool's `entry` candidates the project has",
  '{files:GLOB}':
    'every project file that matches GLOB (see tool-applies.ts), sorted, each as its own argument; only as a whole argument, and it may expand to none',
  '{files}':
    'every project file the tool applies to (its appliesTo globs and shebangs), sorted, each as its own argument; only as a whole argument',
  '{args}':
    "the run's own arguments as the tool's `arguments` declare them (tool-arguments.ts), else its default operands; only as a whole argument",
} as const;

/** Placeholders with one value for every run; the only ones allowed in env values and binaries. */
const FIXED_VALUES: Readonly<Record<string, string>> = {
  workspace: SANDBOX_WORKSPACE,
  tools: SANDBOX_TOOLS_DIR,
};

export class ToolArgvError extends Error {
  /** The user's request is at fault, not runbox (see run-path/user-fault.ts). */
  readonly userFault = true;
  readonly code = 'TOOL_ARGV';
  /** The argument or entry that could not be expanded. */
  readonly text: string;
  /** The request's field at fault, when it is one of the run's own (`args.2`, `entry`). */
  readonly field: string | undefined;
  /** The rule it broke (`path-traversal`, `unknown-option`, ...), with `field`. */
  readonly rule: string | undefined;
  constructor(text: string, problem: string, where?: { field: string; rule: string }) {
    super(
      where
        ? `${where.field} ${JSON.stringify(text)}: ${problem}`
        : `${JSON.stringify(text)}: ${problem}`,
    );
    this.name = 'ToolArgvError';
    this.text = text;
    this.field = where?.field;
    this.rule = where?.rule;
  }
}

export type PlaceholderPiece = { literal: string } | { placeholder: string };

/** Splits a text into literals and `{name}` placeholders; throws on a stray brace. */
export function parsePlaceholders(text: string): PlaceholderPiece[] {
  const pieces: PlaceholderPiece[] = [];
  let literal = '';
  let index = 0;
  while (index < text.length) {
    const char = text[index] as string;
    const next = text[index + 1];
    if ((char === '{' && next === '{') || (char === '}' && next === '}')) {
      literal += char;
      index += 2;
    } else if (char === '{') {
      const close = text.indexOf('}', index + 1);
      const open = text.indexOf('{', index + 1);
      if (close < 0 || (open >= 0 && open < close)) {
        throw new ToolArgvError(text, `unclosed "{" at ${index} (write "{{" for a literal brace)`);
      }
      if (literal) pieces.push({ literal });
      literal = '';
      pieces.push({ placeholder: text.slice(index + 1, close) });
      index = close + 1;
    } else if (char === '}') {
      throw new ToolArgvError(text, `stray "}" at ${index} (write "}}" for a literal brace)`);
    } else {
      literal += char;
      index += 1;
    }
  }
  if (literal) pieces.push({ literal });
  return pieces;
}

const KNOWN = Object.keys(TOOL_PLACEHOLDERS).join(', ');

/** The names of the placeholders in a text, e.g. `['tools', 'files:*.sh']`. */
export function placeholdersIn(text: string): string[] {
  return parsePlaceholders(text).flatMap((piece) =>
    'placeholder' in piece ? [piece.placeholder] : [],
  );
}

/** Expands `{workspace}` and `{tools}`; any other placeholder is refused. For env and binaries. */
export function expandFixedPlaceholders(text: string): string {
  return parsePlaceholders(text)
    .map((piece) => {
      if ('literal' in piece) return piece.literal;
      const value = FIXED_VALUES[piece.placeholder];
      if (value === undefined) {
        throw new ToolArgvError(
          text,
          `unknown placeholder {${piece.placeholder}} here (only {workspace} and {tools})`,
        );
      }
      return value;
    })
    .join('');
}

export interface ToolArgvContext {
  /** The project's files, relative to the workspace, with forward slashes. */
  files: readonly string[];
  /** The value of `{entry}`; an argv that uses it without one is refused. */
  entry?: string | undefined;
  /** The value of `{files}`: the files the tool applies to; an argv that uses it without is refused. */
  applicable?: readonly string[] | undefined;
  /** The value of `{args}`, already checked and expanded (tool-arguments.ts); none when left out. */
  args?: readonly string[] | undefined;
}

const FILES_PREFIX = 'files:';

/** A project path as an argument: `./-x` for `-x`, so that no file name is read as an option. */
function asArgument(path: string): string {
  return path.startsWith('-') ? `./${path}` : path;
}

/** Pure: a tool's argv with its placeholders filled in for one project. */
export function expandToolArgv(argv: readonly string[], context: ToolArgvContext): string[] {
  const expanded = expandArguments(argv, context);
  if (!expanded[0]) throw new ToolArgvError(argv.join(' '), 'expands to no program');
  return expanded;
}

/** Pure: arguments with their placeholders filled in (some may expand to none). */
export function expandArguments(argv: readonly string[], context: ToolArgvContext): string[] {
  const sortedFiles = [...context.files].sort();
  return argv.flatMap((argument) => {
    const pieces = parsePlaceholders(argument);
    const only = pieces.length === 1 ? pieces[0] : undefined;
    if (only && 'placeholder' in only && only.placeholder.startsWith(FILES_PREFIX)) {
      const glob = only.placeholder.slice(FILES_PREFIX.length);
      if (glob === '') throw new ToolArgvError(argument, '{files:GLOB} needs a glob');
      return filesMatching(sortedFiles, [glob]).map(asArgument);
    }
    if (only && 'placeholder' in only && only.placeholder === 'files') {
      if (!context.applicable)
        throw new ToolArgvError(
          argument,
          'uses {files}, but the files the tool applies to are not known',
        );
      return [...context.applicable].sort().map(asArgument);
    }
    // The run's arguments were checked against the tool's declaration; each goes as it is.
    if (only && 'placeholder' in only && only.placeholder === 'args')
      return [...(context.args ?? [])];
    return [
      pieces
        .map((piece) => {
          if ('literal' in piece) return piece.literal;
          const name = piece.placeholder;
          const fixed = FIXED_VALUES[name];
          if (fixed !== undefined) return fixed;
          if (name === 'entry') {
            if (context.entry === undefined) {
              throw new ToolArgvError(argument, 'uses {entry}, but the project has no entry file');
            }
            return asArgument(context.entry);
          }
          if (name.startsWith(FILES_PREFIX) || name === 'files' || name === 'args') {
            throw new ToolArgvError(argument, `{${name}} must be a whole argument`);
          }
          throw new ToolArgvError(argument, `unknown placeholder {${name}} (known: ${KNOWN})`);
        })
        .join(''),
    ];
  });
}

/**
 * The entry file for `{entry}`: the one the run asked for, which must be a file of the project,
 * else the first of the tool's candidates the project has (undefined when none).
 */
export function chooseEntry(
  candidates: readonly string[] | undefined,
  files: readonly string[],
  requested?: string,
): string | undefined {
  const present = new Set(files);
  if (requested !== undefined) {
    if (!present.has(requested)) {
      throw new ToolArgvError(requested, 'the entry is not a file of the project');
    }
    return requested;
  }
  return candidates?.find((candidate) => present.has(candidate));
}
