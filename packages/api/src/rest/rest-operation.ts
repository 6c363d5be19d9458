import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';
import type { Identity } from '../identity.ts';
import type { Services } from '../services.ts';
import type { Context } from '../trpc.ts';
import type { ProcedurePath } from './procedures.ts';

/**
 * One operation of the REST surface: its method and path, the procedure it calls, where that
 * procedure's input comes from, what it answers, and an example. The same table serves the calls
 * and writes the OpenAPI document, so what is documented is what is served.
 */

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH';

/** Who may call: anyone, an owner (anonymous cookie where allowed, an API key, the admin), the admin. */
export type Access = 'public' | 'owner' | 'admin';

export interface RestCall {
  services: Services;
  identity: Identity;
  /** The procedures' context for this request (no socket: HTTP). */
  ctx: Context;
  req: IncomingMessage;
  res: ServerResponse;
  /** Path parameters, decoded. */
  params: Readonly<Record<string, string>>;
  query: URLSearchParams;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
  /** The procedure's input from the path and the query or body, as the operation says. */
  input(): Promise<unknown>;
  /** The operation's own query parameters (not the procedure's), checked by its schema. */
  ownQuery(): Record<string, unknown>;
  /** Calls a procedure as this caller. */
  call(path: ProcedurePath, input: unknown, signal?: AbortSignal): Promise<unknown>;
  /**
   * Takes one of the places its client may hold open (WebSockets and event streams, shared with
   * tRPC); null when it holds them all. The release is idempotent.
   */
  takeClientSlot(): (() => void) | null;
}

/** A JSON answer, or `sent` when the operation wrote the response itself (a stream, a page). */
export type RestAnswer =
  { status: number; body?: unknown; headers?: Record<string, string> } | 'sent';

export type ResponseBody =
  { json: z.ZodType } | { eventStream: z.ZodType } | { media: string } | null;

export interface ResponseDoc {
  status: number;
  description: string;
  body: ResponseBody;
  /** For the document: an answer as this server gives it. */
  example?: unknown;
  /** Response headers worth naming, with what they hold. */
  headers?: Readonly<Record<string, string>>;
}

export interface HeaderParameter {
  name: string;
  description: string;
  example: string;
}

export interface RestExample {
  /** Path parameters; the contract test puts real ids in their place. */
  params?: Record<string, string>;
  query?: Record<string, string | string[]>;
  headers?: Record<string, string>;
  /** A JSON body, or the fields of a multipart one (text; `files` parts as text content). */
  body?: unknown;
}

export interface RestOperation {
  method: HttpMethod;
  /** Under `base` (default /api/v1), with `{name}` for path parameters. */
  path: string;
  /** Another API served beside /api/v1 and documented with it (Piston's `/api/v2`). */
  base?: string;
  /** Its errors are Piston's `{message}` rather than the REST error object. */
  errors?: 'rest' | 'piston';
  /** A JSON body of the operation's own (not a procedure's input), for the document. */
  bodySchema?: z.ZodType;
  operationId: string;
  tag: string;
  summary: string;
  description: string;
  access: Access;
  /** The procedure whose input schema the call takes; null when it takes none of one. */
  procedure: ProcedurePath | null;
  /** Where the procedure's input comes from besides the path parameters. */
  inputFrom: 'none' | 'query' | 'body' | 'multipart';
  /** Query parameters of the operation itself (`wait`, `after`), not the procedure's. */
  ownQuery?: z.ZodObject;
  headers?: readonly HeaderParameter[];
  /** For multipart bodies, which no zod schema describes (the procedure takes FormData). */
  multipartSchema?: Record<string, unknown>;
  responses: readonly ResponseDoc[];
  example: RestExample;
  /** Holds the response open (no HEAD). */
  streams?: boolean;
  /** Left out of the document (the reference page's own files). */
  undocumented?: boolean;
  handle(call: RestCall): Promise<RestAnswer>;
}
