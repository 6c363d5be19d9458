import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../sandbox/limits.ts';
import { failedPackage, installFailureMessage } from './install-failure.ts';

/** Lines as pip 23 and npm 11 print them. */
const PIP_NOT_FOUND = `Looking in indexes: http://127.0.0.1:4000/simple/
ERROR: Could not find a version that satisfies the requirement no-such-pkg==1.0 (from versions: none)
ERROR: No matching distribution found for no-such-pkg==1.0
`;
const NPM_NOT_FOUND = `npm error code E404
npm error 404 Not Found - GET http://127.0.0.1:4000/npm/left-pad-nope - Not found
npm error 404
npm error 404  'left-pad-nope@^1.0.0' is not in this registry.
`;
const NPM_SCOPED =
  'npm error 404 Not Found - GET https://registry.example/@acme%2fwidgets - Not found\n';
const PIP_BUILD = `  error: subprocess-exited-with-error
  ERROR: Failed building wheel for lxml
ERROR: Could not build wheels for lxml, which is required to install pyproject.toml-based projects
`;

describe('failedPackage', () => {
  it.each([
    [PIP_NOT_FOUND, 'package "no-such-pkg==1.0" was not found on the Python package index'],
    [NPM_NOT_FOUND, 'package "left-pad-nope" was not found on the npm registry'],
    [NPM_SCOPED, 'package "@acme/widgets" was not found on the npm registry'],
    [PIP_BUILD, 'package "lxml" could not be built'],
  ])('names the package in %j', (output, said) => {
    expect(failedPackage(output)).toBe(said);
  });

  it('says nothing when no package is named', () => {
    expect(failedPackage('Traceback (most recent call last):\n  MemoryError\n')).toBeNull();
  });
});

describe('installFailureMessage', () => {
  const base = {
    label: 'project',
    exitCode: 1,
    failure: null,
    limits: { ...DEFAULT_LIMITS, wallTimeMs: 600_000, memoryBytes: 2048 * 1024 * 1024 },
    outputTail: PIP_NOT_FOUND,
    refused: [],
  };

  it('names the package and the exit status of a failed install', () => {
    expect(installFailureMessage({ ...base, state: 'failed' })).toBe(
      'installing environment "project" failed (exit status 1): package "no-such-pkg==1.0" was not found on the Python package index',
    );
  });

  it('names the limit an install hit, and the hosts the proxy refused', () => {
    expect(
      installFailureMessage({ ...base, state: 'timed_out', refused: ['evil.example:443'] }),
    ).toBe(
      'installing environment "project" failed: it took longer than 600 s, the install\'s time limit (RUNBOX_INSTALL_WALL_TIME_MS); it tried to reach evil.example:443, which the egress proxy refused (not an allowed package registry)',
    );
    expect(installFailureMessage({ ...base, state: 'memory_limit' })).toContain(
      "ran out of memory (the install's limit is 2048 MiB)",
    );
  });
});
