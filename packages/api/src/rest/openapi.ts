import type { z } from 'zod';
import { createRunInputSchema, runViewSchema } from '../schemas/run-views.ts';
import { jsonSchemaOf, type JsonSchema } from './json-schema.ts';
import { inputSchemaOf } from './procedures.ts';
import { restErrorSchema } from './rest-errors.ts';
import type { Access, RestOperation } from './rest-operation.ts';
import { runEventSchema } from './run-event-schema.ts';
import { pistonErrorSchema as pistonErrorBodySchema } from './piston/piston-answer.ts';
import { runOutputSchema } from './run-output-view.ts';

/**
 * The OpenAPI 3.1 document of the REST surface, written from the operation table and the zod
 * schemas of the procedures behind it (zod's own JSON Schema output, 2020-12, which is OpenAPI
 * 3.1's dialect): nothing in it is written twice.
 */

export const REST_BASE = '/api/v1';

/** Schemas shown by name in the document. */
const NAMED = new Map<z.ZodType, string>([
  [runViewSchema, 'Run'],
  [runOutputSchema, 'RunOutput'],
  [createRunInputSchema, 'CreateRunInput'],
  [runEventSchema, 'RunEvent'],
  [restErrorSchema, 'Error'],
  [pistonErrorBodySchema, 'PistonError'],
]);

const TAGS = [
  {
    name: 'runs',
    description: 'Create runs (one call with `wait=true`), follow them, read their output',
  },
  { name: 'projects', description: 'Uploaded projects that tool runs work on' },
  {
    name: 'sessions',
    description:
      'Kernels that keep their variables from cell to cell; each cell is a run (docs/sessions.md)',
  },
  { name: 'catalog', description: 'What this server offers; no credentials needed' },
  { name: 'admin', description: 'With the admin token' },
  { name: 'reference', description: 'This document and its page' },
  {
    name: 'piston',
    description:
      "Piston's execute API (engineer-man/piston, /api/v2): a program written for Piston works unchanged (docs/piston.md)",
  },
];

const DESCRIPTION = `Every call of runbox as plain HTTP and JSON: the same procedures, schemas, limits and errors as the tRPC API the web app uses.

**Credentials.** An API key (\`Authorization: Bearer <key>\`, RUNBOX_API_KEYS) owns its runs as \`key:<name>\`; the admin token (\`x-runbox-admin-token\` or as the bearer) may do everything. Without either, a call is anonymous where the server allows it (RUNBOX_ANONYMOUS=on): it gets an owner cookie (\`runbox_owner\`), which it must send again to see its runs. A key or token this server does not know is 401, never an anonymous owner.

**Errors** are one object, \`{"error": {"code", "message", "field", "rule", ...}}\`, with the HTTP status: 400 bad input (naming the field and the rule), 401 credentials, 403 origin, 404, 405 (with Allow), 409, 412, 413, 415, 429 (with Retry-After), 503.

**One-call runs.** \`POST /api/v1/runs?wait=true\` answers when the run has ended, with its stdout, stderr, exit code, end state, usage and value; past RUNBOX_REST_WAIT_MAX_MS it answers 202 with the output so far and the run's URL in \`Location\`.

**Events.** \`GET /api/v1/runs/{id}/events\` is server-sent events, each with its seq as \`id:\`, resumable with \`Last-Event-ID\`.

**Piston.** \`POST /api/v2/execute\` and \`GET /api/v2/runtimes\` take and answer Piston's shapes (same credentials; errors as Piston's \`{"message"}\`).`;

interface Components {
  schemas: Record<string, JsonSchema>;
}

/** A schema as the document shows it: a reference for the named ones, inline for the rest. */
function schemaFor(schema: z.ZodType, io: 'input' | 'output', components: Components): JsonSchema {
  const name = NAMED.get(schema);
  if (!name) return jsonSchemaOf(schema, io);
  components.schemas[name] ??= jsonSchemaOf(schema, io);
  return { $ref: `#/components/schemas/${name}` };
}

function pathParameters(path: string): string[] {
  return [...path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1] ?? '');
}

function security(access: Access, anonymous: boolean): Record<string, string[]>[] {
  if (access === 'public') return [];
  if (access === 'admin') return [{ bearer: [] }, { adminToken: [] }];
  return [
    { bearer: [] },
    { ownerCookie: [] },
    { adminToken: [] },
    // Anonymous use: no credentials at all (the answer sets the owner cookie).
    ...(anonymous ? [{}] : []),
  ];
}

/** The procedure's input fields as query parameters (deep objects, repeated arrays). */
function queryParameters(input: JsonSchema, example: Record<string, string | string[]>) {
  const required = new Set(input.required ?? []);
  return Object.entries(input.properties ?? {}).map(([name, schema]) => {
    const isObject = schema.type === 'object';
    return {
      name,
      in: 'query',
      required: required.has(name),
      schema,
      ...(isObject ? { style: 'deepObject', explode: true } : {}),
      ...(schema.type === 'array' ? { style: 'form', explode: true } : {}),
      ...(example[name] !== undefined ? { example: example[name] } : {}),
    };
  });
}

function operationObject(
  operation: RestOperation,
  components: Components,
  anonymous: boolean,
): Record<string, unknown> {
  const procedureInput = operation.procedure ? inputSchemaOf(operation.procedure) : null;
  const input = procedureInput && jsonSchemaOf(procedureInput, 'input');
  const example = operation.example;
  const parameters: Record<string, unknown>[] = [];
  const inPath = pathParameters(operation.path);
  for (const name of inPath) {
    parameters.push({
      name,
      in: 'path',
      required: true,
      schema: input?.properties?.[name] ?? { type: 'string' },
      ...(example.params?.[name] !== undefined ? { example: example.params[name] } : {}),
    });
  }
  if (operation.inputFrom === 'query' && input)
    parameters.push(...queryParameters(input, example.query ?? {}));
  if (operation.ownQuery)
    parameters.push(
      ...queryParameters(jsonSchemaOf(operation.ownQuery, 'input'), example.query ?? {}),
    );
  for (const header of operation.headers ?? []) {
    parameters.push({
      name: header.name,
      in: 'header',
      required: false,
      description: header.description,
      schema: { type: 'string' },
      example: example.headers?.[header.name] ?? header.example,
    });
  }

  let requestBody: Record<string, unknown> | undefined;
  if (operation.bodySchema) {
    requestBody = {
      required: true,
      content: {
        'application/json': {
          schema: schemaFor(operation.bodySchema, 'input', components),
          example: example.body,
        },
      },
    };
  } else if (operation.inputFrom === 'body' && procedureInput) {
    let schema = schemaFor(procedureInput, 'input', components);
    if (inPath.length > 0 && input) {
      // The path's fields are not sent again in the body.
      const properties = { ...input.properties };
      for (const name of inPath) delete properties[name];
      schema = {
        ...input,
        properties,
        required: (input.required ?? []).filter((name) => !inPath.includes(name)),
      };
    }
    requestBody = {
      required: true,
      content: { 'application/json': { schema, example: example.body } },
    };
  }
  if (operation.inputFrom === 'multipart') {
    requestBody = {
      required: true,
      content: {
        'multipart/form-data': { schema: operation.multipartSchema ?? {}, example: example.body },
      },
    };
  }

  const responses: Record<string, unknown> = {};
  for (const doc of operation.responses) {
    const headers = Object.fromEntries(
      Object.entries(doc.headers ?? {}).map(([name, description]) => [
        name,
        { description, schema: { type: 'string' } },
      ]),
    );
    let content: Record<string, unknown> | undefined;
    if (doc.body && 'json' in doc.body) {
      content = {
        'application/json': {
          schema: schemaFor(doc.body.json, 'output', components),
          ...(doc.example !== undefined ? { example: doc.example } : {}),
        },
      };
    } else if (doc.body && 'eventStream' in doc.body) {
      content = {
        'text/event-stream': {
          schema: {
            type: 'string',
            description:
              'Messages `id: <seq>` and `data: <RunEvent as JSON>`, each ended by an empty line',
          },
          // The schema of each message's data (OpenAPI 3.1 has no place for it; 3.2 calls it itemSchema).
          'x-data-schema': schemaFor(doc.body.eventStream, 'output', components),
          ...(doc.example !== undefined ? { example: doc.example } : {}),
        },
      };
    } else if (doc.body) {
      content = { [doc.body.media]: { schema: { type: 'string' } } };
    }
    responses[String(doc.status)] = {
      description: doc.description,
      ...(Object.keys(headers).length > 0 ? { headers } : {}),
      ...(content ? { content } : {}),
    };
  }
  responses.default = {
    $ref:
      operation.errors === 'piston'
        ? '#/components/responses/PistonError'
        : '#/components/responses/Error',
  };

  return {
    operationId: operation.operationId,
    tags: [operation.tag],
    summary: operation.summary,
    description: operation.description,
    security: security(operation.access, anonymous),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(requestBody ? { requestBody } : {}),
    responses,
    ...(operation.procedure ? { 'x-trpc-procedure': operation.procedure } : {}),
  };
}

/** The document for a server with these settings (anonymous use changes what calls may send). */
export function buildOpenApiDocument(
  operations: readonly RestOperation[],
  options: { anonymous: boolean },
): Record<string, unknown> {
  const components: Components = { schemas: {} };
  const paths: Record<string, Record<string, unknown>> = {};
  for (const operation of operations) {
    if (operation.undocumented) continue;
    const path = `${operation.base ?? REST_BASE}${operation.path}`;
    (paths[path] ??= {})[operation.method.toLowerCase()] = operationObject(
      operation,
      components,
      options.anonymous,
    );
  }
  const errorSchema = schemaFor(restErrorSchema, 'output', components);
  const pistonErrorSchema = schemaFor(pistonErrorBodySchema, 'output', components);
  return {
    openapi: '3.1.0',
    info: { title: 'runbox REST API', version: '1', description: DESCRIPTION },
    tags: TAGS,
    paths,
    components: {
      schemas: components.schemas,
      responses: {
        Error: {
          description: 'An error, with the status that says what kind',
          content: {
            'application/json': {
              schema: errorSchema,
              example: {
                error: {
                  code: 'LIMIT_OUT_OF_RANGE',
                  message: 'limit wallTimeMs=999999999 is outside the allowed range 1000..300000',
                  field: 'wallTimeMs',
                  rule: 'limit_out_of_range',
                  min: 1_000,
                  max: 300_000,
                },
              },
            },
          },
        },
        PistonError: {
          description: "An error of Piston's execute API, as Piston answers it (400 for bad input)",
          content: {
            'application/json': {
              schema: pistonErrorSchema,
              example: { message: 'cobol-* runtime is unknown' },
            },
          },
        },
      },
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'An API key of RUNBOX_API_KEYS, or the admin token',
        },
        adminToken: { type: 'apiKey', in: 'header', name: 'x-runbox-admin-token' },
        ownerCookie: {
          type: 'apiKey',
          in: 'cookie',
          name: 'runbox_owner',
          description: 'The anonymous owner cookie this server set (where anonymous use is on)',
        },
      },
    },
  };
}
