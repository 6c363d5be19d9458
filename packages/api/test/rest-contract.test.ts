import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunView } from '../src/schemas/run-views.ts';
import { ADMIN_TOKEN, type TestServer } from './support/server.ts';
import { API_KEY, readSse, rest, startRestServer, type RestReply } from './rest-support.ts';
import { claimTestUid } from '../../executor/test/support/test-uid.ts';

/**
 * The OpenAPI document is valid OpenAPI 3.1, and every operation it documents, called with its
 * own example, answers with a status it documents and a body its schema allows.
 */

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  example?: string | string[];
}
interface MediaType {
  schema?: unknown;
  example?: unknown;
  'x-data-schema'?: unknown;
}
interface Operation {
  operationId: string;
  security: Record<string, string[]>[];
  parameters?: Parameter[];
  requestBody?: { content: Record<string, MediaType> };
  responses: Record<string, { content?: Record<string, MediaType>; $ref?: string }>;
}
interface Document {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
}

let server: TestServer;
let document: Document;
let ajv: Ajv2020;
const fixtures: Record<string, string> = {};

beforeAll(async () => {
  server = await startRestServer('rest-contract', claimTestUid(64_900, 100));
  document = (await rest(server.url, 'GET', '/openapi.json')).json as Document;
  ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
  ajv.addSchema(document, 'openapi');
  const keyed = { authorization: `Bearer ${API_KEY}` };
  const run = await rest(server.url, 'POST', '/runs?wait=true', {
    body: { kind: 'snippet', language: 'bash', code: 'echo fixture\n' },
    headers: keyed,
  });
  fixtures.run = (run.json as RunView).id;
  const form = new FormData();
  form.append('files', new File(['print(1)\n'], 'main.py'));
  form.append('paths', '["main.py"]');
  const project = await rest(server.url, 'POST', '/projects', { raw: form, headers: keyed });
  fixtures.project = (project.json as { id: string }).id;
  const session = await rest(server.url, 'POST', '/sessions', {
    body: { language: 'python' },
    headers: keyed,
  });
  fixtures.session = (session.json as { id: string }).id;
});
afterAll(async () => server?.stop());

const pointer = (...parts: string[]): string =>
  `openapi#/${parts.map((part) => part.replaceAll('~', '~0').replaceAll('/', '~1')).join('/')}`;

function validatorAt(...parts: string[]): ValidateFunction {
  return ajv.compile({ $ref: pointer(...parts) });
}

function check(validate: ValidateFunction, value: unknown, what: string): void {
  if (!validate(value))
    throw new Error(
      `${what}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(value).slice(0, 600)}`,
    );
}

/** Real ids in place of the examples' path parameters. */
function realPath(path: string, parameters: readonly Parameter[]): string {
  return path.replace(/\{([^}]+)\}/g, (_whole, name: string) => {
    if (name === 'sessionId') return fixtures.session!;
    if (name === 'id') {
      if (path.includes('/projects/')) return fixtures.project!;
      return path.includes('/sessions/') ? fixtures.session! : fixtures.run!;
    }
    const example = parameters.find((p) => p.in === 'path' && p.name === name)?.example;
    return encodeURIComponent(String(example));
  });
}

function credentials(operation: Operation): Record<string, string> {
  if (operation.security.length === 0) return {};
  const admin = !operation.security.some((scheme) => 'ownerCookie' in scheme);
  return { authorization: `Bearer ${admin ? ADMIN_TOKEN : API_KEY}` };
}

function multipartOf(example: Record<string, string>): FormData {
  const form = new FormData();
  const paths = JSON.parse(example.paths ?? '[]') as string[];
  for (const [name, value] of Object.entries(example)) {
    if (name === 'files') form.append('files', new File([value], paths[0] ?? 'file'));
    else if (name === 'archive') form.append('archive', new File([value], 'archive'));
    else form.append(name, value);
  }
  return form;
}

/** Statuses an operation may answer with its example on this server, besides what it documents. */
const EXPECTED_ERRORS: Record<string, number> = {
  // Embedded mode: there are no workers to drain.
  adminDrainWorker: 412,
  // No callback was ever sent, so no delivery has the example's id.
  redeliverRunCallback: 404,
  adminRedeliver: 404,
  // The fixture run was not created interactive (and has ended).
  sendRunInput: 412,
  closeRunInput: 412,
  // ... nor with a terminal.
  resizeRunTerminal: 412,
};

describe('the OpenAPI document', () => {
  it('is valid OpenAPI 3.1', async () => {
    const validator = new Validator();
    const result = await validator.validate(document as unknown as Record<string, unknown>);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('has an example of every request and answer, each allowed by its schema', () => {
    for (const [path, methods] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        const json = operation.requestBody?.content['application/json'];
        if (json) {
          expect(json.example, `${operation.operationId} request`).toBeDefined();
          check(
            validatorAt(
              'paths',
              path,
              method,
              'requestBody',
              'content',
              'application/json',
              'schema',
            ),
            json.example,
            `${operation.operationId} request example`,
          );
        }
        for (const [status, response] of Object.entries(operation.responses)) {
          const body = response.content?.['application/json'];
          if (!body) continue;
          expect(body.example, `${operation.operationId} ${status}`).toBeDefined();
          check(
            validatorAt(
              'paths',
              path,
              method,
              'responses',
              status,
              'content',
              'application/json',
              'schema',
            ),
            body.example,
            `${operation.operationId} ${status} example`,
          );
        }
      }
    }
  });

  it('every documented operation, called with its example, answers as documented', async () => {
    const called: string[] = [];
    for (const [path, methods] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        const parameters = operation.parameters ?? [];
        const query = new URLSearchParams();
        const headers = credentials(operation);
        for (const parameter of parameters) {
          if (parameter.example === undefined) continue;
          if (parameter.in === 'query')
            for (const value of [parameter.example].flat()) query.append(parameter.name, value);
          if (parameter.in === 'header') headers[parameter.name] = String(parameter.example);
        }
        const url = `${realPath(path, parameters)}${query.size > 0 ? `?${query}` : ''}`;
        const media = operation.requestBody?.content ?? {};
        const where = `${method.toUpperCase()} ${url} (${operation.operationId})`;

        let reply: RestReply;
        let events: unknown[] | null = null;
        if (operation.responses['200']?.content?.['text/event-stream']) {
          const reading = await readSse(server.url, url.replace(/^\/api\/v1/, ''), { headers });
          expect(reading.ended, where).toBe(true);
          reply = { status: reading.status, headers: reading.headers, text: '', json: null };
          events = reading.messages.map((message) => JSON.parse(message.data) as unknown);
        } else {
          const init = {
            headers,
            ...(media['application/json'] ? { body: media['application/json'].example } : {}),
            ...(media['multipart/form-data']
              ? { raw: multipartOf(media['multipart/form-data'].example as Record<string, string>) }
              : {}),
          };
          reply = await rest(server.url, method.toUpperCase(), url.replace(/^\/api\/v1/, ''), init);
        }
        called.push(operation.operationId);

        const status = String(reply.status);
        const expectedError = EXPECTED_ERRORS[operation.operationId];
        if (expectedError !== undefined) {
          expect(reply.status, where).toBe(expectedError);
          check(
            validatorAt(
              'components',
              'responses',
              'Error',
              'content',
              'application/json',
              'schema',
            ),
            reply.json,
            where,
          );
          continue;
        }
        expect(Object.keys(operation.responses), `${where}: ${reply.text.slice(0, 300)}`).toContain(
          status,
        );
        const documented = operation.responses[status]?.content ?? {};
        if (documented['application/json']) {
          expect(reply.headers.get('content-type'), where).toMatch(/^application\/json/);
          check(
            validatorAt(
              'paths',
              path,
              method,
              'responses',
              status,
              'content',
              'application/json',
              'schema',
            ),
            reply.json,
            where,
          );
        } else if (documented['text/event-stream']) {
          expect(events?.length, where).toBeGreaterThan(0);
          const validate = validatorAt(
            'paths',
            path,
            method,
            'responses',
            status,
            'content',
            'text/event-stream',
            'x-data-schema',
          );
          for (const event of events ?? []) check(validate, event, where);
        } else if (documented['text/html']) {
          expect(reply.headers.get('content-type'), where).toMatch(/^text\/html/);
        }
      }
    }
    expect(called.length).toBeGreaterThanOrEqual(25);
    // A pause in the examples is followed by a resume: the queue is running.
    const queue = await rest(server.url, 'GET', '/queue');
    expect(queue.json).toMatchObject({ paused: false });
  });

  it('the reference page loads its files from this server alone', async () => {
    const page = await fetch(`${server.url}/api/v1/docs`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toMatch(/connect-src 'self'/);
    const html = await page.text();
    const sources = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1] ?? '');
    expect(sources.length).toBeGreaterThanOrEqual(3);
    for (const source of sources) {
      expect(source.startsWith('/api/v1/docs/')).toBe(true);
      const file = await fetch(`${server.url}${source}`);
      expect(file.status, source).toBe(200);
      expect((await file.arrayBuffer()).byteLength, source).toBeGreaterThan(0);
    }
    const outside = await fetch(`${server.url}/api/v1/docs/..%2F..%2Fpackage.json`);
    expect(outside.status).toBe(404);
    expect((await fetch(`${server.url}/api/v1/docs/package.json`)).status).toBe(404);
  });
});

interface BadCase {
  name: string;
  method: string;
  path: string;
  body?: unknown;
  raw?: string | Buffer | FormData;
  headers?: Record<string, string>;
  status: number;
  field: string;
  rule: string;
}

const snippet = { kind: 'snippet', language: 'bash', code: 'echo hi\n' };

const BAD: BadCase[] = [
  {
    name: 'a text/plain body',
    method: 'POST',
    path: '/runs',
    raw: '{}',
    headers: { 'content-type': 'text/plain' },
    status: 415,
    field: 'content-type',
    rule: 'media-type',
  },
  {
    name: 'a form body',
    method: 'POST',
    path: '/runs',
    raw: 'kind=snippet',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    status: 415,
    field: 'content-type',
    rule: 'media-type',
  },
  {
    name: 'JSON that does not parse',
    method: 'POST',
    path: '/runs',
    raw: '{"kind":',
    headers: { 'content-type': 'application/json' },
    status: 400,
    field: 'body',
    rule: 'json',
  },
  {
    name: 'a body over 8 MiB',
    method: 'POST',
    path: '/runs',
    raw: Buffer.alloc(9 * 1024 * 1024, 0x20),
    headers: { 'content-type': 'application/json' },
    status: 413,
    field: 'body',
    rule: 'max-bytes',
  },
  {
    name: 'a JSON array for a body',
    method: 'POST',
    path: '/runs',
    body: [snippet],
    status: 400,
    field: 'body',
    rule: 'invalid_type',
  },
  {
    name: 'an unknown field',
    method: 'POST',
    path: '/runs',
    body: { ...snippet, bogus: 1 },
    status: 400,
    field: 'bogus',
    rule: 'unrecognized_keys',
  },
  {
    name: 'code of the wrong type',
    method: 'POST',
    path: '/runs',
    body: { ...snippet, code: 5 },
    status: 400,
    field: 'code',
    rule: 'invalid_type',
  },
  {
    name: 'an unknown language',
    method: 'POST',
    path: '/runs',
    body: { ...snippet, language: 'cobol' },
    status: 400,
    field: 'language',
    rule: 'invalid_value',
  },
  {
    name: 'an unknown kind',
    method: 'POST',
    path: '/runs',
    body: { ...snippet, kind: 'nope' },
    status: 400,
    field: 'kind',
    rule: 'invalid_union',
  },
  {
    name: 'a limit of the wrong type',
    method: 'POST',
    path: '/runs',
    body: { ...snippet, limits: { wallTimeMs: 'fast' } },
    status: 400,
    field: 'limits.wallTimeMs',
    rule: 'invalid_type',
  },
  {
    name: 'a limit out of range',
    method: 'POST',
    path: '/runs',
    body: { ...snippet, limits: { wallTimeMs: 999_999_999 } },
    status: 400,
    field: 'wallTimeMs',
    rule: 'limit_out_of_range',
  },
  {
    name: 'code over its length',
    method: 'POST',
    path: '/runs',
    body: { ...snippet, code: 'x'.repeat(1_000_001) },
    status: 400,
    field: 'code',
    rule: 'too_big',
  },
  {
    name: 'an unknown wait value',
    method: 'POST',
    path: '/runs?wait=maybe',
    body: snippet,
    status: 400,
    field: 'wait',
    rule: 'invalid_value',
  },
  {
    name: 'a limit parameter over its maximum',
    method: 'GET',
    path: '/runs?limit=1000',
    status: 400,
    field: 'limit',
    rule: 'too_big',
  },
  {
    name: 'a limit parameter that is not a number',
    method: 'GET',
    path: '/runs?limit=ten',
    status: 400,
    field: 'limit',
    rule: 'invalid_type',
  },
  {
    name: 'an unknown query parameter',
    method: 'GET',
    path: '/runs?bogus=1',
    status: 400,
    field: 'bogus',
    rule: 'unrecognized_keys',
  },
  {
    name: 'an unknown state',
    method: 'GET',
    path: '/runs?states=nope',
    status: 400,
    field: 'states.0',
    rule: 'invalid_value',
  },
  {
    name: 'a parameter given twice',
    method: 'GET',
    path: '/runs?limit=1&limit=2',
    status: 400,
    field: 'limit',
    rule: 'repeated',
  },
  {
    name: 'an object parameter as plain text',
    method: 'GET',
    path: '/runs?cursor=x',
    status: 400,
    field: 'cursor',
    rule: 'deepObject',
  },
  {
    name: 'a parameter on a call that takes none',
    method: 'GET',
    path: '/tools?x=1',
    status: 400,
    field: 'x',
    rule: 'unrecognized_keys',
  },
  {
    name: 'a run id over its length',
    method: 'GET',
    path: `/runs/${'a'.repeat(65)}`,
    status: 400,
    field: 'id',
    rule: 'too_big',
  },
  {
    name: 'a path that is not percent-encoding',
    method: 'GET',
    path: '/runs/%E0%A4%A/output',
    status: 400,
    field: 'id',
    rule: 'percent-encoding',
  },
  {
    name: 'a body on a call that takes none',
    method: 'POST',
    path: '/runs/x/cancel',
    body: { reason: 'x' },
    status: 400,
    field: 'body',
    rule: 'no-body',
  },
  {
    name: 'JSON where an upload goes',
    method: 'POST',
    path: '/projects',
    body: {},
    status: 415,
    field: 'content-type',
    rule: 'media-type',
  },
  {
    name: 'an upload with no files',
    method: 'POST',
    path: '/projects',
    raw: (() => {
      const form = new FormData();
      form.append('name', 'x');
      return form;
    })(),
    status: 400,
    field: 'archive',
    rule: 'bad_input',
  },
  {
    name: 'a method the path does not have',
    method: 'DELETE',
    path: '/runs',
    status: 405,
    field: 'method',
    rule: 'allowed-methods',
  },
  {
    name: 'an unknown API key',
    method: 'GET',
    path: '/runs',
    headers: { authorization: 'Bearer not-a-key-of-this-server-000' },
    status: 401,
    field: 'authorization',
    rule: 'known-api-key',
  },
];

describe('malformed input', () => {
  it.each(BAD.map((bad) => [bad.name, bad] as const))(
    '%s: a 4xx naming the field and the rule',
    async (_name, bad) => {
      const reply = await rest(server.url, bad.method, bad.path, {
        headers: { authorization: `Bearer ${API_KEY}`, ...bad.headers },
        ...(bad.body !== undefined ? { body: bad.body } : {}),
        ...(bad.raw !== undefined ? { raw: bad.raw } : {}),
      });
      expect(reply.status, reply.text.slice(0, 300)).toBe(bad.status);
      const error = (reply.json as { error: Record<string, unknown> }).error;
      expect(error.field).toBe(bad.field);
      expect(error.rule).toBe(bad.rule);
      expect(typeof error.message).toBe('string');
      if (bad.status === 405) expect(reply.headers.get('allow')).toBe('POST, GET, HEAD, OPTIONS');
    },
  );

  it('the same admin inputs over REST as over tRPC are refused the same', async () => {
    const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
    const zero = await rest(server.url, 'PUT', '/admin/concurrency', {
      body: { concurrency: 0 },
      headers: admin,
    });
    expect(zero.status).toBe(400);
    expect(zero.json).toMatchObject({
      error: { field: 'concurrency', rule: 'too_small', limit: 1 },
    });
    const name = await rest(server.url, 'POST', '/admin/workers/a%20b/drain', {
      body: { draining: true },
      headers: admin,
    });
    expect(name.status).toBe(400);
    expect(name.json).toMatchObject({ error: { field: 'name', rule: 'invalid_format' } });
    const twice = await rest(server.url, 'POST', '/admin/workers/w/drain', {
      body: { name: 'w', draining: true },
      headers: admin,
    });
    expect(twice.json).toMatchObject({ error: { field: 'name', rule: 'path-parameter' } });
  });
});
