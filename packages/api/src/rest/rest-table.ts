import { z } from 'zod';
import { adminOperations } from './admin-operations.ts';
import { catalogOperations } from './catalog-operations.ts';
import { deliveriesOperations } from './deliveries-operations.ts';
import { serveDocsAsset, serveDocsPage } from './docs-page.ts';
import { buildOpenApiDocument } from './openapi.ts';
import { pistonOperations } from './piston/piston-operations.ts';
import { projectsOperations } from './projects-operations.ts';
import { RestRequestError } from './rest-errors.ts';
import type { RestOperation } from './rest-operation.ts';
import { runsOperations } from './runs-operations.ts';
import { interactiveRunOperations, sessionsOperations } from './sessions-operations.ts';

/** Every operation of /api/v1, in the order the document lists them. */

const documents = new Map<boolean, Record<string, unknown>>();

function documentFor(anonymous: boolean): Record<string, unknown> {
  let document = documents.get(anonymous);
  if (!document) {
    // Piston's /api/v2 is served by its own handler and documented here with the rest.
    document = buildOpenApiDocument([...restOperations, ...pistonOperations], { anonymous });
    documents.set(anonymous, document);
  }
  return document;
}

const openApiDocumentSchema = z.looseObject({
  openapi: z.string(),
  info: z.looseObject({ title: z.string(), version: z.string() }),
  paths: z.record(z.string(), z.unknown()),
});

const referenceOperations: readonly RestOperation[] = [
  {
    method: 'GET',
    path: '/openapi.json',
    operationId: 'getOpenApiDocument',
    tag: 'reference',
    summary: 'This document (OpenAPI 3.1)',
    description: 'Generated from the same schemas the calls check their input with.',
    access: 'public',
    procedure: null,
    inputFrom: 'none',
    responses: [
      {
        status: 200,
        description: 'OK',
        body: { json: openApiDocumentSchema },
        example: { openapi: '3.1.0', info: { title: 'runbox REST API', version: '1' }, paths: {} },
      },
    ],
    example: {},
    handle: async (call) => {
      await call.input();
      return { status: 200, body: documentFor(call.services.config.anonymous) };
    },
  },
  {
    method: 'GET',
    path: '/docs',
    operationId: 'getReferencePage',
    tag: 'reference',
    summary: 'This reference as a page to read and try calls in',
    description: 'Served by runbox itself; it loads nothing from elsewhere.',
    access: 'public',
    procedure: null,
    inputFrom: 'none',
    responses: [{ status: 200, description: 'The page', body: { media: 'text/html' } }],
    example: {},
    handle: async (call) => {
      await call.input();
      serveDocsPage(call.res);
      return 'sent';
    },
  },
  {
    method: 'GET',
    path: '/docs/{asset}',
    operationId: 'getReferencePageFile',
    tag: 'reference',
    summary: "The reference page's scripts and styles",
    description: '',
    access: 'public',
    procedure: null,
    inputFrom: 'none',
    responses: [],
    example: {},
    undocumented: true,
    handle: async (call) => {
      const name = call.params.asset ?? '';
      if (await serveDocsAsset(name, call.res)) return 'sent';
      throw new RestRequestError({
        status: 404,
        code: 'NOT_FOUND',
        message: `no file ${JSON.stringify(name)} of the reference page`,
      });
    },
  },
];

export const restOperations: readonly RestOperation[] = [
  ...runsOperations,
  ...interactiveRunOperations,
  ...deliveriesOperations,
  ...projectsOperations,
  ...catalogOperations,
  ...adminOperations,
  ...sessionsOperations,
  ...referenceOperations,
];
