import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';

/** A command that exited non-zero (or was killed), with the end of what it printed. */
export class CommandError extends Error {
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;
  constructor(argv: readonly string[], exitCode: number | null, stdout: string, stderr: string) {
    const tail = (stderr.trim() || stdout.trim()).split('\n').slice(-15).join('\n');
    super(`${argv.join(' ').slice(0, 300)} exited ${exitCode ?? 'by a signal'}\n${tail}`);
    this.name = 'CommandError';
    this.exitCode = exitCode;
    this.stdout = stdout;
    this.stderr = stderr;
  }
}

export interface CommandOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Written to the command's stdin, then closed. */
  input?: string | Buffer;
  /** A file every line of output is appended to as it comes (long builds: read it on failure). */
  logFile?: string;
  /** Resolve with the exit code instead of throwing when it is not 0. */
  allowFailure?: boolean;
}

export interface CommandResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

/** Runs argv without a shell and collects its output. */
export function runCommand(
  argv: readonly string[],
  options: CommandOptions = {},
): Promise<CommandResult> {
  const [file, ...args] = argv;
  if (!file) throw new TypeError('empty command');
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      env: options.env ?? process.env,
      cwd: options.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const log = (chunk: Buffer): void => {
      if (options.logFile) appendFileSync(options.logFile, chunk);
    };
    child.stdout.on('data', (chunk: Buffer) => {
      out.push(chunk);
      log(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err.push(chunk);
      log(chunk);
    });
    child.on('error', reject);
    child.on('close', (exitCode) => {
      const result = {
        exitCode,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      };
      if (exitCode === 0 || options.allowFailure) resolve(result);
      else reject(new CommandError(argv, exitCode, result.stdout, result.stderr));
    });
    child.stdin.on('error', () => {
      // A command that exits before reading its input: its exit status says what happened.
    });
    child.stdin.end(options.input);
  });
}
