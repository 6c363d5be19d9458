import { randomUUID } from 'node:crypto';
import { LANGUAGE_RUNTIMES, type Language } from '../languages/index.ts';
import { endStateOf } from '../sandbox/end-state.ts';
import { resolveLimits } from '../sandbox/limits.ts';
import { writeNewWorkspaceFile } from '../sandbox/safe-fs.ts';
import { SANDBOX_WORKSPACE } from '../sandbox/sandbox-command.ts';
import { baseSandboxEnv } from '../sandbox/sandbox-environment.ts';
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
  const runtime = LANGUAGE_RUNTIMES[language];
  const workspace = await host.workspaces.acquire(CHECK_LIMITS.workspaceBytes);
  try {
    await writeNewWorkspaceFile(workspace.dir, runtime.fileName, code, host.runAs);
    let stderr = '';
    const report = await host.run({
      runId: `syntax-${randomUUID()}`,
      argv: syntaxCheckArgv(language, `${SANDBOX_WORKSPACE}/${runtime.fileName}`),
      limits: CHECK_LIMITS,
      workspaceDir: workspace.dir,
      env: baseSandboxEnv(),
      onOutput: (stream, chunk) => {
        if (stream === 'stderr') stderr += chunk.toString('utf8');
      },
    });
    if (endStateOf(report) === 'failed') throw syntaxCheckError(language, stderr);
  } finally {
    await workspace.release();
  }
}
