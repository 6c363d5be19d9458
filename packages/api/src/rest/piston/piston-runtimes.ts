import { randomUUID } from 'node:crypto';
import { resolveLimits, runSnippet, type Language } from '@runbox/executor';
import type { Services } from '../../services.ts';
import { satisfies } from './semver-select.ts';

/**
 * Piston's runtimes as runbox has them: each snippet language under Piston's name, with Piston's
 * aliases, and the version of the interpreter that runs it on this machine, read once from the
 * interpreters themselves inside the sandbox (never written down here, so it cannot be wrong).
 * TypeScript runs on Node's own type stripping: its version is Node's.
 */

export interface PistonRuntime {
  /** Piston's name for it (also runbox's language). */
  language: Language;
  version: string;
  aliases: string[];
  /** Piston names the runtime when a language has several; runbox's JavaScript and TypeScript run on node. */
  runtime?: string;
}

interface RuntimeSpec {
  language: Language;
  aliases: readonly string[];
  runtime?: string;
  /** Which interpreter's version it has. */
  interpreter: 'python' | 'node' | 'bash';
}

const SPECS: readonly RuntimeSpec[] = [
  { language: 'python', aliases: ['py', 'py3', 'python3'], interpreter: 'python' },
  {
    language: 'javascript',
    aliases: ['node-javascript', 'node-js', 'node', 'js'],
    runtime: 'node',
    interpreter: 'node',
  },
  {
    language: 'typescript',
    aliases: ['ts', 'node-ts', 'node-typescript'],
    runtime: 'node',
    interpreter: 'node',
  },
  { language: 'bash', aliases: ['sh'], interpreter: 'bash' },
];

/** A bash snippet that prints `NAME VERSION` for each interpreter. */
const PROBE = [
  `printf 'python %s\\n' "$(/usr/bin/python3 -c 'import platform; print(platform.python_version())')"`,
  `printf 'node %s\\n' "$(node -p 'process.versions.node')"`,
  `printf 'bash %s\\n' "\${BASH_VERSINFO[0]}.\${BASH_VERSINFO[1]}.\${BASH_VERSINFO[2]}"`,
].join('\n');

const PROBE_LIMITS = resolveLimits({ wallTimeMs: 30_000 });

/** The interpreters' versions could not be read: runbox's own failure (503). */
export class RuntimeVersionsError extends Error {
  constructor(detail: string) {
    super(`runbox could not read its interpreters' versions: ${detail}`);
    this.name = 'RuntimeVersionsError';
  }
}

/** `python 3.11.2` lines → versions by interpreter. */
export function parseProbeOutput(output: string): Record<RuntimeSpec['interpreter'], string> {
  const found = new Map<string, string>();
  for (const line of output.split('\n')) {
    const match = /^(python|node|bash) (\d+\.\d+\.\d+)\s*$/.exec(line);
    if (match?.[1] && match[2]) found.set(match[1], match[2]);
  }
  const versions = {
    python: found.get('python'),
    node: found.get('node'),
    bash: found.get('bash'),
  };
  for (const [name, version] of Object.entries(versions))
    if (version === undefined) throw new RuntimeVersionsError(`${name} printed no version`);
  return versions as Record<RuntimeSpec['interpreter'], string>;
}

async function probeVersions(services: Services): Promise<PistonRuntime[]> {
  let stdout = '';
  const report = await runSnippet(services.host, {
    runId: `piston-versions-${randomUUID()}`,
    language: 'bash',
    code: PROBE,
    limits: PROBE_LIMITS,
    onOutput: (stream, chunk) => {
      if (stream === 'stdout') stdout += chunk.toString('utf8');
    },
  });
  if (report.state !== 'completed')
    throw new RuntimeVersionsError(`the probe ended ${report.state}`);
  const versions = parseProbeOutput(stdout);
  return SPECS.map((spec) => ({
    language: spec.language,
    version: versions[spec.interpreter],
    aliases: [...spec.aliases],
    ...(spec.runtime !== undefined ? { runtime: spec.runtime } : {}),
  }));
}

const probed = new WeakMap<Services, Promise<PistonRuntime[]>>();

/** The runtimes of this server, probed at the first call and kept (a failed probe is tried again). */
export function pistonRuntimes(services: Services): Promise<PistonRuntime[]> {
  let runtimes = probed.get(services);
  if (!runtimes) {
    runtimes = probeVersions(services).catch((error: unknown) => {
      probed.delete(services);
      throw error instanceof RuntimeVersionsError
        ? error
        : new RuntimeVersionsError(error instanceof Error ? error.message : String(error));
    });
    probed.set(services, runtimes);
  }
  return runtimes;
}

/**
 * The runtime a Piston request names: by name or alias (as Piston, exactly; runbox also takes
 * any case), whose version satisfies the selector. Undefined when none does.
 */
export function findRuntime(
  runtimes: readonly PistonRuntime[],
  language: string,
  version: string,
): PistonRuntime | undefined {
  const name = language.toLowerCase();
  return runtimes.find(
    (runtime) =>
      (runtime.language === name || runtime.aliases.includes(name)) &&
      satisfies(runtime.version, version) === true,
  );
}
