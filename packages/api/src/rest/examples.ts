import type { RunView } from '../schemas/run-views.ts';
import type { RunOutputView } from './run-output-view.ts';

/**
 * Example values for the OpenAPI document: what this server answers, shaped exactly as the
 * schemas say (the contract test checks every example against its schema).
 */

export const EXAMPLE_RUN_ID = '3f2c9a4e-8b1d-4c55-9e0a-2d7b6f1c0a11';
export const EXAMPLE_PROJECT_ID = '9d1e7b20-5c3a-4f8e-b6a2-0c4d8e2f7a93';

export const exampleSnippet = {
  kind: 'snippet',
  language: 'python',
  code: 'print(6 * 7)\n',
} as const;

/** A batch: a three-file Python project with arguments, and a run judged against its output. */
export const exampleBatch = {
  runs: [
    {
      kind: 'snippet',
      language: 'python',
      entry: 'app.py',
      files: [
        {
          name: 'app.py',
          content: 'import sys\nfrom greet import hello\nprint(hello(sys.argv[1]))\n',
        },
        { name: 'greet.py', content: 'def hello(name):\n    return "hello " + name\n' },
      ],
      args: ['world'],
      env: { GREETING_STYLE: 'plain' },
    },
    {
      kind: 'snippet',
      language: 'bash',
      code: 'read a b; echo $((a + b))\n',
      stdin: '2 3\n',
      expectedOutput: '5\n',
    },
  ],
} as const;

export const exampleRun: RunView = {
  id: EXAMPLE_RUN_ID,
  kind: 'snippet',
  language: 'python',
  toolId: null,
  projectId: null,
  exampleId: null,
  code: 'print(6 * 7)\n',
  stdin: null,
  state: 'completed',
  queuedAt: 1_767_225_600_000,
  startedAt: 1_767_225_600_012,
  finishedAt: 1_767_225_600_061,
  exitCode: 0,
  signal: null,
  durationMs: 49,
  usage: { cpuMs: 21, peakMemoryBytes: 9_437_184 },
  warnings: [],
  error: null,
  outputLines: 1,
  verdict: null,
  limits: {
    wallTimeMs: 30_000,
    memoryBytes: 536_870_912,
    maxProcesses: 256,
    cpus: 1,
    tmpBytes: 67_108_864,
    workspaceBytes: 67_108_864,
    openFiles: 256,
    outputBytes: 1_048_576,
  },
  position: null,
  estimatedWaitMs: null,
};

export const exampleQueuedRun: RunView = {
  ...exampleRun,
  state: 'queued',
  startedAt: null,
  finishedAt: null,
  exitCode: null,
  durationMs: null,
  usage: null,
  outputLines: null,
  position: 1,
  estimatedWaitMs: 0,
};

export const exampleRunOutput: RunOutputView = {
  ...exampleRun,
  ended: true,
  stdout: '42\n',
  stderr: '',
  stdoutBytes: 3,
  stderrBytes: 0,
  stdoutTruncated: false,
  stderrTruncated: false,
  outputLimit: null,
  lastEventId: 4,
};

export const exampleRunningOutput: RunOutputView = {
  ...exampleRun,
  code: 'import time\nfor i in range(100):\n    print(i, flush=True)\n    time.sleep(1)\n',
  state: 'running',
  finishedAt: null,
  exitCode: null,
  durationMs: null,
  usage: null,
  outputLines: null,
  ended: false,
  stdout: '0\n1\n2\n',
  stderr: '',
  stdoutBytes: 6,
  stderrBytes: 0,
  stdoutTruncated: false,
  stderrTruncated: false,
  outputLimit: null,
  lastEventId: 6,
};

export const exampleEvents = [
  { seq: 1, at: 1_767_225_600_000, type: 'state', state: 'queued' },
  { seq: 2, at: 1_767_225_600_012, type: 'state', state: 'running' },
  {
    seq: 3,
    at: 1_767_225_600_050,
    type: 'output',
    stream: 'stdout',
    text: '42',
    partial: false,
    continuation: false,
  },
  {
    seq: 4,
    at: 1_767_225_600_061,
    type: 'end',
    result: {
      state: 'completed',
      exitCode: 0,
      signal: null,
      queuedAt: 1_767_225_600_000,
      startedAt: 1_767_225_600_012,
      finishedAt: 1_767_225_600_061,
      durationMs: 49,
      usage: { cpuMs: 21, peakMemoryBytes: 9_437_184 },
      warnings: [],
      error: null,
      outputBytes: { stdout: 3, stderr: 0 },
      outputLines: 1,
      artifacts: [],
    },
  },
] as const;

export const exampleProject = {
  id: EXAMPLE_PROJECT_ID,
  name: 'hello',
  source: 'upload',
  fileCount: 1,
  totalBytes: 18,
  createdAt: 1_767_225_600_000,
} as const;
