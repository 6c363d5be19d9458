import { z } from 'zod';
import type { RunView } from '../schemas/run-views.ts';
import { runViewSchema } from '../schemas/run-views.ts';
import { resumeAfter, streamRunEvents, tooManyOpen } from './event-stream.ts';
import {
  EXAMPLE_RUN_ID,
  exampleBatch,
  exampleEvents,
  exampleQueuedRun,
  exampleRun,
  exampleRunOutput,
  exampleRunningOutput,
  exampleSnippet,
} from './examples.ts';
import { callsProcedure, jsonAnswer, procedureAnswer } from './operation-kit.ts';
import { runEventSchema } from './run-event-schema.ts';
import { collectRunOutput } from './run-output.ts';
import { runOutputSchema, runOutputView } from './run-output-view.ts';
import type { RestAnswer, RestCall, RestOperation } from './rest-operation.ts';

/** Runs: create (and wait), list, get, cancel, output, events, artifacts. */

const waitQuery = z
  .object({
    wait: z
      .enum(['true', 'false'])
      .optional()
      .describe(
        'true: answer when the run has ended (at most RUNBOX_REST_WAIT_MAX_MS, default 60 s), with its output',
      ),
  })
  .strict();

const eventsQuery = z
  .object({
    after: z
      .string()
      .optional()
      .describe('send the events after this seq (Last-Event-ID, when sent, wins)'),
  })
  .strict();

const runLocation = (id: string): string => `/api/v1/runs/${encodeURIComponent(id)}`;

/** Runs one wait for the run's end and answers with its output (a place of its client held meanwhile). */
async function waitForOutput(call: RestCall, runId: string, waitMs: number) {
  const output = await collectRunOutput(call.services, runId, {
    waitMs,
    maxBytes: call.services.config.rest.outputMaxBytes,
    signal: call.signal,
  });
  return runOutputView(call.services, call.identity, runId, output);
}

/**
 * Creates one run through `procedure` (runs.create, sessions.run); with `wait=true` answers with
 * its output once it ended, or 202 with what came so far when the wait's cap passes first.
 */
export async function createRunMaybeWaiting(
  call: RestCall,
  procedure: 'runs.create' | 'sessions.run',
): Promise<RestAnswer> {
  const { wait } = call.ownQuery() as { wait?: 'true' | 'false' };
  const input = await call.input();
  if (wait !== 'true') {
    const run = (await call.call(procedure, input)) as RunView;
    return { status: 201, body: run, headers: { location: runLocation(run.id) } };
  }
  // A waiting call is held open like an event stream: it takes a place before the run exists.
  const release = call.takeClientSlot();
  if (!release) throw tooManyOpen(call);
  try {
    const run = (await call.call(procedure, input)) as RunView;
    const answer = await waitForOutput(call, run.id, call.services.config.rest.waitMaxMs);
    return {
      status: answer.ended ? 200 : 202,
      body: answer,
      headers: { location: runLocation(run.id) },
    };
  } finally {
    release();
  }
}

/**
 * Several runs in one call (all or none). With `wait=true` it answers when every one has ended,
 * each with its output, or with the output so far of each when the wait's cap passes first.
 */
async function createBatch(call: RestCall): Promise<RestAnswer> {
  const { wait } = call.ownQuery() as z.infer<typeof waitQuery>;
  const input = await call.input();
  if (wait !== 'true') {
    const runs = (await call.call('runs.createBatch', input)) as RunView[];
    return { status: 201, body: runs };
  }
  const release = call.takeClientSlot();
  if (!release) throw tooManyOpen(call);
  try {
    const runs = (await call.call('runs.createBatch', input)) as RunView[];
    // One deadline for all: each run waits at most what is left of the call's wait.
    const deadline = Date.now() + call.services.config.rest.waitMaxMs;
    const answers = await Promise.all(
      runs.map((run) => waitForOutput(call, run.id, Math.max(0, deadline - Date.now()))),
    );
    return { status: answers.every((answer) => answer.ended) ? 200 : 202, body: answers };
  } finally {
    release();
  }
}

async function runOutput(call: RestCall): Promise<RestAnswer> {
  const { wait } = call.ownQuery() as z.infer<typeof waitQuery>;
  const id = call.params.id ?? '';
  await call.call('runs.get', { id });
  if (wait !== 'true') return { status: 200, body: await waitForOutput(call, id, 0) };
  const release = call.takeClientSlot();
  if (!release) throw tooManyOpen(call);
  try {
    return {
      status: 200,
      body: await waitForOutput(call, id, call.services.config.rest.waitMaxMs),
    };
  } finally {
    release();
  }
}

const idParam = { id: EXAMPLE_RUN_ID };
const locationHeader = { location: 'the run: /api/v1/runs/{id}' };

export const runsOperations: readonly RestOperation[] = [
  {
    method: 'POST',
    path: '/runs',
    operationId: 'createRun',
    tag: 'runs',
    summary: 'Create a run (and, with wait=true, answer with its output when it ends)',
    description:
      'A snippet `{kind: "snippet", language, code, stdin?, entry?, files?, args?, env?, expectedOutput?, environment?, limits?}` or a tool run `{kind: "tool", toolId, projectId | exampleId, entry?, args?, env?, stdin?, environment?, limits?}`. ' +
      "`environment`: `project` installs the project's requirements.txt, pyproject.toml or package.json (+ package-lock.json) first, sandboxed and cached; another name picks an environment the server declares (GET /environments). " +
      'A snippet runs its entry (`entry`, default main.py, main.js, main.ts or main.sh) as `FILE ARGS...` with `env` added to its environment; the entry is `code`, or the file of `files` of that name when `code` is left out. ' +
      'With `expectedOutput` the ended run has a `verdict`: passed, or the first differing line (trailing whitespace and final newlines ignored, CRLF = LF). ' +
      'Without `wait` it answers 201 with the queued run at once. With `wait=true` it answers 200 with the ended run and its stdout and stderr, ' +
      'or 202 with the output so far when the run has not ended within RUNBOX_REST_WAIT_MAX_MS (then follow `Location`, its `/output?wait=true` or its `/events`).',
    access: 'owner',
    procedure: 'runs.create',
    inputFrom: 'body',
    ownQuery: waitQuery,
    responses: [
      jsonAnswer(runViewSchema, exampleQueuedRun, 201, 'The run, queued'),
      jsonAnswer(runOutputSchema, exampleRunOutput, 200, 'wait=true: the run has ended'),
      jsonAnswer(
        runOutputSchema,
        exampleRunningOutput,
        202,
        'wait=true: the run had not ended within the wait; its output so far',
      ),
    ].map((doc) => ({ ...doc, headers: locationHeader })),
    example: { query: { wait: 'true' }, body: exampleSnippet },
    handle: (call) => createRunMaybeWaiting(call, 'runs.create'),
  },
  {
    method: 'POST',
    path: '/runs/batch',
    operationId: 'createRunBatch',
    tag: 'runs',
    summary:
      'Create up to 20 runs in one call, all or none (and, with wait=true, answer with their output)',
    description:
      '`{runs: [run, ...]}`, each run as `POST /runs` takes it. Every run is checked (schema, rate limits, which count each run, project, limits, code) before the first is queued; ' +
      'a refusal names the run by its index (`field: "runs.2.language"`) and creates nothing. Then they are queued in order. ' +
      'Without `wait` it answers 201 with the queued runs. With `wait=true`, 200 with every run ended and its output, or 202 when RUNBOX_REST_WAIT_MAX_MS passed first (each run with `ended` and its output so far).',
    access: 'owner',
    procedure: 'runs.createBatch',
    inputFrom: 'body',
    ownQuery: waitQuery,
    responses: [
      jsonAnswer(z.array(runViewSchema), [exampleQueuedRun], 201, 'The runs, queued, in order'),
      jsonAnswer(
        z.array(runOutputSchema),
        [exampleRunOutput],
        200,
        'wait=true: every run has ended',
      ),
      jsonAnswer(
        z.array(runOutputSchema),
        [exampleRunOutput, exampleRunningOutput],
        202,
        'wait=true: not every run had ended within the wait; each with its output so far',
      ),
    ],
    example: { query: { wait: 'true' }, body: exampleBatch },
    handle: createBatch,
  },
  {
    method: 'GET',
    path: '/runs',
    operationId: 'listRuns',
    tag: 'runs',
    summary: "The caller's runs, newest first",
    description:
      'Filter by `states` (repeat the parameter for several); page with `limit` and the `nextCursor` of the previous page (`cursor[queuedAt]`, `cursor[id]`).',
    access: 'owner',
    procedure: 'runs.list',
    inputFrom: 'query',
    responses: [procedureAnswer('runs.list', { runs: [exampleRun], nextCursor: null })],
    example: { query: { states: ['completed', 'failed'], limit: '20' } },
    handle: callsProcedure('runs.list'),
  },
  {
    method: 'GET',
    path: '/runs/{id}',
    operationId: 'getRun',
    tag: 'runs',
    summary: 'A run: its state, place in line, exit code, usage, value',
    description: "Another owner's run is 404, as is one that does not exist.",
    access: 'owner',
    procedure: 'runs.get',
    inputFrom: 'none',
    responses: [procedureAnswer('runs.get', exampleRun)],
    example: { params: idParam },
    handle: callsProcedure('runs.get'),
  },
  {
    method: 'POST',
    path: '/runs/{id}/cancel',
    operationId: 'cancelRun',
    tag: 'runs',
    summary: 'Cancel a run (it ends cancelled); a run that has ended stays as it is',
    description: 'Send no body (or `{}`).',
    access: 'owner',
    procedure: 'runs.cancel',
    inputFrom: 'none',
    responses: [procedureAnswer('runs.cancel', exampleRun)],
    example: { params: idParam },
    handle: callsProcedure('runs.cancel'),
  },
  {
    method: 'GET',
    path: '/runs/{id}/output',
    operationId: 'getRunOutput',
    tag: 'runs',
    summary: 'A run with its stdout and stderr as text, whether or not it has ended',
    description:
      'Each stream is its lines joined back together (pieces of long or slow lines included; `\\r\\n` comes back as `\\n`), at most RUNBOX_REST_OUTPUT_MAX_BYTES (default 1 MiB) each: past that the text is cut at a character boundary, `stdoutTruncated` is true and `stdoutBytes` is what the stream had in all. ' +
      "With `wait=true` it first waits for the run's end (at most RUNBOX_REST_WAIT_MAX_MS); `ended` says whether it came.",
    access: 'owner',
    procedure: 'runs.get',
    inputFrom: 'none',
    ownQuery: waitQuery,
    responses: [jsonAnswer(runOutputSchema, exampleRunOutput)],
    example: { params: idParam },
    handle: runOutput,
  },
  {
    method: 'GET',
    path: '/runs/{id}/events',
    operationId: 'streamRunEvents',
    tag: 'runs',
    summary: "A run's events as server-sent events, resumable",
    description:
      'Each message is one event: `id:` its seq, `data:` the event as JSON (`state`, `position`, `output`, `usage`, `truncated`, `end`). ' +
      'Resume with the `Last-Event-ID` header (EventSource sends it by itself) or `?after=<seq>`: exactly the events after it come, none twice. ' +
      'The stream ends after the `end` event; asked after that it answers 204 (an EventSource stops). A comment line `: heartbeat` goes out while the run is quiet. ' +
      'An error after the stream began comes as an `event: error` message with the error object. ' +
      'Output lines may come in pieces: a piece with `partial: true` is continued by the next piece of the same stream (`continuation: true`).',
    access: 'owner',
    procedure: 'runs.get',
    inputFrom: 'none',
    ownQuery: eventsQuery,
    headers: [
      {
        name: 'Last-Event-ID',
        description: 'The seq of the last event received: the stream starts after it',
        example: '0',
      },
    ],
    responses: [
      {
        status: 200,
        description: 'The events, then the end of the stream after the `end` event',
        body: { eventStream: runEventSchema },
        example: exampleEvents,
      },
      {
        status: 204,
        description: 'The run has ended and nothing is after the seq asked for',
        body: null,
      },
    ],
    example: { params: idParam, headers: { 'Last-Event-ID': '0' } },
    streams: true,
    handle: async (call) => {
      const { after } = call.ownQuery() as z.infer<typeof eventsQuery>;
      return streamRunEvents(call, resumeAfter(call, after));
    },
  },
  {
    method: 'GET',
    path: '/runs/{id}/artifacts',
    operationId: 'listRunArtifacts',
    tag: 'runs',
    summary: 'The files a run created or changed, kept for download',
    description:
      'Download one with `GET /api/runs/{id}/artifacts/{path}` (always as an attachment). Links are listed, never served.',
    access: 'owner',
    procedure: 'runs.artifacts',
    inputFrom: 'none',
    responses: [
      procedureAnswer('runs.artifacts', [
        {
          path: 'out/report.txt',
          kind: 'file',
          size: 12,
          sha256: 'a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447',
          mediaType: 'text/plain',
        },
      ]),
    ],
    example: { params: idParam },
    handle: callsProcedure('runs.artifacts'),
  },
];
