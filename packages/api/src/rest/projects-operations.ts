import { z } from 'zod';
import { EXAMPLE_PROJECT_ID, exampleProject } from './examples.ts';
import { callsProcedure, jsonAnswer, procedureAnswer } from './operation-kit.ts';
import { outputSchemaOf } from './procedures.ts';
import { readFormBody } from './rest-body.ts';
import type { RestAnswer, RestCall, RestOperation } from './rest-operation.ts';

/** Projects: upload (multipart), list, get, files. */

/** Files an upload's answer names, at most: a library of a thousand files is not echoed back. */
export const UPLOAD_SAMPLE_FILES = 20;

/** Room for the multipart framing around an upload of the largest size. */
const MULTIPART_OVERHEAD_BYTES = 1024 * 1024;

const uploadOutput = outputSchemaOf('projects.upload');
if (!(uploadOutput instanceof z.ZodObject)) throw new Error('projects.upload answers an object');
const uploadShape = uploadOutput.shape as Record<string, z.ZodType>;
const fileListSchema = uploadShape.files;
if (!(fileListSchema instanceof z.ZodArray)) throw new Error('projects.upload lists its files');

/** The upload's answer: the project, its file count and the first files only. */
export const uploadAnswerSchema = uploadOutput.omit({ files: true }).extend({
  /** The first files in path order, at most UPLOAD_SAMPLE_FILES; `fileCount` says how many in all. */
  sampleFiles: fileListSchema.max(UPLOAD_SAMPLE_FILES),
});

interface UploadResult {
  files: { path: string; size: number }[];
  [field: string]: unknown;
}

async function uploadProject(call: RestCall): Promise<RestAnswer> {
  const form = await readFormBody(
    call.req,
    call.services.config.uploadMaxBytes + MULTIPART_OVERHEAD_BYTES,
  );
  const { files, ...project } = (await call.call('projects.upload', form)) as UploadResult;
  const sampleFiles = [...files]
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    .slice(0, UPLOAD_SAMPLE_FILES);
  return {
    status: 201,
    body: { ...project, sampleFiles },
    headers: { location: `/api/v1/projects/${encodeURIComponent(String(project.id))}` },
  };
}

const idParam = { id: EXAMPLE_PROJECT_ID };

export const projectsOperations: readonly RestOperation[] = [
  {
    method: 'POST',
    path: '/projects',
    operationId: 'uploadProject',
    tag: 'projects',
    summary: 'Upload a project: an archive, or files with their paths',
    description:
      'multipart/form-data with either one `archive` (zip, tar or tar.gz, told by its bytes) or several `files` and `paths` (a JSON array of their relative paths, in the same order), and an optional `name`. ' +
      'A refused upload names the entry and the rule (`path-traversal`, `name-collision`, `too-many-files`, ...). ' +
      'A symbolic link whose target stays inside the project is kept as a link (`links`); a hard link becomes a copy; a link that points outside, or an absolute one, is left out and listed in `warnings`, and the upload goes on. ' +
      `The answer counts the files and names the first ${UPLOAD_SAMPLE_FILES}; \`GET /projects/{id}/files\` lists them all.`,
    access: 'owner',
    procedure: 'projects.upload',
    inputFrom: 'multipart',
    multipartSchema: {
      type: 'object',
      properties: {
        archive: {
          type: 'string',
          format: 'binary',
          description: 'A zip, tar or tar.gz of the project',
        },
        files: {
          type: 'array',
          items: { type: 'string', format: 'binary' },
          description: "The project's files, without an archive",
        },
        paths: {
          type: 'string',
          description: 'With files: a JSON array of their relative paths, one per file, in order',
        },
        name: { type: 'string', description: "A name to show (default: the archive's file name)" },
      },
    },
    responses: [
      jsonAnswer(
        uploadAnswerSchema,
        {
          ...exampleProject,
          sampleFiles: [{ path: 'main.py', size: 18 }],
          links: [{ path: 'CLAUDE.md', target: 'AGENTS.md' }],
          warnings: [
            {
              entry: 'passwd',
              rule: 'link-absolute',
              detail:
                "left out: it points at the absolute path /etc/passwd, which is not the project's",
            },
          ],
        },
        201,
        'The project, stored',
      ),
    ],
    example: { body: { name: 'hello', paths: '["main.py"]', files: 'print("hello, runbox")\n' } },
    handle: uploadProject,
  },
  {
    method: 'GET',
    path: '/projects',
    operationId: 'listProjects',
    tag: 'projects',
    summary: "The caller's projects",
    description: 'Newest first.',
    access: 'owner',
    procedure: 'projects.list',
    inputFrom: 'none',
    responses: [procedureAnswer('projects.list', [exampleProject])],
    example: {},
    handle: callsProcedure('projects.list'),
  },
  {
    method: 'GET',
    path: '/projects/{id}',
    operationId: 'getProject',
    tag: 'projects',
    summary: 'A project',
    description: "Another owner's project is 404.",
    access: 'owner',
    procedure: 'projects.get',
    inputFrom: 'none',
    responses: [procedureAnswer('projects.get', exampleProject)],
    example: { params: idParam },
    handle: callsProcedure('projects.get'),
  },
  {
    method: 'GET',
    path: '/projects/{id}/files',
    operationId: 'listProjectFiles',
    tag: 'projects',
    summary: 'Every file of a project, with its size',
    description: 'In path order.',
    access: 'owner',
    procedure: 'projects.files',
    inputFrom: 'none',
    responses: [procedureAnswer('projects.files', [{ path: 'main.py', size: 18 }])],
    example: { params: idParam },
    handle: callsProcedure('projects.files'),
  },
];
