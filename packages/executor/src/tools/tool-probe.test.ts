import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildProbeScript, parseProbeOutput, shellQuote, versionFrom } from './tool-probe.ts';
import { toolSchema, type Tool } from './tool-schema.ts';

const tool = (id: string, extra: Record<string, unknown> = {}): Tool =>
  toolSchema.parse({
    id,
    name: id,
    description: id,
    argv: ['x'],
    appliesTo: { anyOf: ['*'] },
    binaries: ['sh'],
    ...extra,
  });

/** The probe script, run by the host's bash: the same commands the sandbox runs. */
function probeOnHost(tools: Tool[]): string {
  return execFileSync('/bin/bash', ['--norc', '--noprofile', '-c', buildProbeScript(tools), 'x'], {
    encoding: 'utf8',
    env: {},
  });
}

describe('the probe script', () => {
  const dir = mkdtempSync(join(tmpdir(), 'runbox-probe-'));
  const plainFile = join(dir, 'plain');
  writeFileSync(plainFile, 'not a program', { mode: 0o644 });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reports each tool: found, missing binary, not executable, failing version check', () => {
    const tools = [
      tool('good', { binaries: ['sh', '/bin/sh'], versionArgv: ['bash', '--version'] }),
      tool('no-version'),
      tool('missing', { binaries: ['sh', 'no-such-binary-runbox'] }),
      tool('not-exec', { binaries: [plainFile] }),
      tool('failing', { versionArgv: ['sh', '-c', 'echo broken; exit 3'] }),
      tool('env', {
        env: { PATH: '/usr/bin:/bin', GREETING: "it's {workspace}" },
        versionArgv: ['sh', '-c', 'echo "$GREETING 1.2"'],
      }),
    ];
    const results = parseProbeOutput(tools, probeOnHost(tools));
    expect(results).toEqual([
      { toolId: 'good', available: true, version: expect.stringMatching(/^\d+\.\d+/) as string },
      { toolId: 'no-version', available: true },
      {
        toolId: 'missing',
        available: false,
        reason: expect.stringMatching(/^no-such-binary-runbox is not on PATH \(/) as string,
      },
      {
        toolId: 'not-exec',
        available: false,
        reason: `${plainFile} is not an executable file`,
      },
      { toolId: 'failing', available: false, reason: 'sh -c echo broken; exit 3 exited 3: broken' },
      { toolId: 'env', available: true, version: '1.2' },
    ]);
  });

  it('quotes everything it takes from the registry', () => {
    expect(shellQuote("a'b $(x)")).toBe(`'a'\\''b $(x)'`);
    const script = buildProbeScript([tool('q', { versionArgv: ['echo', "'; touch /tmp/x; '"] })]);
    expect(script).toContain(`'\\''; touch /tmp/x; '\\''`);
  });
});

describe('parseProbeOutput', () => {
  it('lists a tool the probe said nothing about as unavailable, with the failure', () => {
    expect(parseProbeOutput([tool('a')], 'noise\n', 'the probe timed out after 5 ms')).toEqual([
      {
        toolId: 'a',
        available: false,
        reason: 'the probe reported nothing for this tool: the probe timed out after 5 ms',
      },
    ]);
  });

  it('points at the install script when the sandbox tools are missing', () => {
    const [result] = parseProbeOutput(
      [tool('tsc')],
      'runbox-probe\ttsc\tmissing\t/opt/runbox/tools/bin/runbox-tsc is not an executable file\n',
    );
    expect(result?.reason).toMatch(/install-sandbox-tools\.sh/);
  });
});

describe('versionFrom', () => {
  it('finds the version in what tools print', () => {
    expect(versionFrom('Python 3.11.2')).toBe('3.11.2');
    expect(versionFrom('v24.21.0')).toBe('24.21.0');
    expect(versionFrom('ShellCheck - shell script analysis tool version: 0.9.0 license')).toBe(
      '0.9.0',
    );
    expect(versionFrom('GNU bash, version 5.2.15(1)-release')).toBe('5.2.15');
    expect(versionFrom('cloc 1.96')).toBe('1.96');
    expect(versionFrom('no number here')).toBe('no number here');
    expect(versionFrom('   ')).toBeUndefined();
  });
});
