import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { RunResult } from '../engine/run-events.ts';
import { isLanguage, LANGUAGES } from '../languages/language.ts';
import type { LimitsOverride } from '../sandbox/limits.ts';
import { useCompileCache } from './compile-cache.ts';

// Before the engine's modules load: they are imported with import() below, once a run needs them,
// so that --help and a usage error load nothing else, and a run loads them from the cache.
useCompileCache();

const USAGE = `usage: ./runbox exec --lang ${LANGUAGES.join('|')} [--timeout-ms N] [--memory-mb N] [--json] FILE

Runs FILE in the sandbox, through the same engine the server uses, with this command's stdin
(read whole first, at most 1 MiB) as the program's stdin.
Without --json the program's output streams through; with --json one JSON object is printed:
{status, exitCode, signal, stdout, stderr, durationMs, usage: {cpuMs, peakMemoryBytes}}, plus value
(the last expression's value, or .runbox/result.json), warnings and error when there are any.
Unlike the server, no separate syntax check runs first: code that does not parse is run, and the
language's own error (Python's SyntaxError, say) ends the run as failed, on stderr. The sandbox
tools (TypeScript, ESLint at /opt/runbox/tools) are not offered: a snippet does not use them.
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
  const code = await readFile(file, 'utf8');

  const { host, allowUnsafe, engine, gate, maxStdinBytes } = await startHost();
  try {
    // Untrusted code runs only where every layer held in the (cached) self-test.
    gate.assertSandboxSafe(await gate.cachedSelfTest(host), {
      allowUnsafe,
      warn: (message) => console.error(`runbox exec: ${message}`),
    });
    const stdin = process.stdin.isTTY ? undefined : await readStdin(maxStdinBytes);
    // No syntax check before the run: it would cost a sandbox cycle of its own, and the run that
    // follows reports the same error as its failure.
    const executor = engine.createExecutor({ host, concurrency: 1, syntaxCheck: false });
    const run = await executor.submit({ kind: 'snippet', language, code, stdin, limits: override });
    const stdout: string[] = [];
    const stderr: string[] = [];
    // A reader that went away (| head) is not an error of the run.
    process.stdout.on('error', () => {});
    let result: RunResult | null = null;
    for await (const event of executor.events(run.id)) {
      if (event.type === 'output') {
        const text = event.partial ? event.text : `${event.text}\n`;
        if (values.json) (event.stream === 'stdout' ? stdout : stderr).push(text);
        else (event.stream === 'stdout' ? process.stdout : process.stderr).write(text);
      } else if (event.type === 'end') {
        result = event.result;
      }
    }
    if (!result) throw new Error('the run ended without a result');
    if (values.json) {
      process.stdout.write(
        `${JSON.stringify({
          status: result.state,
          exitCode: result.exitCode,
          signal: result.signal,
          stdout: stdout.join(''),
          stderr: stderr.join(''),
          durationMs: result.durationMs,
          usage: result.usage,
          ...(result.value !== undefined ? { value: result.value } : {}),
          ...(result.warnings.length > 0 ? { warnings: result.warnings } : {}),
          ...(result.error ? { error: result.error } : {}),
        })}\n`,
      );
    } else {
      for (const warning of result.warnings) console.error(`runbox: warning: ${warning.message}`);
      if (result.state !== 'completed') {
        const exit = result.exitCode !== null ? ` (exit ${result.exitCode})` : '';
        console.error(`runbox: ${result.state}${exit}${result.error ? `: ${result.error}` : ''}`);
      }
    }
    return result.state === 'completed' ? 0 : 1;
  } finally {
    await host.close();
  }
}

/**
 * The sandbox host, with the engine's modules loaded meanwhile: the host's start is mostly waiting
 * for cp(1) and mount(8), loading modules is this thread's work, so the two overlap.
 */
async function startHost() {
  const [{ hostEnvFrom }, { createSandboxHost }] = await Promise.all([
    import('../host-env.ts'),
    import('../sandbox/sandbox-host.ts'),
  ]);
  const env = hostEnvFrom(process.env);
  // A snippet never uses the sandbox tools: not copying their 50 MB saves ~150 ms.
  const starting = createSandboxHost({ ...env.host, sandboxToolsDir: null });
  const loading = Promise.all([
    import('../engine/executor.ts'),
    import('../sandbox/self-test-gate.ts'),
    import('../engine/run-request.ts'),
  ]);
  const [started, loaded] = await Promise.allSettled([starting, loading]);
  if (started.status === 'rejected') throw started.reason;
  if (loaded.status === 'rejected') {
    await started.value.close();
    throw loaded.reason;
  }
  const [engine, gate, { MAX_STDIN_BYTES }] = loaded.value;
  return {
    host: started.value,
    allowUnsafe: env.allowUnsafeSandbox,
    engine,
    gate,
    maxStdinBytes: MAX_STDIN_BYTES,
  };
}

async function readStdin(maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > maxBytes) throw new UsageError(`stdin is limited to ${maxBytes} bytes`);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
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
