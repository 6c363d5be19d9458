import { DEFAULT_LIMITS } from '@runbox/executor';
import type { RunView } from '../../schemas/run-views.ts';
import { tooManyOpen } from '../event-stream.ts';
import { readJsonBody } from '../rest-body.ts';
import { RestRequestError } from '../rest-errors.ts';
import type { RestAnswer, RestCall } from '../rest-operation.ts';
import { collectRunOutput } from '../run-output.ts';
import { pistonRunOf } from './piston-answer.ts';
import {
  parsePistonExecute,
  pistonLimits,
  pistonStdin,
  PistonRequestError,
  snippetFilesOf,
} from './piston-request.ts';
import { findRuntime, pistonRuntimes } from './piston-runtimes.ts';

/**
 * `POST /api/v2/execute`: Piston's request becomes a runbox snippet run (through `runs.create`,
 * so the same credentials, rate limits and checks apply), waited for to its end, and answered in
 * Piston's shape with both streams and their interleaving (collectRunOutput with `combined`).
 */

/** How long past its own wall time a run may take to end (its wait in the queue included). */
const QUEUE_ALLOWANCE_MS = 60_000;

export async function pistonExecute(call: RestCall): Promise<RestAnswer> {
  const body = parsePistonExecute(await readJsonBody(call.req));
  const runtimes = await pistonRuntimes(call.services);
  const runtime = findRuntime(runtimes, body.language, body.version);
  if (!runtime) throw new PistonRequestError(`${body.language}-${body.version} runtime is unknown`);
  const { entry, files } = snippetFilesOf(body, runtime.language);
  const limits = pistonLimits(body, call.services.config.maximums);

  // Held open like a REST wait: it takes one of its client's places before the run exists.
  const release = call.takeClientSlot();
  if (!release) throw tooManyOpen(call);
  try {
    const run = (await call.call('runs.create', {
      kind: 'snippet',
      language: runtime.language,
      entry,
      files,
      stdin: pistonStdin(body.stdin),
      ...(body.args ? { args: body.args } : {}),
      ...(Object.keys(limits).length > 0 ? { limits } : {}),
    })) as RunView;
    const wallTimeMs = run.limits?.wallTimeMs ?? DEFAULT_LIMITS.wallTimeMs;
    const output = await collectRunOutput(call.services, run.id, {
      waitMs: Math.max(call.services.config.rest.waitMaxMs, wallTimeMs + QUEUE_ALLOWANCE_MS),
      maxBytes: call.services.config.rest.outputMaxBytes,
      combined: true,
      signal: call.signal,
    });
    if (!output.result) {
      throw new RestRequestError({
        status: 503,
        code: 'SERVICE_UNAVAILABLE',
        message: `the run has not ended in time; it goes on: GET /api/v1/runs/${run.id}/output?wait=true`,
      });
    }
    return {
      status: 200,
      body: {
        run: pistonRunOf(output.result, output),
        language: runtime.language,
        version: runtime.version,
      },
    };
  } finally {
    release();
  }
}

/** `GET /api/v2/runtimes`. */
export async function pistonListRuntimes(call: RestCall): Promise<RestAnswer> {
  return { status: 200, body: await pistonRuntimes(call.services) };
}
