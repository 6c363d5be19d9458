import { createHash } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { release } from 'node:os';
import { join } from 'node:path';
import type { SandboxHost } from './sandbox-host.ts';
import { runSelfTest, type SelfTestReport } from './self-test.ts';

/** Untrusted code was about to run on a host where a sandbox layer does not hold. */
export class UnsafeSandboxError extends Error {
  readonly code = 'UNSAFE_SANDBOX';
  readonly failedLayers: string[];
  constructor(report: SelfTestReport) {
    const failed = report.checks.filter((check) => !check.ok);
    super(
      `refusing to run untrusted code: sandbox layers failed the self-test: ${failed
        .map((check) => `${check.layer} (${check.detail})`)
        .join(
          '; ',
        )}. Run ./runbox doctor; RUNBOX_ALLOW_UNSAFE_SANDBOX=1 overrides this at your own risk`,
    );
    this.name = 'UnsafeSandboxError';
    this.failedLayers = failed.map((check) => check.layer);
  }
}

const CACHE_MAX_AGE_MS = 60 * 60 * 1000;

/** What a self-test result depends on; a change of any of it calls for a new self-test. */
async function hostFingerprint(host: SandboxHost): Promise<string> {
  const bwrap = await stat(host.tools.bwrap);
  const parts = [
    release(),
    host.tools.bwrap,
    String(bwrap.mtimeMs),
    host.cgroups.version,
    host.cgroups.location,
    host.workspaces.mechanism,
    JSON.stringify(host.runAs),
    host.seccompArch,
    process.version,
  ];
  return createHash('sha256').update(parts.join('\0')).digest('hex');
}

/**
 * The self-test result for this host, re-run when the cached one is older than an hour or the host
 * changed. A server runs the self-test itself at start; this cache spares one-shot commands.
 */
export async function cachedSelfTest(host: SandboxHost): Promise<SelfTestReport> {
  const file = join(host.stateDir, 'self-test.json');
  const fingerprint = await hostFingerprint(host);
  try {
    const cached = JSON.parse(await readFile(file, 'utf8')) as {
      fingerprint: string;
      report: SelfTestReport;
    };
    if (
      cached.fingerprint === fingerprint &&
      Date.now() - cached.report.startedAt < CACHE_MAX_AGE_MS
    ) {
      return cached.report;
    }
  } catch {
    // no usable cache
  }
  const report = await runSelfTest(host);
  await writeFile(file, JSON.stringify({ fingerprint, report }), { mode: 0o600 });
  return report;
}

/** Throws UnsafeSandboxError unless every layer holds or the operator opted out. */
export function assertSandboxSafe(
  report: SelfTestReport,
  options: { allowUnsafe: boolean; warn: (message: string) => void },
): void {
  if (report.ok) return;
  const error = new UnsafeSandboxError(report);
  if (!options.allowUnsafe) throw error;
  options.warn(
    `WARNING: RUNBOX_ALLOW_UNSAFE_SANDBOX=1 is set; running untrusted code anyway. ${error.message}`,
  );
}
