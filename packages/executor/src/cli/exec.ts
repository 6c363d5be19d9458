import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { hostEnvFrom } from '../host-env.ts';
import { isLanguage, LANGUAGES } from '../languages/index.ts';
import { resolveLimits, type LimitsOverride } from '../sandbox/limits.ts';
import { runSnippet } from '../sandbox/run-snippet.ts';
import { createSandboxHost } from '../sandbox/sandbox-host.ts';
import { assertSandboxSafe, cachedSelfTest } from '../sandbox/self-test-gate.ts';

const USAGE = `usage: ./runbox exec --lang ${LANGUAGES.join('|')} [--timeout-ms N] [--memory-mb N] [--json] FILE

Runs FILE in the sandbox with this command's stdin as the program's stdin.
Without --json the program's output streams through; with --json one JSON object is printed:
{status, exitCode, signal, stdout, stderr, durationMs, usage: {cpuMs, peakMemoryBytes}}.
Exit status: 0 when the run completed, 1 otherwise, 2 for a usage error.`;

class UsageError extends Error {}

function positiveInt(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text))
    throw new UsageError(`--${name} takes a whole number, got ${JSON.stringify(text)}`);
  return Number(text);
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    options: {
      lang: { type: 'string' },
      'timeout-ms': { type: 'string' },
      'memory-mb': { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    allowPositionals: true,
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const language = values.lang;
  if (!language || !isLanguage(language)) {
    throw new UsageError(
      `--lang must be one of ${LANGUAGES.join(', ')}; got ${JSON.stringify(language ?? '')}`,
    );
  }
  const [file, ...extra] = positionals;
  if (!file || extra.length > 0) throw new UsageError('exactly one FILE is needed');

  const override: LimitsOverride = {};
  const timeoutMs = positiveInt('timeout-ms', values['timeout-ms']);
  if (timeoutMs !== undefined) override.wallTimeMs = timeoutMs;
  const memoryMb = positiveInt('memory-mb', values['memory-mb']);
  if (memoryMb !== undefined) override.memoryBytes = memoryMb * 1024 * 1024;
  const limits = resolveLimits(override);
  const code = await readFile(file, 'utf8');

  const env = hostEnvFrom(process.env);
  const host = await createSandboxHost(env.host);
  // Untrusted code runs only where every layer held in the (cached) self-test.
  assertSandboxSafe(await cachedSelfTest(host), {
    allowUnsafe: env.allowUnsafeSandbox,
    warn: (message) => console.error(`runbox exec: ${message}`),
  });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  try {
    const report = await runSnippet(host, {
      runId: `exec-${process.pid}-${randomBytes(4).toString('hex')}`,
      language,
      code,
      limits,
      stdin: process.stdin.isTTY ? undefined : process.stdin,
      onOutput: (stream, chunk) => {
        if (values.json) (stream === 'stdout' ? stdout : stderr).push(chunk);
        else (stream === 'stdout' ? process.stdout : process.stderr).write(chunk);
      },
    });
    process.stdin.destroy();
    // A reader that went away (| head) is not an error of the run.
    process.stdout.on('error', () => {});
    if (values.json) {
      const result = {
        status: report.state,
        exitCode: report.exitCode,
        signal: report.signal,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
        durationMs: report.durationMs,
        usage: { cpuMs: report.usage.cpuMs, peakMemoryBytes: report.usage.peakMemoryBytes },
        ...(report.setupError ? { error: report.setupError } : {}),
      };
      process.stdout.write(`${JSON.stringify(result)}\n`);
    } else if (report.state !== 'completed') {
      process.stderr.write(
        `runbox: ${report.state}${report.exitCode !== null ? ` (exit ${report.exitCode})` : ''}${report.setupError ? `: ${report.setupError}` : ''}\n`,
      );
    }
    return report.state === 'completed' ? 0 : 1;
  } finally {
    await host.close();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      console.error(`runbox exec: ${error.message}\n\n${USAGE}`);
      process.exitCode = 2;
      return;
    }
    console.error(`runbox exec: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode =
      error instanceof Error && 'code' in error && error.code === 'LIMIT_OUT_OF_RANGE' ? 2 : 1;
  },
);
