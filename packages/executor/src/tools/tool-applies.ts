import type { Tool } from './tool-schema.ts';

/**
 * Globs over a project's relative file paths (forward slashes), in the manner of .gitignore:
 * - a glob without a slash matches a file's name at any depth (`*.py` matches `src/a.py`);
 * - a glob with a slash matches the whole path, and a leading slash only anchors it at the
 *   project's root (`/main.py` is the top-level main.py only);
 * - `*` matches within one path segment, `?` one character of it, `**` any number of segments.
 * No brace sets or character classes: list several globs instead.
 */
export function globToRegExp(glob: string): RegExp {
  const anchored = glob.startsWith('/');
  const body = anchored ? glob.slice(1) : glob;
  const anywhere = !anchored && !body.includes('/');
  let pattern = '';
  for (let index = 0; index < body.length; index++) {
    const char = body[index] as string;
    if (char === '*' && body[index + 1] === '*') {
      const atSegmentStart = index === 0 || body[index - 1] === '/';
      if (atSegmentStart && body[index + 2] === '/') {
        pattern += '(?:[^/]+/)*';
        index += 2;
      } else {
        pattern += '.*';
        index += 1;
      }
    } else if (char === '*') {
      pattern += '[^/]*';
    } else if (char === '?') {
      pattern += '[^/]';
    } else {
      pattern += char.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
  }
  return new RegExp(`^${anywhere ? '(?:[^/]+/)*' : ''}${pattern}$`);
}

export function matchesGlob(path: string, glob: string): boolean {
  return globToRegExp(glob).test(path);
}

/** The files (relative paths) that match at least one of the globs, in the order given. */
export function filesMatching(files: readonly string[], globs: readonly string[]): string[] {
  const patterns = globs.map(globToRegExp);
  return files.filter((file) => patterns.some((pattern) => pattern.test(file)));
}

/** A tool was asked to run on a project it does not apply to (no file matches its globs). */
export class ToolNotApplicableError extends Error {
  readonly code = 'TOOL_NOT_APPLICABLE';
  /** The user's request is at fault, not runbox (see run-path/user-fault.ts). */
  readonly userFault = true;
  readonly toolId: string;
  readonly globs: readonly string[];
  readonly shebangs: readonly string[];
  constructor(
    toolId: string,
    globs: readonly string[],
    options: { shebangs?: readonly string[]; takesEntry?: boolean; takesOperands?: boolean } = {},
  ) {
    const shebangs = options.shebangs ?? [];
    const what =
      shebangs.length > 0
        ? `no file matches ${globs.join(', ')}, and no file without an extension starts with a ${shebangs.join(', ')} shebang (#!/bin/sh, #!/usr/bin/env bash, ...)`
        : `no file matches ${globs.join(', ')}`;
    const hint = [
      options.takesEntry !== false ? 'name an entry file to run it anyway' : null,
      options.takesOperands ? 'name the files in its arguments' : null,
    ]
      .filter((part) => part !== null)
      .join(', or ');
    super(
      `the tool ${JSON.stringify(toolId)} does not apply to this project: ${what}${hint ? ` (${hint})` : ''}`,
    );
    this.name = 'ToolNotApplicableError';
    this.toolId = toolId;
    this.globs = globs;
    this.shebangs = shebangs;
  }
}

/** Pure: whether a tool applies to a project, from its files' relative paths alone (no shebangs). */
export function toolAppliesTo(tool: Pick<Tool, 'appliesTo'>, files: readonly string[]): boolean {
  return filesMatching(files, tool.appliesTo.anyOf).length > 0;
}

/** The tools, in registry order, that apply to a project with these files (by their globs). */
export function applicableTools<T extends Pick<Tool, 'appliesTo'>>(
  tools: readonly T[],
  files: readonly string[],
): T[] {
  return tools.filter((tool) => toolAppliesTo(tool, files));
}

/** The bytes of a file's start that are read for its shebang. */
export const SHEBANG_HEAD_BYTES = 256;
/** Files without an extension read for a shebang at most, per project. */
export const MAX_SHEBANG_READS = 4096;

/** Whether a path's file name has no extension (`deploy`, `bin/run`, `.envrc`; not `a.txt`). */
export function hasNoExtension(path: string): boolean {
  const name = path.slice(path.lastIndexOf('/') + 1);
  return !name.slice(1).includes('.');
}

/**
 * The interpreter a script's first line names, by its file name: `#!/bin/sh` → `sh`,
 * `#! /usr/bin/bash -e` → `bash`, `#!/usr/bin/env bash` and `#!/usr/bin/env -S bash -eu` →
 * `bash`. Null without a shebang.
 */
export function shebangInterpreter(head: string): string | null {
  if (!head.startsWith('#!')) return null;
  const line = head.slice(2).split(/\r?\n/, 1)[0] ?? '';
  const words = line
    .trim()
    .split(/[ \t]+/)
    .filter((word) => word !== '');
  const baseName = (word: string): string => word.slice(word.lastIndexOf('/') + 1);
  const program = words[0];
  if (program === undefined) return null;
  if (baseName(program) !== 'env') return baseName(program);
  // env's own options (-S splits the rest, -i empties the environment) come before the program.
  const target = words.slice(1).find((word) => !word.startsWith('-') && !word.includes('='));
  return target === undefined ? null : baseName(target);
}

/**
 * The files a tool applies to, sorted: those its globs match, and, when it names interpreters in
 * `appliesTo.shebangs`, every file without an extension whose first line is a shebang of one of
 * them. `readHead` gives a file's first bytes (null when it cannot be read as a plain file: the
 * host never follows a link to read one).
 */
export async function applicableFiles(
  tool: Pick<Tool, 'appliesTo'>,
  files: readonly string[],
  readHead: (path: string) => Promise<Buffer | null>,
): Promise<string[]> {
  const matched = new Set(filesMatching(files, tool.appliesTo.anyOf));
  const shebangs = tool.appliesTo.shebangs ?? [];
  if (shebangs.length > 0) {
    const candidates = files
      .filter((file) => !matched.has(file) && hasNoExtension(file))
      .slice(0, MAX_SHEBANG_READS);
    for (const file of candidates) {
      const head = await readHead(file);
      const interpreter = head ? shebangInterpreter(head.toString('latin1')) : null;
      if (interpreter !== null && shebangs.includes(interpreter)) matched.add(file);
    }
  }
  return [...matched].sort();
}
