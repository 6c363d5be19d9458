import type { RunWarning } from '../engine/run-events.ts';
import { readWorkspaceFile } from '../sandbox/safe-fs.ts';
import {
  applicableFiles,
  filesMatching,
  SHEBANG_HEAD_BYTES,
  ToolNotApplicableError,
} from './tool-applies.ts';
import { readToolArguments, type ProjectListing } from './tool-arguments.ts';
import {
  chooseEntry,
  expandArguments,
  expandFixedPlaceholders,
  expandToolArgv,
  placeholdersIn,
  ToolArgvError,
} from './tool-argv.ts';
import { toolEnv } from './tool-env.ts';
import type { Tool } from './tool-schema.ts';

/** A variable set because the project is laid out as the tool expects, and why. */
export interface DetectedEnv {
  name: string;
  value: string;
  reason: string;
  /** The first file that showed the layout. */
  file: string;
}

/** What one tool run starts: its argv and environment, and what the run should be told. */
export interface ToolCommand {
  argv: string[];
  env: Record<string, string>;
  detected: DetectedEnv[];
  /** Shown on the run (its warnings): the variables set from the project's layout. */
  notices: RunWarning[];
}

/** Whether a tool's argv takes an entry file. */
export function usesEntry(tool: Pick<Tool, 'argv'>): boolean {
  return tool.argv.some((argument) => placeholdersIn(argument).includes('entry'));
}

/** The start of a project file, read without following a link; null when it is not a plain file. */
function headReader(projectDir: string): (path: string) => Promise<Buffer | null> {
  return (path) => readWorkspaceFile(projectDir, path, SHEBANG_HEAD_BYTES).catch(() => null);
}

/** The variables the tool sets for this project's layout, unless the run sets them itself. */
export function detectEnv(
  tool: Pick<Tool, 'detectedEnv'>,
  files: readonly string[],
  own: Readonly<Record<string, string>> = {},
): DetectedEnv[] {
  return (tool.detectedEnv ?? []).flatMap((detected) => {
    if (Object.hasOwn(own, detected.name)) return [];
    const file = filesMatching(files, detected.when)[0];
    return file === undefined
      ? []
      : [
          {
            name: detected.name,
            value: expandFixedPlaceholders(detected.value),
            reason: detected.reason,
            file,
          },
        ];
  });
}

/**
 * A tool run's command for a project as listed (no link followed): the run's `args` read against
 * the tool's declaration, its entry, the files it applies to (globs, and shebangs read from the
 * project), the run's `env` over what the layout calls for, under the tool's own environment.
 * Refuses what cannot run: an entry for a tool that takes none, arguments the tool does not take
 * (ToolArgvError naming `args.N` and the rule), a project with no file the tool applies to
 * (ToolNotApplicableError saying what it looked for).
 */
export async function toolCommand(options: {
  tool: Tool;
  projectDir: string;
  listing: ProjectListing;
  entry?: string | undefined;
  args?: readonly string[] | undefined;
  env?: Readonly<Record<string, string>> | undefined;
}): Promise<ToolCommand> {
  const { tool, listing } = options;
  const takesEntry = usesEntry(tool);
  if (options.entry !== undefined && !takesEntry)
    throw new ToolArgvError(
      options.entry,
      `the tool ${JSON.stringify(tool.id)} takes no entry file${tool.arguments?.operands ? ' (name files in its arguments)' : ''}`,
      { field: 'entry', rule: 'entry-unused' },
    );
  const read = readToolArguments(tool.id, tool.arguments, options.args ?? [], listing);
  const applicable = await applicableFiles(tool, listing.files, headReader(options.projectDir));
  const operandKind = tool.arguments?.operands?.value.kind;
  const selectsFiles = operandKind === 'path' || operandKind === 'glob';
  const namedFiles = selectsFiles && read.operands.length > 0;
  if (options.entry === undefined && !namedFiles && applicable.length === 0)
    throw new ToolNotApplicableError(tool.id, tool.appliesTo.anyOf, {
      shebangs: tool.appliesTo.shebangs ?? [],
      takesEntry,
      takesOperands: selectsFiles,
    });
  const context = { files: listing.files, applicable };
  const operands =
    read.operands.length > 0
      ? read.operands
      : expandArguments(tool.arguments?.operands?.default ?? [], context);
  const argv = expandToolArgv(tool.argv, {
    ...context,
    entry: chooseEntry(tool.entry, listing.files, options.entry),
    args: [...read.options, ...operands],
  });
  const detected = detectEnv(tool, listing.files, options.env);
  const env: Record<string, string> = {};
  for (const variable of detected) env[variable.name] = variable.value;
  // The run's own names were checked (snippet-fields.ts envNameRefusal): none is the sandbox's.
  Object.assign(env, options.env, toolEnv(tool));
  return {
    argv,
    env,
    detected,
    notices: detected.map((variable) => ({
      check: 'tool-env',
      rule: 'detected-env',
      message: `${variable.name}=${variable.value} was set: ${variable.reason} (${variable.file})`,
    })),
  };
}
