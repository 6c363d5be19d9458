import { randomUUID } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { z } from 'zod';
import { BadInputError, NotFoundError } from '../errors/api-errors.ts';
import { storeUpload, UPLOAD_WARNING_RULES, type UploadSource } from '../uploads/index.ts';
import { ownerProcedure, router } from '../trpc.ts';

const projectViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  source: z.enum(['upload', 'example']),
  fileCount: z.number(),
  totalBytes: z.number(),
  createdAt: z.number(),
});
const fileListSchema = z.array(z.object({ path: z.string(), size: z.number() }));
/** Symbolic links the project keeps: relative, their targets inside it. */
const linkListSchema = z.array(z.object({ path: z.string(), target: z.string() }));
/** Entries the upload went on without: links that leave the project, unresolved hard links. */
const uploadWarningsSchema = z.array(
  z.object({
    entry: z.string(),
    rule: z.enum(UPLOAD_WARNING_RULES),
    detail: z.string(),
  }),
);

const MAX_LOOSE_FILES = 2_000;

/**
 * An upload arrives as multipart form data: either one `archive` (zip, tar or tar.gz; the format
 * is read from its bytes) or several `files` with a `paths` field, a JSON array of their relative
 * paths in the same order (a browser's folder pick), plus an optional `name`.
 */
async function sourceFrom(form: FormData): Promise<{ source: UploadSource; name: string }> {
  const named = form.get('name');
  const archive = form.get('archive');
  if (archive instanceof File) {
    return {
      source: { kind: 'archive', bytes: Buffer.from(await archive.arrayBuffer()) },
      name: typeof named === 'string' && named ? named : archive.name || 'upload',
    };
  }
  const files = form.getAll('files').filter((entry): entry is File => entry instanceof File);
  if (files.length === 0)
    throw new BadInputError('archive', 'send an archive, or files with their paths');
  if (files.length > MAX_LOOSE_FILES)
    throw new BadInputError('files', `at most ${MAX_LOOSE_FILES} files in one upload`);
  let paths: unknown;
  try {
    paths = JSON.parse(String(form.get('paths') ?? 'null'));
  } catch {
    throw new BadInputError('paths', 'must be a JSON array of relative paths');
  }
  if (
    !Array.isArray(paths) ||
    paths.length !== files.length ||
    !paths.every((p) => typeof p === 'string')
  ) {
    throw new BadInputError(
      'paths',
      `must be a JSON array of ${files.length} relative paths, one per file`,
    );
  }
  return {
    source: {
      kind: 'files',
      files: await Promise.all(
        files.map(async (file, i) => ({
          path: String(paths[i]),
          content: Buffer.from(await file.arrayBuffer()),
        })),
      ),
    },
    name: typeof named === 'string' && named ? named : 'files',
  };
}

async function listFiles(root: string): Promise<{ path: string; size: number }[]> {
  const files: { path: string; size: number }[] = [];
  async function walk(dir: string): Promise<void> {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile())
        files.push({
          path: relative(root, full).split(sep).join('/'),
          size: (await stat(full)).size,
        });
    }
  }
  await walk(root);
  return files.sort((a, b) => a.path.localeCompare(b.path));
}

export const projectsRouter = router({
  upload: ownerProcedure
    .input(z.instanceof(FormData))
    .output(
      projectViewSchema.extend({
        files: fileListSchema,
        links: linkListSchema,
        warnings: uploadWarningsSchema,
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const { source, name } = await sourceFrom(input);
      const id = randomUUID();
      const stored = await storeUpload({
        source,
        projectsRoot: ctx.services.paths.projects,
        projectId: id,
        limits: { maxUploadBytes: ctx.services.config.uploadMaxBytes },
        // The sandbox user's, so that tool runs see it through a layer, not a copy.
        owner: ctx.services.host.runAs,
      });
      const project = ctx.services.store.insertProject({
        id,
        owner: ctx.owner,
        name: name.slice(0, 200),
        source: 'upload',
        dir: stored.dir,
        fileCount: stored.files.length,
        totalBytes: stored.totalBytes,
      });
      return {
        ...projectViewSchema.parse(project),
        files: stored.files,
        links: stored.links,
        warnings: stored.warnings,
      };
    }),

  get: ownerProcedure
    .input(z.object({ id: z.string().min(1).max(128) }))
    .output(projectViewSchema)
    .query(({ ctx, input }) => {
      const project = ctx.services.store.getProject(input.id);
      if (!project || (!ctx.identity.isAdmin && project.owner !== ctx.owner))
        throw new NotFoundError('project', input.id);
      return projectViewSchema.parse(project);
    }),

  list: ownerProcedure
    .output(z.array(projectViewSchema))
    .query(({ ctx }) =>
      ctx.services.store.listProjects(ctx.owner).map((project) => projectViewSchema.parse(project)),
    ),

  files: ownerProcedure
    .input(z.object({ id: z.string().min(1).max(128) }))
    .output(fileListSchema)
    .query(async ({ ctx, input }) => {
      const project = ctx.services.store.getProject(input.id);
      if (!project || (!ctx.identity.isAdmin && project.owner !== ctx.owner))
        throw new NotFoundError('project', input.id);
      return listFiles(project.dir);
    }),
});
