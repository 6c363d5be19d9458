import { z } from 'zod';
import { jsonAnswer } from '../operation-kit.ts';
import type { RestOperation } from '../rest-operation.ts';
import { pistonExecuteAnswerSchema, pistonRuntimeSchema } from './piston-answer.ts';
import { pistonExecute, pistonListRuntimes } from './piston-execute.ts';
import { pistonExecuteSchema } from './piston-request.ts';

/**
 * Piston's execute API under /api/v2 (docs/piston.md): its two calls, also under `/piston/`, the
 * paths of Piston's public instance. Documented in the OpenAPI document with the REST calls.
 */

export const PISTON_PATH = '/api/v2';

/** Piston's own example (docs/api-v2.md), with runbox's version selector "*". */
export const examplePistonExecute = {
  language: 'js',
  version: '*',
  files: [{ name: 'my_cool_code.js', content: 'console.log(process.argv.slice(2))' }],
  stdin: '',
  args: ['1', '2', '3'],
  compile_timeout: 10000,
  run_timeout: 3000,
  compile_memory_limit: -1,
  run_memory_limit: -1,
};

const exampleAnswer = {
  run: {
    stdout: "[ '1', '2', '3' ]\n",
    stderr: '',
    code: 0,
    signal: null,
    output: "[ '1', '2', '3' ]\n",
    memory: 41_943_040,
    message: null,
    status: null,
    cpu_time: 38,
    wall_time: 61,
  },
  language: 'javascript',
  version: '24.21.0',
};

const exampleRuntimes = [
  { language: 'python', version: '3.11.7', aliases: ['py', 'py3', 'python3'] },
  {
    language: 'javascript',
    version: '24.21.0',
    aliases: ['node-javascript', 'node-js', 'node', 'js'],
    runtime: 'node',
  },
];

function execute(path: string, operationId: string, alias: boolean): RestOperation {
  return {
    method: 'POST',
    base: PISTON_PATH,
    path,
    operationId,
    tag: 'piston',
    summary: alias
      ? 'Piston: run code (the path of Piston’s public instance)'
      : 'Piston: run code and answer with its stdout, stderr, output, exit code and signal',
    description:
      "Piston's request: `language` (a name or alias of /runtimes), `version` (a SemVer selector, `*` for any), `files` (the first utf8 one runs; `name` optional; `encoding` utf8, base64 or hex of UTF-8 text), " +
      '`stdin` (a final newline is added as Piston adds it), `args`, `run_timeout` (ms, the wall time), `run_memory_limit` (bytes; -1 the server default); `compile_*` and `*_cpu_time` are checked and ignored. ' +
      'Above the server maximum, a limit is refused, not clamped. Answers when the run has ended; errors are `{"message"}` (400 for bad input). Credentials as for /api/v1.',
    access: 'owner',
    procedure: null,
    inputFrom: 'none',
    bodySchema: pistonExecuteSchema,
    errors: 'piston',
    responses: [jsonAnswer(pistonExecuteAnswerSchema, exampleAnswer)],
    example: { body: examplePistonExecute },
    handle: pistonExecute,
  };
}

function runtimes(path: string, operationId: string): RestOperation {
  return {
    method: 'GET',
    base: PISTON_PATH,
    path,
    operationId,
    tag: 'piston',
    summary:
      "Piston: the languages this server runs, with their interpreters' versions and aliases",
    description:
      'Versions are read from the interpreters themselves at the first call. TypeScript runs on Node (type stripping): its version is Node’s.',
    access: 'public',
    procedure: null,
    inputFrom: 'none',
    errors: 'piston',
    responses: [jsonAnswer(z.array(pistonRuntimeSchema), exampleRuntimes)],
    example: {},
    handle: pistonListRuntimes,
  };
}

export const pistonOperations: readonly RestOperation[] = [
  runtimes('/runtimes', 'pistonRuntimes'),
  execute('/execute', 'pistonExecute', false),
  runtimes('/piston/runtimes', 'pistonRuntimesAlias'),
  execute('/piston/execute', 'pistonExecuteAlias', true),
];
