import { randomUUID } from 'node:crypto';
import type { Language } from '../languages/index.ts';
import { runInSandbox } from '../run-path/run-in-sandbox.ts';
import { snippetCommand } from '../run-path/snippet-command.ts';
import { resolveLimits } from '../sandbox/limits.ts';
import type { SandboxHost } from '../sandbox/sandbox-host.ts';
import { syntaxCheckArgv, syntaxCheckError } from '../validation/syntax-check-argv.ts';
import {
  createSyntaxCheckerPool,
  type SyntaxCheckerPool,
} from '../validation/syntax-checker-pool.ts';

const CHECK_LIMITS = resolveLimits({
  wallTimeMs: 10_000,
  memoryBytes: 256 * 1024 * 1024,
  maxProcesses: 32,
  outputBytes: 64 * 1024,
  workspaceBytes: 4 * 1024 * 1024,
});

const pools = new WeakMap<SandboxHost, SyntaxCheckerPool>();

/**
 * The host's syntax checkers, made when first asked for. They run in the host's sandboxes, so the
 * host owns them: its close() ends them, whoever made the executor (a server, the CLI, a test).
 */
export function syntaxCheckersOf(host: SandboxHost): SyntaxCheckerPool {
  let pool = pools.get(host);
  if (!pool) {
    const made = createSyntaxCheckerPool(host);
    host.onClose(() => made.close());
    pools.set(host, made);
    pool = made;
  }
  return pool;
}

/**
 * Parses the snippet with its own language's parser inside the sandbox (untrusted input never
 * meets a parser outside it). Throws SyntaxCheckError naming the line when the code does not
 * parse. A check that cannot decide (it timed out, say) lets the run go on: the run will show the
 * problem.
 *
 * The host's long-lived checkers answer (syntax-checker-pool.ts), as the one-shot check below
 * would; when none can (one died in this check, none starts, all stayed busy), the one-shot check
 * answers instead.
 */
export async function checkSyntaxInSandbox(
  host: SandboxHost,
  language: Language,
  code: string,
): Promise<void> {
  const answer = await syntaxCheckersOf(host).check(language, code);
  switch (answer.verdict) {
    case 'ok':
    case 'undecided':
      return;
    case 'syntax-error':
      throw syntaxCheckError(language, answer.stderr);
    case 'unavailable':
      return checkSyntaxInFreshSandbox(host, language, code);
  }
}

/** The same check in a sandbox of its own, started and ended for it (~11 ms). */
export async function checkSyntaxInFreshSandbox(
  host: SandboxHost,
  language: Language,
  code: string,
): Promise<void> {
  let stderr = '';
  const outcome = await runInSandbox(host, {
    runId: `syntax-${randomUUID()}`,
    limits: CHECK_LIMITS,
    prepare: snippetCommand({
      language,
      code,
      owner: host.runAs,
      argvFor: (file) => syntaxCheckArgv(language, file),
    }),
    onOutput: (stream, chunk) => {
      if (stream === 'stderr') stderr += chunk.toString('utf8');
    },
  });
  if (outcome.state === 'failed' && outcome.report) throw syntaxCheckError(language, stderr);
}
