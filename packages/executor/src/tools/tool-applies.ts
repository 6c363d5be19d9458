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
  constructor(toolId: string, globs: readonly string[]) {
    super(
      `the tool ${JSON.stringify(toolId)} does not apply to this project: no file matches ${globs.join(', ')} (name an entry file to run it anyway)`,
    );
    this.name = 'ToolNotApplicableError';
    this.toolId = toolId;
    this.globs = globs;
  }
}

/** Pure: whether a tool applies to a project, from its files' relative paths alone. */
export function toolAppliesTo(tool: Pick<Tool, 'appliesTo'>, files: readonly string[]): boolean {
  return filesMatching(files, tool.appliesTo.anyOf).length > 0;
}

/** The tools, in registry order, that apply to a project with these files. */
export function applicableTools<T extends Pick<Tool, 'appliesTo'>>(
  tools: readonly T[],
  files: readonly string[],
): T[] {
  return tools.filter((tool) => toolAppliesTo(tool, files));
}
