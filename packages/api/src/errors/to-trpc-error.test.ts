import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as executor from '@runbox/executor';
import { TRPCError } from '@trpc/server';
import { describe, expect, expectTypeOf, it } from 'vitest';
import * as config from '../config.ts';
import * as requestGuards from '../http/request-guards.ts';
import * as storeErrors from '../store/store-errors.ts';
import * as uploadErrors from '../uploads/upload-errors.ts';
import * as uploadLimits from '../uploads/upload-limits.ts';
import * as apiErrors from './api-errors.ts';
import type { RunboxError, RunboxErrorDetails } from './runbox-error.ts';
import {
  CODE_TO_TRPC,
  errorDetails,
  isRunboxErrorCode,
  toTRPCError,
  trpcCodeFor,
} from './to-trpc-error.ts';

type ErrorClass = abstract new (...args: never[]) => Error;

/** Every error class a module exports, by its exported name. */
function errorClassesOf(module: Record<string, unknown>): Map<string, ErrorClass> {
  const found = new Map<string, ErrorClass>();
  for (const [name, value] of Object.entries(module)) {
    if (typeof value === 'function' && value.prototype instanceof Error) {
      found.set(name, value as ErrorClass);
    }
  }
  return found;
}

const EXPORTED = new Map([
  ...errorClassesOf(executor),
  ...errorClassesOf(apiErrors),
  ...errorClassesOf(storeErrors),
  ...errorClassesOf(uploadErrors),
  ...errorClassesOf(uploadLimits),
  ...errorClassesOf(requestGuards),
  ...errorClassesOf(config),
]);

const failedLayer = { layer: 'network', mechanism: 'bwrap --unshare-net', ok: false, detail: 'x' };

/** One real instance of every error class, built the way its callers build it. */
const SAMPLES: readonly Error[] = [
  // engine
  new executor.QueueFullError(100, 100),
  new executor.RunNotFoundError('r1'),
  new executor.ShuttingDownError(),
  new executor.InvalidRunRequestError('kind', 'expected snippet or tool'),
  new executor.UnknownToolError('nope'),
  new executor.EventsUnavailableError('r1', 3, 50),
  new executor.InvalidTransitionError('completed', 'running'),
  // validation of code
  new executor.CodeTooLargeError({ sizeBytes: 200_000, maxBytes: 102_400 }),
  new executor.SecretInCodeError({ findings: [{ kind: 'github-token', line: 3 }] }),
  new executor.DangerousPatternError({
    rule: 'python-os-command',
    line: 2,
    excerpt: 'os.system(...)',
    message: 'runs a shell command',
  }),
  new executor.SyntaxCheckError({ language: 'python', line: 1, detail: 'invalid syntax' }),
  // sandbox
  new executor.LimitOutOfRangeError({ field: 'wallTimeMs', value: 10, min: 1_000, max: 300_000 }),
  new executor.UnsafeSandboxError({
    ok: false,
    checks: [failedLayer],
    startedAt: 0,
    durationMs: 1,
  }),
  new executor.SandboxHostError('bwrap is not installed'),
  new executor.CgroupUnavailableError('no writable cgroup'),
  new executor.UnsupportedArchError('mips'),
  new executor.UnsafeWorkspacePathError('result.json', 'a symbolic link'),
  new executor.SnippetNotRunError('error', 'the sandbox did not start'),
  // output
  new executor.LineSplitterOptionError({ option: 'maxLineBytes', value: 0, expected: '>= 1' }),
  new executor.LineSplitterEndedError(),
  // tools, examples, projects
  new executor.ToolRegistryError({ source: 'tools.json', toolId: 't', field: '', problem: 'x' }),
  new executor.ToolArgvError('{entry}', 'the entry is not a file of the project'),
  new executor.ToolNotApplicableError('pytest', ['test_*.py']),
  new executor.ExampleError('hello', 'tool', 'no such tool'),
  new executor.ProjectTooLargeError({ limit: 'bytes', value: 2_000, max: 1_000 }),
  new executor.ProjectCopyError('a.txt', 'EIO'),
  // dependency environments
  new executor.EnvironmentRefusedError('environment "project": no manifest'),
  new executor.InstallFailedError('installing environment "project" failed'),
  new executor.EgressConfigError('ftp://x', 'not http or https', 'an http:// or https:// URL'),
  new executor.EgressProxyError('/run/p.sock', 'in use'),
  new executor.ForkerError('it ended'),
  // artifacts
  new executor.ArtifactOptionsError('maxFiles must be positive'),
  new executor.InvalidArtifactPathError('../x', 'must be plain names'),
  new executor.ArtifactNotFoundError('r1', 'out.png'),
  // configuration
  new executor.ConfigError('RUNBOX_MAX_QUEUE', 'too big'),
  new uploadLimits.InvalidUploadLimitError({ field: 'maxFiles', value: 0, expected: '>= 1' }),
  new executor.SandboxDirInUseError('/var/lib/runbox', 42),
  // uploads
  new uploadErrors.UploadRejectedError({ rule: 'path-traversal', entry: '../x', detail: '..' }),
  new uploadErrors.InvalidProjectIdError('../p'),
  new uploadErrors.ProjectExistsError({ projectId: 'p', dir: '/data/projects/p' }),
  // store
  new storeErrors.SchemaTooNewError({ file: 'db', databaseVersion: 9, codeVersion: 3 }),
  new storeErrors.MigrationFailedError({ version: 2, name: 'add', cause: new Error('x') }),
  new storeErrors.StoreOpenError('db', 'no WAL'),
  new storeErrors.StoreClosedError('insertRun'),
  new storeErrors.InvalidStoreArgumentError('limit', 'at most 500'),
  new storeErrors.StoreConstraintError('runs', new Error('UNIQUE')),
  new storeErrors.RunAlreadyEndedError({ runId: 'r1', state: 'completed', requested: 'running' }),
  new storeErrors.CorruptColumnError({ table: 'runs', key: 'r1', column: 'x', problem: 'bad' }),
  new storeErrors.EventWriteError({ runId: null, count: 3, kept: true, problem: 'busy' }),
  // the API's own
  new apiErrors.RateLimitError({ limit: 'runsPerHour', message: 'too many', retryAfterMs: 5_000 }),
  new apiErrors.NotFoundError('run', 'r1'),
  new apiErrors.AdminRequiredError(),
  new apiErrors.OwnerRequiredError(),
  new apiErrors.BadInputError('archive', 'missing'),
  new apiErrors.NoWorkersError(),
  new requestGuards.RequestRefusedError(
    403,
    'origin https://evil.example may not call this server',
  ),
  // sessions and interactive runs
  new executor.SessionBusyError('reading its variables'),
  new executor.SessionKernelEndedError('it ran out of memory'),
  new executor.SessionGoneError('s1'),
  new executor.InvalidVariableError("'1x' is not a name a variable can have"),
  new executor.RunNotInteractiveError('r1', 'was not created interactive'),
  new executor.SessionsUnavailableError('no worker is alive and taking work'),
];

/**
 * The classes whose errors are runbox's own fault (a bug, a broken host or store, a bad setting
 * of the operator's): INTERNAL_SERVER_ERROR, their details kept for the log. Every other class
 * is about what a caller sent or asked for, and gets a 4xx-class answer (or 503 while runbox
 * cannot serve anyone).
 */
const RUNBOX_FAULTS = new Set([
  'InvalidTransitionError',
  'SandboxHostError',
  'CgroupUnavailableError',
  'UnsupportedArchError',
  'SnippetNotRunError',
  'LineSplitterOptionError',
  'LineSplitterEndedError',
  'ToolRegistryError',
  'ExampleError',
  'ProjectCopyError',
  'EgressConfigError',
  'EgressProxyError',
  'ForkerError',
  'ArtifactOptionsError',
  'ConfigError',
  'InvalidUploadLimitError',
  'SandboxDirInUseError',
  'InvalidProjectIdError',
  'ProjectExistsError',
  'SchemaTooNewError',
  'MigrationFailedError',
  'StoreOpenError',
  'InvalidStoreArgumentError',
  'StoreConstraintError',
  'RunAlreadyEndedError',
  'CorruptColumnError',
  'EventWriteError',
]);

function codeOf(error: Error): string {
  return (error as Error & { code: string }).code;
}

describe('the error contract', () => {
  it('has a sample of every error class the executor and the API export', () => {
    const sampled = new Set(SAMPLES.map((sample) => sample.constructor));
    const missing = [...EXPORTED].filter(([, cls]) => !sampled.has(cls)).map(([name]) => name);
    expect(missing).toEqual([]);
  });

  it('knows every code of an exported error class in the sources, and no other code', async () => {
    const packages = fileURLToPath(new URL('../../../', import.meta.url));
    const written = new Set<string>();
    for (const root of ['executor/src', 'api/src']) {
      const files = await readdir(join(packages, root), { recursive: true });
      for (const file of files.filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))) {
        const text = await readFile(join(packages, root, file), 'utf8');
        for (const match of text.matchAll(/readonly code = '([A-Z0-9_]+)'/g)) {
          // A module's private error (control flow that never leaves it) is no one else's.
          const declaration = text.lastIndexOf('class ', match.index);
          if (text.slice(declaration - 'export '.length, declaration) === 'export ') {
            written.add(match[1] as string);
          }
        }
      }
    }
    expect([...written].sort()).toEqual(Object.keys(CODE_TO_TRPC).sort());
  });

  it.each(SAMPLES.map((sample) => [sample.constructor.name, sample] as const))(
    '%s maps to a known code and says whose fault it is',
    (name, sample) => {
      expect(isRunboxErrorCode(codeOf(sample))).toBe(true);
      const wire = toTRPCError(sample);
      // The engine's own mark (a user fault ends a run `failed`, not `error`) agrees with the wire.
      if (executor.isUserFault(sample)) expect(RUNBOX_FAULTS.has(name)).toBe(false);
      if (RUNBOX_FAULTS.has(name)) {
        expect(wire.code).toBe('INTERNAL_SERVER_ERROR');
        expect(wire.message).not.toContain(sample.message);
        expect(errorDetails(sample)).toBeNull();
      } else {
        expect(wire.code).not.toBe('INTERNAL_SERVER_ERROR');
        expect(wire.message).toBe(sample.message);
        expect(errorDetails(sample)?.code).toBe(codeOf(sample));
      }
      expect(wire.cause).toBe(sample);
    },
  );

  it('answers size rules of an upload with 413 and the other rules with 400', () => {
    const rejected = (rule: uploadErrors.UploadRejectionRule) =>
      trpcCodeFor(new uploadErrors.UploadRejectedError({ rule, detail: 'x', limit: 10 }));
    for (const rule of [
      'upload-too-large',
      'file-too-large',
      'total-too-large',
      'too-many-files',
      'too-many-directories',
      'compression-ratio',
    ] as const) {
      expect(rejected(rule)).toBe('PAYLOAD_TOO_LARGE');
    }
    for (const rule of ['path-traversal', 'symlink', 'corrupt-archive', 'empty'] as const) {
      expect(rejected(rule)).toBe('BAD_REQUEST');
    }
  });

  it('answers a refused content type with 415 and a refused origin with 403', () => {
    expect(trpcCodeFor(new requestGuards.RequestRefusedError(415, 'text/plain'))).toBe(
      'UNSUPPORTED_MEDIA_TYPE',
    );
    expect(trpcCodeFor(new requestGuards.RequestRefusedError(403, 'origin'))).toBe('FORBIDDEN');
  });

  it('hides anything it does not know, even an error with a code', () => {
    const enoent = Object.assign(new Error("ENOENT: open '/srv/secret'"), { code: 'ENOENT' });
    for (const error of [enoent, new Error('/srv/secret'), 'a string', null]) {
      const wire = toTRPCError(error);
      expect(wire.code).toBe('INTERNAL_SERVER_ERROR');
      expect(wire.message).not.toContain('/srv/secret');
      expect(errorDetails(error)).toBeNull();
    }
  });

  it('passes a TRPCError through as it is', () => {
    const error = new TRPCError({ code: 'TOO_MANY_REQUESTS', message: 'too many subscriptions' });
    expect(toTRPCError(error)).toBe(error);
  });

  it('copies the structured fields the client shows', () => {
    expect(errorDetails(new executor.QueueFullError(7, 7))).toEqual({
      code: 'QUEUE_FULL',
      queueLength: 7,
      maxQueueLength: 7,
    });
    expect(
      errorDetails(new executor.SecretInCodeError({ findings: [{ kind: 'aws-key', line: 4 }] })),
    ).toEqual({ code: 'SECRET_IN_CODE', kind: 'aws-key', line: 4 });
    expect(
      errorDetails(
        new executor.LimitOutOfRangeError({ field: 'wallTimeMs', value: 1, min: 1_000, max: 9 }),
      ),
    ).toEqual({ code: 'LIMIT_OUT_OF_RANGE', field: 'wallTimeMs', min: 1_000, max: 9 });
    // A syntax error whose checker named no line has no line, rather than `line: null`.
    expect(
      errorDetails(new executor.SyntaxCheckError({ language: 'python', line: null, detail: 'x' })),
    ).toEqual({ code: 'SYNTAX_ERROR' });
  });

  it('declares a type for every detail field wide enough for what the classes carry', () => {
    type WireValue<K extends string> = RunboxError extends infer E
      ? E extends { readonly [P in K]: infer V }
        ? Extract<V, string | number>
        : never
      : never;
    type FromClasses = {
      [K in Exclude<keyof RunboxErrorDetails, 'code'>]?: WireValue<K>;
    };
    expectTypeOf<FromClasses>().toExtend<Omit<RunboxErrorDetails, 'code'>>();
    expectTypeOf<RunboxError['code']>().toEqualTypeOf<RunboxErrorDetails['code']>();
  });
});
