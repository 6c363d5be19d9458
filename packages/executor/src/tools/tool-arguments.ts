import { matchesGlob as matchesNodeGlob } from 'node:path';
import { z } from 'zod';
import { filePathRefusal, type FieldRefusal } from '../engine/snippet-fields.ts';
import { ToolArgvError } from './tool-argv.ts';

/**
 * The arguments a tool run may add (docs/api.md, "Tool fields"): each tool of the registry declares
 * its options (`-k EXPRESSION`, `--maxfail=N`, `-x`) and its operands (paths inside the project,
 * globs, program arguments); a run's `args` are read against that declaration like a command line
 * and passed on as argv, never through a shell. A path must name a file or directory of the
 * project, relative, without `..`, as the project was listed (no link followed on the host).
 */

/** What one value may be. `name` is how the UI and messages call it (`EXPRESSION`, `PATH`). */
export const toolValueSchema = z.discriminatedUnion('kind', [
  /** Any text (no NUL): an expression, a program argument. */
  z.object({ kind: z.literal('text'), name: z.string().min(1).max(40) }).strict(),
  /**
   * A file or directory of the project (`.` is the project itself). `testId`: a `::` suffix may
   * follow the path (pytest's `tests/test_a.py::test_one`).
   */
  z
    .object({
      kind: z.literal('path'),
      name: z.string().min(1).max(40),
      accepts: z.enum(['file', 'directory', 'any']).default('any'),
      testId: z.boolean().default(false),
    })
    .strict(),
  /** A glob relative to the project (Node's glob syntax) that must match one of its files. */
  z.object({ kind: z.literal('glob'), name: z.string().min(1).max(40) }).strict(),
  z
    .object({
      kind: z.literal('integer'),
      name: z.string().min(1).max(40),
      min: z.number().int(),
      max: z.number().int(),
    })
    .strict(),
  z
    .object({
      kind: z.literal('choice'),
      oneOf: z.array(z.string().min(1).max(64)).min(1).max(32),
    })
    .strict(),
  /** Text matching a regular expression (a list of rule codes, of directory names). */
  z
    .object({
      kind: z.literal('pattern'),
      name: z.string().min(1).max(40),
      pattern: z.string().min(1).max(200),
      /** Shown when a value does not match, e.g. `SC2086,SC2034`. */
      example: z.string().min(1).max(100),
    })
    .strict(),
]);
export type ToolValue = z.infer<typeof toolValueSchema>;

const OPTION_NAME = /^(-[A-Za-z0-9]|--[A-Za-z0-9][A-Za-z0-9-]*)$/;

export const toolOptionSchema = z
  .object({
    /** As the run writes it: `-k`, `--maxfail`. */
    name: z.string().regex(OPTION_NAME, 'an option such as -k or --maxfail'),
    /** Other spellings the run may use (`--exitfirst` for `-x`); passed on as `name`. */
    aliases: z.array(z.string().regex(OPTION_NAME)).max(4).default([]),
    /** The option's value; none for a flag. */
    value: toolValueSchema.optional(),
    /** How runbox passes a value on: `-k EXPR` (separate) or `--maxfail=3` (joined). */
    form: z.enum(['separate', 'joined']).default('separate'),
    /** Whether the option may be given more than once. */
    repeatable: z.boolean().default(false),
    description: z.string().min(1).max(300),
  })
  .strict();
export type ToolOption = z.infer<typeof toolOptionSchema>;

export const toolArgumentsSchema = z
  .object({
    /** One sentence for users: what the arguments are. */
    description: z.string().min(1).max(300),
    options: z.array(toolOptionSchema).max(32).default([]),
    /** What follows the options: files, globs, program arguments. None: the tool takes none. */
    operands: z
      .object({
        value: toolValueSchema,
        max: z.number().int().min(1).max(256),
        description: z.string().min(1).max(300),
        /**
         * What goes in their place when the run gives none (with placeholders such as `{files}` or
         * `.`); none when left out.
         */
        default: z.array(z.string().max(4096)).max(16).default([]),
      })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((declaration, context) => {
    const seen = new Set<string>();
    declaration.options.forEach((option, index) => {
      for (const spelling of [option.name, ...option.aliases]) {
        if (seen.has(spelling))
          context.addIssue({
            code: 'custom',
            path: ['options', index, 'name'],
            message: `${spelling} is declared twice`,
          });
        seen.add(spelling);
      }
      if (option.form === 'joined' && !option.name.startsWith('--'))
        context.addIssue({
          code: 'custom',
          path: ['options', index, 'form'],
          message: 'only a long option (--name) is passed joined (--name=value)',
        });
      if (option.form === 'joined' && option.value === undefined)
        context.addIssue({
          code: 'custom',
          path: ['options', index, 'form'],
          message: 'a flag has no value to join',
        });
    });
    const values: [ToolValue | undefined, (string | number)[]][] = [
      ...declaration.options.map((option, index): [ToolValue | undefined, (string | number)[]] => [
        option.value,
        ['options', index, 'value'],
      ]),
      [declaration.operands?.value, ['operands', 'value']],
    ];
    for (const [value, path] of values) {
      if (value?.kind === 'pattern') {
        try {
          new RegExp(value.pattern, 'u');
        } catch (error) {
          context.addIssue({ code: 'custom', path, message: (error as Error).message });
        }
      }
      if (value?.kind === 'integer' && value.min > value.max)
        context.addIssue({ code: 'custom', path, message: 'min is above max' });
    }
  });
export type ToolArguments = z.infer<typeof toolArgumentsSchema>;

/** What a run's paths are checked against: the project as listed, no link followed. */
export interface ProjectListing {
  files: readonly string[];
  directories: readonly string[];
  /** Links of the project (kept or not): a path through one is the sandbox's to resolve. */
  links?: readonly string[] | undefined;
}

/** A run's arguments, read against the declaration. */
export interface ReadToolArguments {
  /** The options as runbox passes them (`-k`, `add`, `--maxfail=3`), in the run's order. */
  options: string[];
  /** The operands as runbox passes them; empty when the run gave none. */
  operands: string[];
}

function refuse(index: number, text: string, refusal: FieldRefusal): never {
  throw new ToolArgvError(text, refusal.message, { field: `args.${index}`, rule: refusal.rule });
}

function spellings(declaration: ToolArguments): string {
  const names = declaration.options.map((option) => option.name);
  return names.length > 0 ? names.join(', ') : 'no options';
}

/**
 * A path as the run wrote it, checked: relative, inside the project, no `..`, and a file or
 * directory the listing has (or one under a link, which the sandbox resolves, never the host).
 * Returns the path as passed on (`./` and a trailing `/` dropped; `.` for the project itself).
 */
function checkPath(
  value: Extract<ToolValue, { kind: 'path' }>,
  text: string,
  project: ProjectListing,
): FieldRefusal | string {
  let path = text;
  let suffix = '';
  if (value.testId && path.includes('::')) {
    suffix = path.slice(path.indexOf('::'));
    path = path.slice(0, path.indexOf('::'));
  }
  while (path.startsWith('./')) path = path.slice(2);
  if (path.length > 1) path = path.replace(/\/+$/, '');
  if (text === '') return filePathRefusal('') ?? { rule: 'invalid-component', message: 'empty' };
  if (path === '.' || path === '') {
    if (suffix !== '' || value.accepts === 'file')
      return { rule: 'not-a-file', message: 'the project itself is not a file' };
    return '.';
  }
  // Depth is the listing's to bound: a project may nest deeper than a snippet's files.
  const refused = filePathRefusal(path);
  if (refused && refused.rule !== 'path-too-deep') return refused;
  const isFile = project.files.includes(path);
  const isDirectory = project.directories.includes(path);
  const throughLink = (project.links ?? []).some(
    (link) => path === link || path.startsWith(`${link}/`),
  );
  if (!isFile && !isDirectory && !throughLink)
    return { rule: 'not-found', message: `${path} is not a file or directory of the project` };
  if (value.accepts === 'file' && isDirectory)
    return { rule: 'not-a-file', message: `${path} is a directory; a file is needed here` };
  if (value.accepts === 'directory' && isFile)
    return { rule: 'not-a-directory', message: `${path} is a file; a directory is needed here` };
  if (suffix !== '' && isDirectory)
    return { rule: 'not-a-file', message: `${path} is a directory; a test id needs a file` };
  return `${path}${suffix}`;
}

/** A glob relative to the project that matches at least one of its files (Node's own matcher). */
function checkGlob(text: string, project: ProjectListing): FieldRefusal | string {
  if (text.startsWith('/'))
    return { rule: 'absolute-path', message: 'globs are relative to the project' };
  if (text.includes('\\'))
    return { rule: 'backslash', message: 'use / to separate directories; \\ is not allowed' };
  const glob = text.replace(/^(\.\/)+/, '');
  if (glob.split('/').includes('..'))
    return { rule: 'path-traversal', message: '.. components are not allowed' };
  if (glob === '' || glob.split('/').some((part) => part === '' || part === '.'))
    return { rule: 'invalid-component', message: 'empty and "." components are not allowed' };
  if (!project.files.some((file) => matchesNodeGlob(file, glob)))
    return { rule: 'no-match', message: `no file of the project matches ${glob}` };
  return glob;
}

/** A value checked against its declaration: what is passed on, or why it is refused. */
function checkValue(
  value: ToolValue,
  text: string,
  project: ProjectListing,
): FieldRefusal | string {
  switch (value.kind) {
    case 'text':
      return text;
    case 'path':
      return checkPath(value, text, project);
    case 'glob':
      return checkGlob(text, project);
    case 'integer': {
      if (!/^-?\d{1,10}$/.test(text))
        return { rule: 'not-an-integer', message: `${value.name} is a whole number` };
      const number = Number(text);
      if (number < value.min || number > value.max)
        return {
          rule: 'out-of-range',
          message: `${value.name} is ${value.min} to ${value.max}`,
        };
      return String(number);
    }
    case 'choice':
      return value.oneOf.includes(text)
        ? text
        : { rule: 'not-a-choice', message: `one of ${value.oneOf.join(', ')}` };
    case 'pattern':
      return new RegExp(value.pattern, 'u').test(text)
        ? text
        : {
            rule: 'pattern',
            message: `${value.name} is written like ${value.example}`,
          };
  }
}

/**
 * Reads a run's `args` against a tool's declaration, like a command line: an option by its name
 * or an alias, its value in the next argument or after `=` (`--maxfail=3`, and `-kEXPR` for a
 * short one); anything else is an operand. A tool whose operands are text and which has no
 * options (a program's own arguments) takes every argument as an operand, dashes and all.
 * Throws ToolArgvError naming the argument (`args.2`) and the rule it broke.
 */
export function readToolArguments(
  toolId: string,
  declaration: ToolArguments | undefined,
  args: readonly string[],
  project: ProjectListing,
): ReadToolArguments {
  const read: ReadToolArguments = { options: [], operands: [] };
  if (args.length === 0) return read;
  if (!declaration)
    throw new ToolArgvError(
      args[0] ?? '',
      `the tool ${JSON.stringify(toolId)} takes no arguments`,
      {
        field: 'args.0',
        rule: 'no-arguments',
      },
    );
  const operands = declaration.operands;
  const programArguments = declaration.options.length === 0 && operands?.value.kind === 'text';
  const given = new Set<string>();
  for (let index = 0; index < args.length; index++) {
    const text = args[index] as string;
    if (text.includes('\0'))
      refuse(index, text, { rule: 'nul', message: 'NUL cannot be passed in an argument' });
    if (!programArguments && text.startsWith('-') && text !== '-') {
      const equals = text.startsWith('--') ? text.indexOf('=') : -1;
      const spelled = equals > 0 ? text.slice(0, equals) : text;
      let option = declaration.options.find(
        (candidate) => candidate.name === spelled || candidate.aliases.includes(spelled),
      );
      let inline: string | undefined = equals > 0 ? text.slice(equals + 1) : undefined;
      if (!option && !text.startsWith('--') && text.length > 2) {
        // `-kEXPR`: a short option with its value attached.
        option = declaration.options.find(
          (candidate) => candidate.value !== undefined && candidate.name === text.slice(0, 2),
        );
        if (option) inline = text.slice(2);
      }
      if (!option)
        refuse(index, text, {
          rule: 'unknown-option',
          message: `${spelled} is not an option ${toolId} takes here (it takes ${spellings(declaration)})`,
        });
      if (given.has(option.name) && !option.repeatable)
        refuse(index, text, { rule: 'repeated-option', message: `${option.name} is given twice` });
      given.add(option.name);
      if (!option.value) {
        if (inline !== undefined)
          refuse(index, text, {
            rule: 'unexpected-value',
            message: `${option.name} takes no value`,
          });
        read.options.push(option.name);
        continue;
      }
      let valueIndex = index;
      if (inline === undefined) {
        valueIndex = index + 1;
        inline = args[valueIndex];
        if (inline === undefined)
          refuse(index, text, {
            rule: 'missing-value',
            message: `${option.name} needs a value (${option.value.kind === 'choice' ? option.value.oneOf.join(', ') : option.value.name})`,
          });
        index = valueIndex;
      }
      const checked = checkValue(option.value, inline, project);
      if (typeof checked !== 'string') {
        refuse(valueIndex, inline, {
          rule: checked.rule,
          message: `${option.name}: ${checked.message}`,
        });
      }
      if (option.form === 'joined') read.options.push(`${option.name}=${checked}`);
      else read.options.push(option.name, checked);
      continue;
    }
    if (!operands)
      refuse(index, text, {
        rule: 'no-operands',
        message: `${toolId} takes options only (${spellings(declaration)})`,
      });
    if (read.operands.length >= operands.max)
      refuse(index, text, {
        rule: 'too-many-operands',
        message: `at most ${operands.max} ${operands.value.kind === 'choice' ? 'values' : operands.value.name}`,
      });
    const checked = checkValue(operands.value, text, project);
    if (typeof checked !== 'string') refuse(index, text, checked);
    read.operands.push(checked);
  }
  return read;
}
