import { describe, expect, it } from 'vitest';
import { ToolRegistryError, toolSchema } from './tool-schema.ts';

const valid = {
  id: 'python',
  name: 'Python',
  description: 'Runs main.py.',
  argv: ['python3', '{entry}'],
  entry: ['main.py'],
  appliesTo: { anyOf: ['/main.py'] },
  binaries: ['python3'],
};

function problemOf(tool: Record<string, unknown>): { field: string; message: string } {
  const result = toolSchema.safeParse(tool);
  if (result.success) throw new Error('expected the tool to be refused');
  const issue = result.error.issues[0];
  return { field: issue?.path.join('.') ?? '', message: issue?.message ?? '' };
}

describe('toolSchema', () => {
  it('accepts a tool and fills in the defaults', () => {
    const tool = toolSchema.parse(valid);
    expect(tool.limits).toEqual({});
    expect(tool.env).toEqual({});
  });

  it('accepts limits, env, binaries and a version command with {tools}', () => {
    const tool = toolSchema.parse({
      ...valid,
      limits: { wallTimeMs: 60_000 },
      env: { PATH: '{tools}/bin:/usr/bin' },
      binaries: ['{tools}/bin/runbox-tsc', '/usr/bin/python3', 'node'],
      versionArgv: ['{tools}/bin/x', '--version'],
    });
    expect(tool.limits.wallTimeMs).toBe(60_000);
  });

  it('refuses an unknown placeholder in argv, naming the argument', () => {
    expect(problemOf({ ...valid, argv: ['pytest', '{projectDir}'] })).toEqual({
      field: 'argv.1',
      message: expect.stringMatching(/unknown placeholder \{projectDir\}/) as string,
    });
  });

  it('refuses {entry} without entry candidates, and {files:} not alone', () => {
    expect(problemOf({ ...valid, entry: undefined }).field).toBe('entry');
    expect(problemOf({ ...valid, argv: ['x', '-f{files:*.sh}'] })).toMatchObject({
      field: 'argv.1',
      message: expect.stringMatching(/whole argument/) as string,
    });
  });

  it('ties {args} to a declaration of the arguments, and checks default operands', () => {
    const declared = {
      description: 'files',
      operands: { value: { kind: 'path', name: 'FILE' }, max: 4, description: 'f' },
    };
    expect(
      toolSchema.parse({ ...valid, argv: ['x', '{args}'], arguments: declared }).arguments,
    ).toMatchObject({ options: [], operands: { max: 4, default: [] } });
    expect(problemOf({ ...valid, argv: ['x', '{args}'] }).field).toBe('arguments');
    expect(problemOf({ ...valid, arguments: declared }).field).toBe('argv');
    expect(problemOf({ ...valid, argv: ['x', '--a={args}'], arguments: declared })).toMatchObject({
      field: 'argv.1',
      message: '{args} must be a whole argument',
    });
    expect(
      problemOf({
        ...valid,
        argv: ['x', '{args}'],
        arguments: { ...declared, operands: { ...declared.operands, default: ['{entry}'] } },
      }).field,
    ).toBe('arguments.operands.default.0');
  });

  it('takes shebangs and variables detected from the layout', () => {
    const tool = toolSchema.parse({
      ...valid,
      appliesTo: { anyOf: ['*.sh'], shebangs: ['sh', 'bash'] },
      detectedEnv: [
        { name: 'PYTHONPATH', value: '{workspace}/src', when: ['/src/*.py'], reason: 'src' },
      ],
    });
    expect(tool.appliesTo.shebangs).toEqual(['sh', 'bash']);
    expect(
      problemOf({
        ...valid,
        detectedEnv: [{ name: 'LD_PRELOAD', value: 'x', when: ['*'], reason: 'r' }],
      }).field,
    ).toBe('detectedEnv.0.name');
    expect(problemOf({ ...valid, appliesTo: { anyOf: ['*'], shebangs: ['/bin/sh'] } }).field).toBe(
      'appliesTo.shebangs.0',
    );
  });

  it('refuses a binary that is neither an absolute path nor a plain name', () => {
    expect(problemOf({ ...valid, binaries: ['bin/python3'] }).field).toBe('binaries.0');
    expect(problemOf({ ...valid, binaries: ['{entry}'] }).field).toBe('binaries.0');
  });

  it('refuses loader variables and {entry} in env', () => {
    expect(problemOf({ ...valid, env: { LD_PRELOAD: '/x.so' } }).field).toBe('env.LD_PRELOAD');
    expect(problemOf({ ...valid, env: { FILE: '{entry}' } }).field).toBe('env.FILE');
  });

  it('checks limits with limitsOverrideSchema and the absolute ranges', () => {
    expect(problemOf({ ...valid, limits: { wallTime: 5 } }).field).toBe('limits');
    expect(problemOf({ ...valid, limits: { memoryBytes: 1024 } })).toMatchObject({
      field: 'limits.memoryBytes',
      message: expect.stringMatching(/outside the allowed range/) as string,
    });
  });

  it('refuses unknown fields, bad ids and globs with braces', () => {
    expect(problemOf({ ...valid, colour: 'red' }).message).toMatch(/colour/);
    expect(problemOf({ ...valid, id: 'Py Thon' }).field).toBe('id');
    expect(problemOf({ ...valid, appliesTo: { anyOf: ['*.{js,ts}'] } }).field).toBe(
      'appliesTo.anyOf.0',
    );
  });
});

describe('ToolRegistryError', () => {
  it('names the source, the tool and the field', () => {
    const error = new ToolRegistryError({
      source: 'tools.json',
      toolId: 'pytest',
      field: 'argv.2',
      problem: 'unknown placeholder {x}',
    });
    expect(error.message).toBe('tools.json: tool pytest, field argv.2: unknown placeholder {x}');
    expect(error.code).toBe('TOOL_REGISTRY_INVALID');
    expect(
      new ToolRegistryError({ source: 's', toolId: null, field: '', problem: 'p' }).message,
    ).toBe('s: p');
  });
});
