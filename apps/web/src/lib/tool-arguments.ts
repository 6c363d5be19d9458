/**
 * The arguments a tool run may add, as the new-run form offers them: one control per option the
 * tool declares (`tools.list`), its operands one per line, extra variables as NAME=value lines.
 * The server reads `args` against the same declaration and refuses what breaks it, naming the
 * argument; the form only puts them in order.
 */

export type ToolValueView =
  | { kind: 'text'; name: string }
  | { kind: 'path'; name: string; accepts: 'file' | 'directory' | 'any'; testId: boolean }
  | { kind: 'glob'; name: string }
  | { kind: 'integer'; name: string; min: number; max: number }
  | { kind: 'choice'; oneOf: string[] }
  | { kind: 'pattern'; name: string; pattern: string; example: string };

export interface ToolOptionView {
  name: string;
  aliases: string[];
  value: ToolValueView | null;
  repeatable: boolean;
  description: string;
}

export interface ToolArgumentsView {
  description: string;
  options: ToolOptionView[];
  operands: { value: ToolValueView; max: number; description: string; default: string[] } | null;
}

/** What the form holds for one tool: each option's input ('on' for a set flag), the operands. */
export interface ArgumentInputs {
  options: Record<string, string>;
  /** One operand per line. */
  operands: string;
}

export const EMPTY_ARGUMENT_INPUTS: ArgumentInputs = { options: {}, operands: '' };

/** The operands typed, one per line; blank lines are none (`\r` of pasted text dropped). */
function operandLines(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.replace(/\r$/, ''))
    .filter((line) => line.trim() !== '');
}

/** The run's `args`: the options filled in, in the tool's order, then the operands. */
export function argsFromInputs(
  declaration: ToolArgumentsView | null | undefined,
  inputs: ArgumentInputs,
): string[] {
  if (!declaration) return [];
  const args: string[] = [];
  for (const option of declaration.options) {
    const input = inputs.options[option.name] ?? '';
    if (option.value === null) {
      if (input === 'on') args.push(option.name);
    } else if (input.trim() !== '') {
      args.push(option.name, option.value.kind === 'text' ? input : input.trim());
    }
  }
  if (declaration.operands) args.push(...operandLines(inputs.operands));
  return args;
}

/**
 * A run's `args` back in the form (for "run again"): options by any of their spellings, with the
 * value after `=` or in the next argument; the rest are operands. A repeated option keeps its
 * last value.
 */
export function inputsFromArgs(
  declaration: ToolArgumentsView | null | undefined,
  args: readonly string[],
): ArgumentInputs {
  const inputs: ArgumentInputs = { options: {}, operands: '' };
  const operands: string[] = [];
  const programArguments =
    !declaration?.options.length && declaration?.operands?.value.kind === 'text';
  for (let index = 0; index < args.length; index++) {
    const arg = args[index] as string;
    const equals = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const spelled = equals > 0 ? arg.slice(0, equals) : arg;
    const option = programArguments
      ? undefined
      : declaration?.options.find(
          (candidate) => candidate.name === spelled || candidate.aliases.includes(spelled),
        );
    if (!option) {
      operands.push(arg);
      continue;
    }
    if (option.value === null) inputs.options[option.name] = 'on';
    else if (equals > 0) inputs.options[option.name] = arg.slice(equals + 1);
    else inputs.options[option.name] = args[++index] ?? '';
  }
  inputs.operands = operands.join('\n');
  return inputs;
}

/** A value's placeholder text: what it is, and an example where the tool gives one. */
export function valueHint(value: ToolValueView): string {
  switch (value.kind) {
    case 'integer':
      return `${value.name}, ${value.min} to ${value.max}`;
    case 'pattern':
      return `e.g. ${value.example}`;
    case 'choice':
      return value.oneOf.join(', ');
    default:
      return value.name;
  }
}

/** Extra variables from NAME=value lines; the server checks the names. */
export function envFromText(
  text: string,
): { env: Record<string, string> } | { error: string; line: number } {
  const env: Record<string, string> = {};
  const lines = text.split('\n');
  for (const [index, raw] of lines.entries()) {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '') continue;
    const equals = line.indexOf('=');
    if (equals <= 0) return { error: `line ${index + 1}: write NAME=value`, line: index + 1 };
    env[line.slice(0, equals).trim()] = line.slice(equals + 1);
  }
  return { env };
}

/** A run's variables as the form shows them. */
export function textFromEnv(env: Readonly<Record<string, string>> | null | undefined): string {
  return Object.entries(env ?? {})
    .map(([name, value]) => `${name}=${value}`)
    .join('\n');
}
