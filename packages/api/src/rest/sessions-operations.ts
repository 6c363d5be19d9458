import { z } from 'zod';
import type { RunView } from '../schemas/run-views.ts';
import { runViewSchema } from '../schemas/run-views.ts';
import {
  sessionViewSchema,
  type SessionDetail,
  type SessionView,
} from '../sessions/session-views.ts';
import { EXAMPLE_RUN_ID, exampleRun } from './examples.ts';
import { callsProcedure, jsonAnswer, procedureAnswer } from './operation-kit.ts';
import { runOutputSchema, type RunOutputView } from './run-output-view.ts';
import type { RestOperation } from './rest-operation.ts';
import { createRunMaybeWaiting } from './runs-operations.ts';

/**
 * Sessions (docs/sessions.md): create, list, get, run a cell (and wait for it), variables,
 * interrupt, restart, close; the admin's list and close. And the interactive runs' input and
 * signals (runs.sendInput, runs.closeInput, runs.signal).
 */

const EXAMPLE_SESSION_ID = '5b0e3c7d-2f41-4a9e-8d16-7c9a1e4b3f20';
const sessionParams = { id: EXAMPLE_SESSION_ID };

const exampleSession: SessionView = {
  id: EXAMPLE_SESSION_ID,
  language: 'python',
  state: 'active',
  kernel: 'running',
  busy: false,
  limits: { ...exampleRun.limits },
  environment: null,
  idleTtlMs: 600_000,
  maxLifetimeMs: 86_400_000,
  createdAt: 1_767_225_600_000,
  lastActiveAt: 1_767_225_660_000,
  hibernatesAt: 1_767_226_260_000,
  expiresAt: 1_767_312_000_000,
  closedAt: null,
  closeReason: null,
  snapshotAt: 1_767_225_660_000,
  keptVariables: ['scores'],
  lostVariables: [{ name: 'square', type: 'function', reason: 'not JSON' }],
  notice: { kind: 'started', at: 1_767_225_600_100, reason: null, restored: [], lost: [] },
  memoryBytes: 12_582_912,
  cells: [
    {
      id: EXAMPLE_RUN_ID,
      state: 'completed',
      queuedAt: 1_767_225_650_000,
      finishedAt: 1_767_225_650_020,
    },
  ],
};

const exampleCell: RunView = {
  ...exampleRun,
  kind: 'cell',
  sessionId: EXAMPLE_SESSION_ID,
  code: 'scores = {"ann": [1, 2]}\nsum(scores["ann"])',
  value: 3,
};

const exampleSessionDetail: SessionDetail = { ...exampleSession, cells: [exampleCell] };

const exampleVariables = {
  source: 'kernel' as const,
  variables: [{ name: 'scores', type: 'dict', repr: "{'ann': [1, 2]}" }],
  lost: [{ name: 'square', type: 'function', reason: 'not JSON' }],
};

const exampleCellOutput: RunOutputView = {
  ...exampleCell,
  ended: true,
  stdout: '',
  stderr: '',
  stdoutBytes: 0,
  stderrBytes: 0,
  stdoutTruncated: false,
  stderrTruncated: false,
  outputLimit: null,
  lastEventId: 5,
};

const waitQuery = z
  .object({
    wait: z
      .enum(['true', 'false'])
      .optional()
      .describe(
        'true: answer when the cell has ended (at most RUNBOX_REST_WAIT_MAX_MS), with its output and value',
      ),
  })
  .strict();

export const sessionsOperations: readonly RestOperation[] = [
  {
    method: 'POST',
    path: '/sessions',
    operationId: 'createSession',
    tag: 'sessions',
    summary: 'Create a session: a kernel that keeps its variables from cell to cell',
    description:
      '`{language: "python" | "javascript" | "typescript", limits?, idleTtlMs?, maxLifetimeMs?}`. ' +
      "The session's memory, process, CPU, /tmp and workspace limits hold for its whole life; `limits.wallTimeMs` and `outputBytes` are each cell's. " +
      'Idle past `idleTtlMs` it hibernates (its kernel stops; its JSON-safe variables are kept and come back with the next cell); at `maxLifetimeMs` it is closed. ' +
      'An owner may have RUNBOX_SESSIONS_PER_OWNER open sessions (default 3): 429 `SESSION_LIMIT` beyond.',
    access: 'owner',
    procedure: 'sessions.create',
    inputFrom: 'body',
    responses: [
      jsonAnswer(sessionViewSchema, exampleSession, 201, 'The session, its kernel started'),
    ],
    example: { body: { language: 'python', idleTtlMs: 600_000 } },
    handle: async (call) => ({
      status: 201,
      body: await call.call('sessions.create', await call.input()),
    }),
  },
  {
    method: 'GET',
    path: '/sessions',
    operationId: 'listSessions',
    tag: 'sessions',
    summary: "The caller's sessions, newest first, each with a summary of its cells",
    description: 'Filter by `states` (`active`, `hibernated`, `closed`; repeat the parameter).',
    access: 'owner',
    procedure: 'sessions.list',
    inputFrom: 'query',
    responses: [procedureAnswer('sessions.list', { sessions: [exampleSession] })],
    example: { query: { states: ['active', 'hibernated'], limit: '20' } },
    handle: callsProcedure('sessions.list'),
  },
  {
    method: 'GET',
    path: '/sessions/{id}',
    operationId: 'getSession',
    tag: 'sessions',
    summary: 'A session with its cells in full (code, state, value), its variables kept and lost',
    description: "Another owner's session is 404, as is one that does not exist.",
    access: 'owner',
    procedure: 'sessions.get',
    inputFrom: 'none',
    responses: [procedureAnswer('sessions.get', exampleSessionDetail)],
    example: { params: sessionParams },
    handle: callsProcedure('sessions.get'),
  },
  {
    method: 'POST',
    path: '/sessions/{sessionId}/run',
    operationId: 'runSessionCell',
    tag: 'sessions',
    summary: 'Run code in the session: a cell (a run of kind cell), after the cells before it',
    description:
      '`{code, timeoutMs?}`. The cell is a run like any other: follow it at `/runs/{id}/events`, cancel it at `/runs/{id}/cancel`. ' +
      'Its value is its last expression (as a notebook shows it). Past its time it is interrupted (SIGINT), then its kernel is killed after RUNBOX_SESSION_INTERRUPT_GRACE_MS and started again from the last snapshot. ' +
      'With `wait=true` it answers 200 with the ended cell and its output, or 202 with what came within RUNBOX_REST_WAIT_MAX_MS.',
    access: 'owner',
    procedure: 'sessions.run',
    inputFrom: 'body',
    ownQuery: waitQuery,
    responses: [
      jsonAnswer(runViewSchema, { ...exampleCell, state: 'queued' }, 201, 'The cell, queued'),
      jsonAnswer(runOutputSchema, exampleCellOutput, 200, 'wait=true: the cell has ended'),
      jsonAnswer(
        runOutputSchema,
        { ...exampleCellOutput, ended: false, state: 'running' },
        202,
        'wait=true: the cell had not ended within the wait; its output so far',
      ),
    ].map((doc) => ({ ...doc, headers: { location: 'the cell: /api/v1/runs/{id}' } })),
    example: {
      params: { sessionId: EXAMPLE_SESSION_ID },
      query: { wait: 'true' },
      body: { code: 'scores = {"ann": [1, 2]}\nsum(scores["ann"])' },
    },
    handle: (call) => createRunMaybeWaiting(call, 'sessions.run'),
  },
  {
    method: 'GET',
    path: '/sessions/{id}/variables',
    operationId: 'getSessionVariables',
    tag: 'sessions',
    summary: "The session's variables: name, type and a short representation",
    description:
      'From its kernel when one runs (409 `SESSION_BUSY` while a cell runs), else from its last snapshot, without waking it. `lost` names what a hibernation would not keep.',
    access: 'owner',
    procedure: 'sessions.variables',
    inputFrom: 'none',
    responses: [procedureAnswer('sessions.variables', exampleVariables)],
    example: { params: sessionParams },
    handle: callsProcedure('sessions.variables'),
  },
  {
    method: 'POST',
    path: '/sessions/{id}/variables',
    operationId: 'setSessionVariable',
    tag: 'sessions',
    summary: 'Bind a name to a JSON value in the session (waking it if it hibernates)',
    description: "`{name, value}`: the value as JSON; it is kept in the session's snapshot.",
    access: 'owner',
    procedure: 'sessions.setVariable',
    inputFrom: 'body',
    responses: [procedureAnswer('sessions.setVariable', exampleVariables)],
    example: { params: sessionParams, body: { name: 'scores', value: { ann: [1, 2] } } },
    handle: callsProcedure('sessions.setVariable'),
  },
  {
    method: 'POST',
    path: '/sessions/{id}/interrupt',
    operationId: 'interruptSession',
    tag: 'sessions',
    summary: 'Interrupt the running cell (SIGINT): it ends cancelled; the session goes on',
    description: 'Send no body. A session with no cell running is left as it is.',
    access: 'owner',
    procedure: 'sessions.interrupt',
    inputFrom: 'none',
    responses: [procedureAnswer('sessions.interrupt', exampleSession)],
    example: { params: sessionParams },
    handle: callsProcedure('sessions.interrupt'),
  },
  {
    method: 'POST',
    path: '/sessions/{id}/restart',
    operationId: 'restartSession',
    tag: 'sessions',
    summary: 'Restart the session: a fresh kernel, no variables, its cells cancelled',
    description: 'Send no body.',
    access: 'owner',
    procedure: 'sessions.restart',
    inputFrom: 'none',
    responses: [procedureAnswer('sessions.restart', exampleSession)],
    example: { params: sessionParams },
    handle: callsProcedure('sessions.restart'),
  },
  {
    method: 'POST',
    path: '/sessions/{id}/close',
    operationId: 'closeSession',
    tag: 'sessions',
    summary:
      'Close the session for good: its kernel ends, its snapshot goes; its cells stay in the history',
    description: 'Send no body. A closed session stays closed.',
    access: 'owner',
    procedure: 'sessions.close',
    inputFrom: 'none',
    responses: [procedureAnswer('sessions.close', { ...exampleSession, state: 'closed' })],
    example: { params: sessionParams },
    handle: callsProcedure('sessions.close'),
  },
  {
    method: 'GET',
    path: '/admin/sessions',
    operationId: 'adminListSessions',
    tag: 'admin',
    summary: 'Every open session: owner, language, age, idle time, memory',
    description: 'Open sessions (active and hibernated), newest first.',
    access: 'admin',
    procedure: 'sessions.adminList',
    inputFrom: 'query',
    responses: [
      procedureAnswer('sessions.adminList', { sessions: [{ ...exampleSession, owner: 'key:ci' }] }),
    ],
    example: { query: { limit: '50' } },
    handle: callsProcedure('sessions.adminList'),
  },
  {
    method: 'POST',
    path: '/admin/sessions/{id}/close',
    operationId: 'adminCloseSession',
    tag: 'admin',
    summary: "Close anyone's session",
    description: 'Send no body.',
    access: 'admin',
    procedure: 'sessions.adminClose',
    inputFrom: 'none',
    responses: [
      procedureAnswer('sessions.adminClose', {
        ...exampleSession,
        owner: 'key:ci',
        state: 'closed',
        closeReason: 'closed by the admin',
      }),
    ],
    example: { params: sessionParams },
    handle: callsProcedure('sessions.adminClose'),
  },
];

const runParams = { id: EXAMPLE_RUN_ID };

/** Input and signals for runs created with `interactive: true`. */
export const interactiveRunOperations: readonly RestOperation[] = [
  {
    method: 'POST',
    path: '/runs/{id}/input',
    operationId: 'sendRunInput',
    tag: 'runs',
    summary: 'Write to the stdin of an interactive run (queued or running)',
    description:
      '`{data}`: text, written as UTF-8. Only for runs created with `interactive: true` (412 `RUN_NOT_INTERACTIVE` otherwise, or once it ended); at most 1 MiB may wait unread.',
    access: 'owner',
    procedure: 'runs.sendInput',
    inputFrom: 'body',
    responses: [procedureAnswer('runs.sendInput', { bytes: 4 })],
    example: { params: runParams, body: { data: 'tea\n' } },
    handle: callsProcedure('runs.sendInput'),
  },
  {
    method: 'POST',
    path: '/runs/{id}/input/close',
    operationId: 'closeRunInput',
    tag: 'runs',
    summary: "Close an interactive run's stdin: the program reads end of file",
    description: 'Send no body.',
    access: 'owner',
    procedure: 'runs.closeInput',
    inputFrom: 'none',
    responses: [procedureAnswer('runs.closeInput', { ...exampleRun, state: 'running' })],
    example: { params: runParams },
    handle: callsProcedure('runs.closeInput'),
  },
  {
    method: 'POST',
    path: '/runs/{id}/signal',
    operationId: 'signalRun',
    tag: 'runs',
    summary: "Send SIGINT or SIGTERM to a running run's program",
    description:
      '`{signal: "SIGINT" | "SIGTERM"}`. `delivered` is false when no program runs (it has not started yet).',
    access: 'owner',
    procedure: 'runs.signal',
    inputFrom: 'body',
    responses: [procedureAnswer('runs.signal', { delivered: true })],
    example: { params: runParams, body: { signal: 'SIGINT' } },
    handle: callsProcedure('runs.signal'),
  },
  {
    method: 'POST',
    path: '/runs/{id}/resize',
    operationId: 'resizeRunTerminal',
    tag: 'runs',
    summary: "Change a tty run's terminal size",
    description:
      '`{cols, rows}`. Only for runs created with `tty` (412 `RUN_NOT_INTERACTIVE` otherwise); the program gets SIGWINCH. `applied` is false when no program runs yet (it starts with the new size).',
    access: 'owner',
    procedure: 'runs.resize',
    inputFrom: 'body',
    responses: [procedureAnswer('runs.resize', { applied: true })],
    example: { params: runParams, body: { cols: 120, rows: 40 } },
    handle: callsProcedure('runs.resize'),
  },
];
