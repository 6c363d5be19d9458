import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join, resolve } from 'node:path';

/**
 * TEST SCAFFOLDING: the CLI as a real child process, run with the machine's Node 20
 * (/usr/bin/node), not the project's Node 24, to prove it runs there.
 */

export const CLI_BIN = resolve(import.meta.dirname, '../../bin/runbox-cli.mjs');

/** The system's Node (20 on this machine and in the image); the CLI's oldest supported. */
export const SYSTEM_NODE = '/usr/bin/node';

export interface CliRun {
  child: ChildProcess;
  /** stdout so far, and each chunk as it came. */
  stdout(): string;
  stderr(): string;
  /** Resolves when stdout (or stderr) so far matches. */
  waitFor(stream: 'stdout' | 'stderr', pattern: RegExp | string): Promise<void>;
  /** The exit code once it has exited and its output is all read (null: a signal killed it). */
  exited: Promise<number | null>;
}

export interface CliOptions {
  url: string;
  apiKey?: string | null;
  stdin?: string;
  cwd?: string;
  env?: Record<string, string>;
}

/** Starts `runbox-cli <args>` against `url`, with the API key unless `apiKey` is null. */
export function startCli(args: string[], options: CliOptions): CliRun {
  const env: Record<string, string> = {
    PATH: '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    RUNBOX_URL: options.url,
    ...options.env,
  };
  if (options.apiKey) env.RUNBOX_API_KEY = options.apiKey;
  const child = spawn(SYSTEM_NODE, [CLI_BIN, ...args], {
    cwd: options.cwd ?? join(import.meta.dirname, '..'),
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const text = { stdout: '', stderr: '' };
  const waiters: { stream: 'stdout' | 'stderr'; pattern: RegExp | string; resolve(): void }[] = [];
  const matches = (stream: 'stdout' | 'stderr', pattern: RegExp | string): boolean =>
    typeof pattern === 'string' ? text[stream].includes(pattern) : pattern.test(text[stream]);
  for (const stream of ['stdout', 'stderr'] as const) {
    child[stream].setEncoding('utf8');
    child[stream].on('data', (chunk: string) => {
      text[stream] += chunk;
      for (const waiter of [...waiters]) {
        if (waiter.stream === stream && matches(stream, waiter.pattern)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve();
        }
      }
    });
  }
  // 'close': the process has exited and its stdout and stderr have ended.
  const exited = once(child, 'close').then(([code]) => code as number | null);
  if (options.stdin !== undefined) child.stdin.end(options.stdin);
  else child.stdin.end();
  return {
    child,
    stdout: () => text.stdout,
    stderr: () => text.stderr,
    waitFor(stream, pattern) {
      if (matches(stream, pattern)) return Promise.resolve();
      return new Promise<void>((resolveWait, reject) => {
        waiters.push({ stream, pattern, resolve: resolveWait });
        void exited.then(() => {
          if (!matches(stream, pattern))
            reject(
              new Error(
                `the CLI exited before its ${stream} matched ${String(pattern)}:\n` +
                  `stdout: ${text.stdout}\nstderr: ${text.stderr}`,
              ),
            );
        });
      });
    },
    exited,
  };
}

/** Runs the CLI to its end: its exit code, stdout and stderr. */
export async function runCli(
  args: string[],
  options: CliOptions,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const run = startCli(args, options);
  const code = await run.exited;
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}
