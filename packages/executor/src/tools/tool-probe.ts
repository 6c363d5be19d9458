import { randomBytes } from 'node:crypto';
import { resolveLimits, type SandboxLimits } from '../sandbox/limits.ts';
import type { SandboxHost } from '../sandbox/sandbox-host.ts';
import { expandFixedPlaceholders } from './tool-argv.ts';
import { runInSandbox } from '../run-path/run-in-sandbox.ts';
import { toolEnv } from './tool-env.ts';
import { SANDBOX_TOOLS_DIR } from './sandbox-tools.ts';
import type { Tool } from './tool-schema.ts';

export interface ToolProbeResult {
  toolId: string;
  available: boolean;
  /** Why the tool is unavailable: a missing binary, a failing version check, a failed probe. */
  reason?: string;
  /** The version its `versionArgv` printed, e.g. "3.11.2". */
  version?: string;
}

const MARK = 'runbox-probe';
/** Each version check may take this long (a Node tool loads its whole package). */
const VERSION_TIMEOUT_S = 20;
const INSTALL_HINT = `; the sandbox tools at ${SANDBOX_TOOLS_DIR} are installed by scripts/install-sandbox-tools.sh`;

/** Single-quotes a string for bash. */
export function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/** Bash functions the probe script starts with. Each reports one line: MARK, id, status, text. */
const PRELUDE = `
report() { printf '${MARK}\\t%s\\t%s\\t%s\\n' "$1" "$2" "$(printf '%s' "$3" | head -n 4 | tr '\\t\\r\\n' '   ' | cut -c 1-300)"; }
need() {
  case $1 in
    /*) [ -f "$1" ] && [ -x "$1" ] || { printf '%s is not an executable file' "$1"; return 1; } ;;
    *) command -v -- "$1" >/dev/null 2>&1 || { printf '%s is not on PATH (%s)' "$1" "$PATH"; return 1; } ;;
  esac
}
`;

/**
 * Pure: one bash script that checks every tool inside the sandbox, each in a subshell with the
 * tool's own environment: its binaries (`test -x` for paths, `command -v` for names), then its
 * version command, which must exit 0.
 */
export function buildProbeScript(tools: readonly Tool[]): string {
  const parts = [PRELUDE];
  for (const tool of tools) {
    const id = shellQuote(tool.id);
    const lines: string[] = [];
    for (const [name, value] of Object.entries(toolEnv(tool))) {
      lines.push(`export ${name}=${shellQuote(value)}`);
    }
    for (const binary of tool.binaries) {
      const quoted = shellQuote(expandFixedPlaceholders(binary));
      lines.push(`problem=$(need ${quoted}) || { report ${id} missing "$problem"; exit 0; }`);
    }
    if (tool.versionArgv) {
      const argv = tool.versionArgv.map((argument) =>
        shellQuote(expandFixedPlaceholders(argument)),
      );
      const shown = shellQuote(tool.versionArgv.join(' '));
      lines.push(
        `if out=$(timeout ${VERSION_TIMEOUT_S} ${argv.join(' ')} 2>&1 </dev/null); then report ${id} ok "$out"`,
        `else status=$?; report ${id} failed "$(printf '%s exited %s: %s' ${shown} "$status" "$out")"; fi`,
      );
    } else {
      lines.push(`report ${id} ok ''`);
    }
    parts.push(`(\n${lines.map((line) => `  ${line}`).join('\n')}\n)`);
  }
  return parts.join('\n');
}

/** The first version-like token of a version command's output, else its first line. */
export function versionFrom(output: string): string | undefined {
  const match = /\d+\.\d+(?:\.\d+)?/.exec(output);
  if (match) return match[0];
  const first = output
    .trim()
    .split(/\s{2,}/)[0]
    ?.trim();
  return first ? first.slice(0, 80) : undefined;
}

/** Pure: the probe's stdout to one result per tool, in the tools' order. */
export function parseProbeOutput(
  tools: readonly Tool[],
  stdout: string,
  failure?: string,
): ToolProbeResult[] {
  const lines = new Map<string, { status: string; text: string }>();
  for (const line of stdout.split('\n')) {
    const [mark, id, status, text] = line.split('\t');
    if (mark !== MARK || id === undefined || status === undefined) continue;
    if (!lines.has(id)) lines.set(id, { status, text: text ?? '' });
  }
  return tools.map((tool): ToolProbeResult => {
    const line = lines.get(tool.id);
    if (!line) {
      return {
        toolId: tool.id,
        available: false,
        reason: `the probe reported nothing for this tool${failure ? `: ${failure}` : ''}`,
      };
    }
    if (line.status === 'ok') {
      const version = versionFrom(line.text);
      return version === undefined
        ? { toolId: tool.id, available: true }
        : { toolId: tool.id, available: true, version };
    }
    const hint = line.text.includes(SANDBOX_TOOLS_DIR) ? INSTALL_HINT : '';
    return { toolId: tool.id, available: false, reason: `${line.text.trim()}${hint}` };
  });
}

export interface ToolProbeOptions {
  /** Names the probe's cgroup. Default `probe-<random>`. */
  runId?: string | undefined;
  /** Limits of the one probe run. Default the server's defaults with 120 s and 1 GiB. */
  limits?: SandboxLimits | undefined;
  signal?: AbortSignal | undefined;
}

/**
 * Checks, inside the sandbox, that each tool's binaries are there and its version command works:
 * one sandboxed bash run for all tools. Never throws for a missing tool or a failed probe: every
 * tool is listed, an unavailable one with the reason.
 */
export async function probeTools(
  host: SandboxHost,
  tools: readonly Tool[],
  options: ToolProbeOptions = {},
): Promise<ToolProbeResult[]> {
  if (tools.length === 0) return [];
  const limits =
    options.limits ?? resolveLimits({ wallTimeMs: 120_000, memoryBytes: 1024 * 1024 * 1024 });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  try {
    const outcome = await runInSandbox(host, {
      runId: options.runId ?? `probe-${randomBytes(6).toString('hex')}`,
      limits,
      prepare: () =>
        Promise.resolve({
          argv: [
            '/bin/bash',
            '--norc',
            '--noprofile',
            '-c',
            buildProbeScript(tools),
            'runbox-probe',
          ],
          env: toolEnv({ env: {} }),
        }),
      signal: options.signal,
      onOutput: (stream, chunk) => {
        (stream === 'stdout' ? stdout : stderr).push(chunk);
      },
    });
    const report = outcome.report;
    const failure = !report
      ? (outcome.failure ?? `the probe did not run (${outcome.state})`)
      : report.setupError
        ? report.setupError
        : report.timedOut
          ? `the probe timed out after ${limits.wallTimeMs} ms`
          : report.memoryLimitExceeded
            ? 'the probe ran out of memory'
            : report.exitCode !== 0
              ? `the probe exited ${report.exitCode}: ${Buffer.concat(stderr).toString('utf8').trim().slice(-300)}`
              : undefined;
    return parseProbeOutput(tools, Buffer.concat(stdout).toString('utf8'), failure);
  } catch (error) {
    const reason = `the probe could not run: ${error instanceof Error ? error.message : String(error)}`;
    return tools.map((tool) => ({ toolId: tool.id, available: false, reason }));
  }
}
