import { callsProcedure, procedureAnswer } from './operation-kit.ts';
import type { RestOperation } from './rest-operation.ts';

/** What this server offers, for anyone: tools, examples, limits, the queue. */

const limitValues = {
  wallTimeMs: 30_000,
  memoryBytes: 536_870_912,
  maxProcesses: 256,
  cpus: 1,
  tmpBytes: 67_108_864,
  workspaceBytes: 67_108_864,
  openFiles: 256,
  outputBytes: 1_048_576,
};

export const catalogOperations: readonly RestOperation[] = [
  {
    method: 'GET',
    path: '/tools',
    operationId: 'listTools',
    tag: 'catalog',
    summary: 'The tools a tool run may name, with whether each is available here',
    description: 'An unavailable tool says why (`reason`).',
    access: 'public',
    procedure: 'tools.list',
    inputFrom: 'none',
    responses: [
      procedureAnswer('tools.list', [
        {
          id: 'pytest',
          name: 'pytest',
          description: "Runs the project's tests (test_*.py, *_test.py) with pytest.",
          available: true,
          reason: null,
          version: 'pytest 8.3.5',
          appliesTo: ['test_*.py', '*_test.py'],
          takesEntry: false,
          arguments: {
            description: 'Options of pytest, then the test files or directories to run.',
            options: [
              {
                name: '-k',
                aliases: [],
                value: { kind: 'text', name: 'EXPRESSION' },
                repeatable: false,
                description: 'Only tests whose names match the expression.',
              },
            ],
            operands: {
              value: { kind: 'path', name: 'PATH', accepts: 'any', testId: true },
              max: 64,
              description: 'Test files or directories of the project.',
              default: [],
            },
          },
          detectedEnv: [
            {
              name: 'PYTHONPATH',
              value: '{workspace}/src',
              when: ['/src/*/__init__.py', '/src/*/*.py', '/src/*.py'],
              reason: 'the project has a src/ layout',
            },
          ],
          limits: { wallTimeMs: 60_000 },
        },
      ]),
    ],
    example: {},
    handle: callsProcedure('tools.list'),
  },
  {
    method: 'GET',
    path: '/examples',
    operationId: 'listExamples',
    tag: 'catalog',
    summary: 'The bundled example projects a tool run may name (exampleId)',
    description: 'Each with the tool it runs and the limits it sets.',
    access: 'public',
    procedure: 'examples.list',
    inputFrom: 'none',
    responses: [
      procedureAnswer('examples.list', [
        {
          id: 'hello-python',
          name: 'Hello, Python',
          description: 'Prints a greeting.',
          tool: 'python',
          limits: {},
        },
      ]),
    ],
    example: {},
    handle: callsProcedure('examples.list'),
  },
  {
    method: 'GET',
    path: '/environments',
    operationId: 'listEnvironments',
    tag: 'catalog',
    summary: 'The dependency environments a run may pick (`environment`)',
    description:
      "`project` installs what a tool run's project lists (requirements.txt, pyproject.toml, package.json with package-lock.json), when a registry is allowed for it here (`project.python`, `project.node`); `named` are the environments the operator declared (RUNBOX_ENVIRONMENTS). Installs run sandboxed, reach only the allowed registries, and are cached by content.",
    access: 'public',
    procedure: 'environments.list',
    inputFrom: 'none',
    responses: [
      procedureAnswer('environments.list', {
        project: { python: true, node: false },
        named: [
          {
            name: 'science',
            description: 'numpy and pandas',
            python: ['numpy==2.1.3', 'pandas'],
            node: {},
          },
        ],
      }),
    ],
    example: {},
    handle: callsProcedure('environments.list'),
  },
  {
    method: 'GET',
    path: '/limits',
    operationId: 'getLimits',
    tag: 'catalog',
    summary: 'The defaults and the range of every limit a run may ask for on this server',
    description: 'A run asking for a limit out of range is refused with LIMIT_OUT_OF_RANGE.',
    access: 'public',
    procedure: 'limits.get',
    inputFrom: 'none',
    responses: [
      procedureAnswer('limits.get', {
        defaults: limitValues,
        minimums: {
          wallTimeMs: 100,
          memoryBytes: 16_777_216,
          maxProcesses: 1,
          cpus: 0.1,
          tmpBytes: 1_048_576,
          workspaceBytes: 1_048_576,
          openFiles: 16,
          outputBytes: 1_024,
        },
        maximums: { ...limitValues, wallTimeMs: 300_000, memoryBytes: 4_294_967_296 },
        maxOutputLines: 100_000,
      }),
    ],
    example: {},
    handle: callsProcedure('limits.get'),
  },
  {
    method: 'GET',
    path: '/queue',
    operationId: 'getQueueStatus',
    tag: 'catalog',
    summary: 'How busy runbox is, and what a run created now would wait',
    description: 'No run ids of others.',
    access: 'public',
    procedure: 'queue.status',
    inputFrom: 'none',
    responses: [
      procedureAnswer('queue.status', {
        waiting: 0,
        running: 1,
        concurrency: 2,
        paused: false,
        estimatedWaitMs: 0,
      }),
    ],
    example: {},
    handle: callsProcedure('queue.status'),
  },
];
