/**
 * A small Dockerfile reader for the static tests: instructions with their line, flags and
 * arguments, line continuations joined the way BuildKit joins them (comment lines inside a
 * continuation dropped), grouped into build stages. Heredocs and a non-default escape character
 * are refused rather than misread.
 */

export interface Instruction {
  /** Upper-case keyword: FROM, RUN, COPY, ... */
  keyword: string;
  /** `--name=value` options before the arguments (COPY --from=build, HEALTHCHECK --interval=30s). */
  flags: Record<string, string>;
  /** The arguments after the flags, continuations joined. */
  args: string;
  /** The arguments of the JSON (exec) form, or null for the shell form. */
  exec: string[] | null;
  /** 1-based line where the instruction starts. */
  line: number;
}

export interface Stage {
  /** The FROM reference: an image, or the name of an earlier stage. */
  from: string;
  /** `AS name`, or null. */
  name: string | null;
  /** The stage's instructions after its FROM. */
  instructions: Instruction[];
}

export class DockerfileError extends Error {
  constructor(line: number, problem: string) {
    super(`Dockerfile line ${line}: ${problem}`);
    this.name = 'DockerfileError';
  }
}

const FLAGGED = new Set(['FROM', 'COPY', 'ADD', 'RUN', 'HEALTHCHECK']);

function splitFlags(
  keyword: string,
  rest: string,
  line: number,
): { flags: Record<string, string>; args: string } {
  const flags: Record<string, string> = {};
  let args = rest;
  if (!FLAGGED.has(keyword)) return { flags, args };
  for (;;) {
    const match = /^--([a-z][a-z-]*)(?:=(\S*))?(?:\s+|$)/.exec(args);
    if (!match) break;
    const name = match[1] ?? '';
    if (Object.hasOwn(flags, name)) throw new DockerfileError(line, `--${name} given twice`);
    flags[name] = match[2] ?? '';
    args = args.slice(match[0].length);
  }
  return { flags, args };
}

function execForm(args: string, line: number): string[] | null {
  if (!args.startsWith('[')) return null;
  try {
    const parsed: unknown = JSON.parse(args);
    if (Array.isArray(parsed) && parsed.every((item) => typeof item === 'string')) return parsed;
  } catch {
    // not JSON: Docker runs it as a shell command, which a test should notice
  }
  throw new DockerfileError(line, `"[" starts an argument list that is not a JSON string array`);
}

export function parseDockerfile(source: string): Instruction[] {
  const rawLines = source.split(/\r?\n/);
  const instructions: Instruction[] = [];
  let inDirectives = true;
  let pending: { text: string; line: number } | null = null;

  const finish = (text: string, line: number): void => {
    const match = /^([A-Za-z]+)(?:\s+([\s\S]*))?$/.exec(text.trim());
    if (!match) throw new DockerfileError(line, `not an instruction: ${text.trim()}`);
    const keyword = (match[1] ?? '').toUpperCase();
    const rest = (match[2] ?? '').trim();
    if (/<<-?["']?[A-Za-z_]/.test(rest) && (keyword === 'RUN' || keyword === 'COPY')) {
      throw new DockerfileError(line, 'heredocs are not supported by this reader');
    }
    const { flags, args } = splitFlags(keyword, rest, line);
    instructions.push({ keyword, flags, args, exec: execForm(args, line), line });
  };

  rawLines.forEach((raw, index) => {
    const number = index + 1;
    const trimmed = raw.trim();
    if (inDirectives) {
      const directive = /^#\s*([a-zA-Z]+)\s*=\s*(.*)$/.exec(trimmed);
      if (directive) {
        if ((directive[1] ?? '').toLowerCase() === 'escape' && directive[2]?.trim() !== '\\') {
          throw new DockerfileError(number, 'only the default escape character is supported');
        }
        return;
      }
      inDirectives = false;
    }
    if (trimmed.startsWith('#')) return;
    if (trimmed === '') return;
    const continues = /\\\s*$/.test(raw);
    const body = continues ? raw.replace(/\\\s*$/, '') : raw;
    if (pending) pending.text += body;
    else pending = { text: body, line: number };
    if (!continues) {
      finish(pending.text, pending.line);
      pending = null;
    }
  });
  if (pending) {
    const last: { text: string; line: number } = pending;
    throw new DockerfileError(last.line, 'the last instruction ends with a line continuation');
  }
  return instructions;
}

export function stagesOf(instructions: readonly Instruction[]): Stage[] {
  const stages: Stage[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') {
      const [from, as, name, ...extra] = instruction.args.split(/\s+/);
      if (!from || (as !== undefined && (as.toUpperCase() !== 'AS' || !name)) || extra.length) {
        throw new DockerfileError(
          instruction.line,
          `FROM ${instruction.args}: expected IMAGE [AS NAME]`,
        );
      }
      stages.push({ from, name: name ?? null, instructions: [] });
      continue;
    }
    const stage = stages.at(-1);
    if (!stage) {
      if (instruction.keyword === 'ARG') continue;
      throw new DockerfileError(instruction.line, `${instruction.keyword} before the first FROM`);
    }
    stage.instructions.push(instruction);
  }
  return stages;
}

/** `KEY=value` pairs of an ENV or ARG instruction (also the legacy `ENV KEY value` form). */
export function keyValues(instruction: Instruction): Map<string, string> {
  const pairs = new Map<string, string>();
  const text = instruction.args.trim();
  if (!/^[A-Za-z_][A-Za-z0-9_]*=/.test(text)) {
    const [key, ...value] = text.split(/\s+/);
    if (key) pairs.set(key, value.join(' '));
    return pairs;
  }
  const pattern = /([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|'[^']*'|\S*)\s*/gy;
  let match: RegExpExecArray | null;
  let consumed = 0;
  while ((match = pattern.exec(text)) !== null && match[0] !== '') {
    const raw = match[2] ?? '';
    const value =
      raw.startsWith('"') || raw.startsWith("'") ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw;
    pairs.set(match[1] ?? '', value);
    consumed = pattern.lastIndex;
  }
  if (consumed !== text.length) {
    throw new DockerfileError(instruction.line, `cannot read ${instruction.keyword} ${text}`);
  }
  return pairs;
}
