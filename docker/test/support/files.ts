import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseDockerfile, stagesOf, type Stage } from './dockerfile.ts';
import { isYamlMap, readYaml, type YamlMap } from './read-yaml.ts';

/** Absolute path of a file of the repository, from its repository-relative path. */
export const repoPath = (relative: string): string =>
  fileURLToPath(new URL(`../../../${relative}`, import.meta.url));

export const readRepoFile = (relative: string): string => readFileSync(repoPath(relative), 'utf8');

export function loadCompose(): YamlMap {
  const compose = readYaml(readRepoFile('docker/compose.yaml'), 'docker/compose.yaml');
  if (!isYamlMap(compose)) throw new Error('docker/compose.yaml is not a mapping');
  return compose;
}

export function loadDockerfileStages(): Stage[] {
  return stagesOf(parseDockerfile(readRepoFile('docker/Dockerfile')));
}

/** Package names from an apt list file: `#` comments stripped, one or more names a line. */
export function aptPackages(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.replace(/#.*/, ''))
    .flatMap((line) => line.split(/\s+/))
    .filter(Boolean);
}
