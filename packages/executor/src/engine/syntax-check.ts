import { randomUUID } from 'node:crypto';
import type { Language } from '../languages/index.ts';
import { runInSandbox } from '../run-path/run-in-sandbox.ts';
import { snippetCommand } from '../run-path/snippet-command.ts';
import { resolveLimits } from '../sandbox/limits.ts';
import type { SandboxHost } from '../sandbox/sandbox-host.ts';
import { syntaxCheckArgv, syntaxCheckError } from '../validation/syntax-check-argv.ts';

const CHECK_LIMITS = resolveLimits({
  wallTimeMs: 10_000,
  memoryBytes: 256 * 1024 * 1024,
  maxProcesses: 32,
  outputBytes: 64 * 1024,
  workspaceBytes: 4 * 1024 * 1024,
});

/**
 * Parses the snippet with its own language's tool inside the sandbox (untrusted input never meets
 * a parser outside it). Throws SyntaxCheckError naming the line when the code does not parse. A
 * check that cannot decide (it timed out, say) lets the run go on: the run will show the problem.
 */
export async function checkSyntaxInSandbox(
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
