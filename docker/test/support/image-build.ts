import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import type { Podman } from './podman.ts';

/**
 * The CA bundle to lend the image build (docs/deploy.md, "Behind a TLS-intercepting proxy"): the
 * one npm is told to trust, else Node's extra CAs, else the system's. On a machine whose registry
 * is reached through an intercepting proxy, that is where its CA is; elsewhere the system bundle
 * is lent and changes nothing. Null when there is none.
 */
export function findBuildCa(env: NodeJS.ProcessEnv = process.env): string | null {
  const candidates: string[] = [];
  try {
    const cafile = execFileSync('npm', ['config', 'get', 'cafile'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    if (cafile.startsWith('/')) candidates.push(cafile);
  } catch {
    // no npm, or no such setting
  }
  for (const name of ['NODE_EXTRA_CA_CERTS', 'SSL_CERT_FILE']) {
    const value = env[name];
    if (value?.startsWith('/')) candidates.push(value);
  }
  candidates.push('/etc/ssl/certs/ca-certificates.crt');
  return (
    candidates.find(
      (file) => existsSync(file) && readFileSync(file, 'utf8').includes('BEGIN CERTIFICATE'),
    ) ?? null
  );
}

export interface BuildResult {
  /** Every image id the build printed (layers made or taken from the cache): its build cache. */
  layerIds: string[];
}

/**
 * `podman build` of docker/Dockerfile as docs/deploy.md says to build it: from the repository
 * root, `--format docker` (the OCI format has no HEALTHCHECK; podman would drop it),
 * `--pull=never` (the FROM resolves to the local base), the CA bundle as the `build-ca` secret.
 */
export async function buildImage(
  podman: Podman,
  options: { repoRoot: string; tag: string; caBundle: string | null; logFile: string },
): Promise<BuildResult> {
  const result = await podman.run(
    [
      'build',
      '--pull=never',
      '--format',
      'docker',
      '--layers',
      // A failed step leaves no container behind in the store.
      '--force-rm',
      '--file',
      'docker/Dockerfile',
      '--tag',
      options.tag,
      ...(options.caBundle ? ['--secret', `id=build-ca,src=${options.caBundle}`] : []),
      options.repoRoot,
    ],
    { cwd: options.repoRoot, logFile: options.logFile },
  );
  const layerIds = [...result.stdout.matchAll(/^--> (?:Using cache )?([0-9a-f]{11,64})$/gm)].map(
    (match) => match[1] ?? '',
  );
  return { layerIds };
}

/**
 * Removes every untagged image but the layers of the last build, so that the next run reuses
 * them (`pnpm fetch`, the apt layer) while the store holds one build's worth, not one per run.
 */
export async function pruneBuildCache(podman: Podman, keep: readonly string[]): Promise<void> {
  const listed = await podman.out([
    'images',
    '--all',
    '--no-trunc',
    '--format',
    '{{.ID}} {{.Repository}}',
  ]);
  const stale = listed
    .split('\n')
    .map((line) => line.split(' '))
    .filter(([, repository]) => repository === '<none>')
    .map(([id = '']) => id.replace(/^sha256:/, ''))
    .filter((id) => id && !keep.some((kept) => id.startsWith(kept)));
  // Children first would be ideal; instead, rounds until nothing more can go.
  let left = stale;
  for (let round = 0; round < 5 && left.length > 0; round++) {
    const next: string[] = [];
    for (const id of left) {
      const removed = await podman.run(['rmi', id], { allowFailure: true });
      if (removed.exitCode !== 0 && !/image not known/.test(removed.stderr)) next.push(id);
    }
    if (next.length === left.length) break;
    left = next;
  }
}
