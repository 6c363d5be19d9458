import { callTRPCProcedure, type AnyTRPCProcedure } from '@trpc/server';
import { z } from 'zod';
import { appRouter, type AppRouter } from '../router.ts';
import type { Context } from '../trpc.ts';

/**
 * The REST surface calls the same tRPC procedures the web app does, through tRPC's own caller:
 * the same input schemas, middlewares (owner, admin, rate limits bound to the client address),
 * error mapping and output schemas. There is no second implementation of any call.
 */

type PathsOf<R, P extends string = ''> = {
  [K in keyof R & string]: R[K] extends AnyTRPCProcedure ? `${P}${K}` : PathsOf<R[K], `${P}${K}.`>;
}[keyof R & string];

/** Every procedure by its dotted path, e.g. `runs.create`. */
export type ProcedurePath = PathsOf<AppRouter['_def']['record']>;

type ProcedureType = 'query' | 'mutation' | 'subscription';

/** What tRPC keeps of a procedure at run time (its public type leaves these out). */
interface ProcedureDef {
  type: ProcedureType;
  inputs: unknown[];
  output?: unknown;
}

function definitionOf(path: ProcedurePath): ProcedureDef {
  const procedures = appRouter._def.procedures as unknown as Record<
    string,
    { _def: ProcedureDef } | undefined
  >;
  const procedure = procedures[path];
  if (!procedure) throw new Error(`no procedure ${path}`);
  return procedure._def;
}

/** The procedure's input schema (the last `.input()`), or null for a procedure without input. */
export function inputSchemaOf(path: ProcedurePath): z.ZodType | null {
  const inputs = definitionOf(path).inputs;
  const last = inputs.at(-1);
  if (last === undefined) return null;
  if (!(last instanceof z.ZodType)) throw new Error(`the input of ${path} is not a zod schema`);
  return last;
}

/** The procedure's output schema, or null when it declares none. */
export function outputSchemaOf(path: ProcedurePath): z.ZodType | null {
  const output = definitionOf(path).output;
  if (output === undefined) return null;
  if (!(output instanceof z.ZodType)) throw new Error(`the output of ${path} is not a zod schema`);
  return output;
}

/**
 * Calls one procedure as the caller `ctx` describes, with `input` as it came (the procedure's
 * schema checks it). A subscription resolves to its async iterable; `signal` ends it.
 */
export function callProcedure(
  ctx: Context,
  path: ProcedurePath,
  input: unknown,
  signal?: AbortSignal,
): Promise<unknown> {
  return callTRPCProcedure({
    router: appRouter,
    path,
    getRawInput: () => Promise.resolve(input),
    ctx,
    type: definitionOf(path).type,
    signal,
    batchIndex: 0,
  }) as Promise<unknown>;
}
