// Bundles the worker (`./runbox worker`) into one JavaScript file, .runbox/worker/worker-main.mjs,
// when its sources or the lockfile changed since the last build (a hash of them is kept beside it;
// when it matches, nothing is built: a few milliseconds).
//
// Why: an idle worker started from its TypeScript sources held 137 MiB; Node's type stripping
// (amaro, a WebAssembly build of swc) alone is ~20 MiB of it, and hundreds of module records
// more. One bundled file needs neither.
//
// The sources find their files (the language runners, tools.json, the sandbox tools) relative to
// their own `import.meta.url`; in the bundle each module's `import.meta.url` is replaced by the
// URL of its source file, so they find them where they are. The bundle is therefore built where
// it runs (in place in a checkout, inside the image in docker/Dockerfile), never copied elsewhere.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import process from 'node:process';
import { fileURLToPath, pathToFileURL, URL } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ENTRY = join(ROOT, 'packages/cluster/src/worker-main.ts');
const OUT = join(ROOT, '.runbox/worker/worker-main.mjs');
const STAMP = `${OUT}.stamp`;

function sourceFiles(dir) {
  const files = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...sourceFiles(path));
    else if (entry.name.endsWith('.ts') || entry.name.endsWith('.json')) files.push(path);
  }
  return files;
}

function currentStamp() {
  const hash = createHash('sha256');
  const files = [
    ...sourceFiles(join(ROOT, 'packages/executor/src')),
    ...sourceFiles(join(ROOT, 'packages/cluster/src')),
    join(ROOT, 'pnpm-lock.yaml'),
    fileURLToPath(import.meta.url),
  ].sort();
  for (const file of files)
    hash.update(relative(ROOT, file)).update('\0').update(readFileSync(file));
  return hash.digest('hex');
}

const stamp = currentStamp();
let built = '';
try {
  statSync(OUT);
  built = readFileSync(STAMP, 'utf8').trim();
} catch {
  // not built yet
}
if (built !== stamp) {
  const started = Date.now();
  const { build } = await import(
    pathToFileURL(join(ROOT, 'packages/cluster/node_modules/esbuild/lib/main.js')).href
  );
  mkdirSync(dirname(OUT), { recursive: true });
  const partial = `${OUT}.partial`;
  await build({
    entryPoints: [ENTRY],
    outfile: partial,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    logLevel: 'warning',
    // ASCII only: one character outside Latin-1 anywhere (a dash in a dependency's message) makes
    // V8 keep the whole 3.6 MB source as a two-byte string (7 MiB held for ever).
    charset: 'ascii',
    // Whitespace and syntax only: the source V8 keeps shrinks by half, names stay readable in
    // stack traces.
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: 'none',
    // CommonJS dependencies inside an ES module bundle still call require for Node's own modules.
    banner: {
      js: "import { createRequire as runboxCreateRequire } from 'node:module'; const require = runboxCreateRequire(import.meta.url);",
    },
    plugins: [
      {
        name: 'source-import-meta-url',
        setup(pluginBuild) {
          pluginBuild.onLoad({ filter: /\/packages\/[^/]+\/src\/.*\.ts$/ }, (args) => {
            const source = readFileSync(args.path, 'utf8');
            const url = JSON.stringify(pathToFileURL(args.path).href);
            return { contents: source.replaceAll('import.meta.url', url), loader: 'ts' };
          });
        },
      },
    ],
  });
  renameSync(partial, OUT);
  writeFileSync(STAMP, `${stamp}\n`);
  process.stderr.write(`runbox: worker bundled in ${Date.now() - started} ms\n`);
}
