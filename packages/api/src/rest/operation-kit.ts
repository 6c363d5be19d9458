import type { z } from 'zod';
import { outputSchemaOf, type ProcedurePath } from './procedures.ts';
import type { RestAnswer, RestCall, ResponseDoc } from './rest-operation.ts';

/** Small pieces the operation tables are made of. */

/** The answer of a procedure that declares its output schema, documented with it. */
export function procedureAnswer(
  procedure: ProcedurePath,
  example: unknown,
  description = 'OK',
): ResponseDoc {
  const schema = outputSchemaOf(procedure);
  if (!schema) throw new Error(`${procedure} declares no output schema: document its answer`);
  return { status: 200, description, body: { json: schema }, example };
}

/** A JSON answer with a schema of the REST surface's own. */
export function jsonAnswer(
  schema: z.ZodType,
  example: unknown,
  status = 200,
  description = 'OK',
): ResponseDoc {
  return { status, description, body: { json: schema }, example };
}

/** The handler of an operation that is one procedure call: its input in, its answer out. */
export function callsProcedure(procedure: ProcedurePath) {
  return async (call: RestCall): Promise<RestAnswer> => ({
    status: 200,
    body: await call.call(procedure, await call.input()),
  });
}
