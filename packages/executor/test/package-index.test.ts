import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  PackageIndexSpecError,
  startPackageIndex,
  type NpmPackageSpec,
  type PackageIndex,
  type PythonPackageSpec,
} from './support/package-index.ts';

/**
 * The loopback package index against the host's real pip and npm: what they download from it
 * installs and imports. The host's own pip and npm configuration (find-links, extra indexes, a
 * CA file, ...) is shut out, so only this index can answer.
 */

const PYTHON: PythonPackageSpec[] = [
  {
    name: 'tinyjson-rb',
    version: '1.2.0',
    modules: { 'tinyjson_rb/__init__.py': "X = 'tinyjson 1.2.0'\n" },
  },
  { name: 'dep-rb', version: '0.9.0', modules: { 'dep_rb.py': "VALUE = 'dep 0.9.0'\n" } },
  { name: 'dep-rb', version: '1.0.0', modules: { 'dep_rb.py': "VALUE = 'dep 1.0.0'\n" } },
  {
    // Mixed case and punctuation: pip asks for /simple/top-pkg-rb/ and checks the names agree.
    name: 'Top.Pkg_rb',
    version: '0.1.0',
    modules: { 'top_pkg_rb/__init__.py': "from dep_rb import VALUE\nX = 'top+' + VALUE\n" },
    requires: ['dep-rb>=1.0'],
  },
];

const NPM: NpmPackageSpec[] = [
  {
    name: 'tiny-dep-rb',
    version: '1.0.0',
    files: { 'index.js': "module.exports = { value: 'tiny 1.0.0' };\n" },
  },
  {
    name: 'tiny-dep-rb',
    version: '2.1.0',
    files: { 'index.js': "module.exports = { value: 'tiny 2.1.0' };\n" },
  },
  {
    name: 'left-pad-rb',
    version: '1.0.0',
    main: 'lib/main.js',
    type: 'commonjs',
    files: {
      'lib/main.js': "module.exports = { value: 'left-pad+' + require('tiny-dep-rb').value };\n",
    },
    dependencies: { 'tiny-dep-rb': '^2.0.0' },
  },
  {
    name: '@rb/esm-thing',
    version: '1.0.0',
    type: 'module',
    main: 'index.js',
    files: {
      'index.js': "import dep from 'tiny-dep-rb';\nexport const value = 'esm+' + dep.value;\n",
    },
    dependencies: { 'tiny-dep-rb': '^1.0.0' },
  },
];

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a host command to the end (or kills it at `timeoutMs`); never throws on a failure exit. */
function run(
  command: string,
  args: string[],
  options: { cwd?: string; env: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: options.timeoutMs ?? 25_000,
      killSignal: 'SIGKILL',
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** This process's environment without pip's or npm's settings (a pnpm parent sets npm_config_*). */
function cleanEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(pip_|npm_config_)/i.test(key)) env[key] = value;
  }
  return { ...env, ...extra };
}

/** pip loads no configuration file when PIP_CONFIG_FILE is the null device. */
const PIP_ENV = cleanEnv({ PIP_CONFIG_FILE: '/dev/null', PYTHONDONTWRITEBYTECODE: '1' });
const PIP = ['-m', 'pip', '--disable-pip-version-check', '--no-input'];

function pip(args: string[]): Promise<Result> {
  return run('python3', [...PIP, ...args, '--no-cache-dir'], { env: PIP_ENV });
}

function python(code: string, pythonPath: string): Promise<Result> {
  return run('python3', ['-c', code], { env: { ...PIP_ENV, PYTHONPATH: pythonPath } });
}

let index: PackageIndex | undefined;
const dirs: string[] = [];

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'runbox-package-index-'));
  dirs.push(dir);
  return dir;
}

async function start(): Promise<PackageIndex> {
  index = await startPackageIndex({ python: PYTHON, npm: NPM });
  return index;
}

afterEach(async () => {
  await index?.close();
  index = undefined;
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('the Python simple index', () => {
  it('serves a wheel pip downloads, installs and imports', { timeout: 30_000 }, async () => {
    const idx = await start();
    const downloads = await tempDir();
    const target = await tempDir();

    const download = await pip([
      'download',
      '--no-deps',
      '--index-url',
      idx.pipIndexUrl,
      '--dest',
      downloads,
      'tinyjson-rb==1.2.0',
    ]);
    expect(download.stderr).toBe('');
    expect(download.code).toBe(0);
    expect(readdirSync(downloads)).toEqual(['tinyjson_rb-1.2.0-py3-none-any.whl']);
    expect(idx.requests).toEqual([
      '/simple/tinyjson-rb/',
      '/files/tinyjson_rb-1.2.0-py3-none-any.whl',
    ]);
    const wheel = join(downloads, 'tinyjson_rb-1.2.0-py3-none-any.whl');

    // Every RECORD line checked by Python's own zipfile and hashlib.
    const checked = await run(
      'python3',
      [
        '-c',
        [
          'import base64, csv, hashlib, io, sys, zipfile',
          'z = zipfile.ZipFile(sys.argv[1])',
          "rows = list(csv.reader(io.TextIOWrapper(z.open('tinyjson_rb-1.2.0.dist-info/RECORD'))))",
          'assert sorted(r[0] for r in rows) == sorted(z.namelist()), (rows, z.namelist())',
          'for path, digest, size in rows:',
          "    if path.endswith('/RECORD'):",
          "        assert digest == size == '', path",
          '        continue',
          '    data = z.read(path)',
          "    want = 'sha256=' + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()",
          '    assert digest == want and int(size) == len(data), path',
          "print(z.read('tinyjson_rb-1.2.0.dist-info/WHEEL').decode(), end='')",
        ].join('\n'),
        wheel,
      ],
      { env: PIP_ENV },
    );
    expect(checked.stderr).toBe('');
    expect(checked.stdout).toContain('Tag: py3-none-any\n');

    const install = await pip(['install', '--no-index', '--target', target, wheel]);
    expect(install.code, install.stderr).toBe(0);
    const imported = await python('import tinyjson_rb; print(tinyjson_rb.X)', target);
    expect(imported.stderr).toBe('');
    expect(imported.stdout).toBe('tinyjson 1.2.0\n');
  });

  it(
    'lets pip pull a Requires-Dist dependency through the index',
    { timeout: 30_000 },
    async () => {
      const idx = await start();
      const target = await tempDir();

      const install = await pip([
        'install',
        '--index-url',
        idx.pipIndexUrl,
        '--target',
        target,
        'top-pkg-rb==0.1.0',
      ]);
      expect(install.code, install.stderr).toBe(0);
      expect(
        readdirSync(target)
          .filter((f) => f !== '__pycache__')
          .sort(),
      ).toEqual([
        'dep_rb-1.0.0.dist-info',
        'dep_rb.py',
        'top_pkg_rb',
        'top_pkg_rb-0.1.0.dist-info',
      ]);
      expect(idx.requests).toEqual([
        '/simple/top-pkg-rb/',
        '/files/top_pkg_rb-0.1.0-py3-none-any.whl',
        '/simple/dep-rb/',
        '/files/dep_rb-1.0.0-py3-none-any.whl',
      ]);
      const imported = await python('import top_pkg_rb; print(top_pkg_rb.X)', target);
      expect(imported.stderr).toBe('');
      expect(imported.stdout).toBe('top+dep 1.0.0\n');
    },
  );

  it('answers 404 for an unknown project, which pip reports', { timeout: 30_000 }, async () => {
    const idx = await start();
    const downloads = await tempDir();

    const download = await pip([
      'download',
      '--no-deps',
      '--index-url',
      idx.pipIndexUrl,
      '--dest',
      downloads,
      'nosuch-rb==1.0',
    ]);
    expect(download.code).not.toBe(0);
    expect(download.stderr).toContain('No matching distribution found for nosuch-rb==1.0');
    expect(idx.requests).toEqual(['/simple/nosuch-rb/']);
    const response = await fetch(`${idx.pipIndexUrl}nosuch-rb/`);
    expect(response.status).toBe(404);
  });

  it('lists its projects, normalised, at /simple/', async () => {
    const idx = await start();
    const page = await (await fetch(idx.pipIndexUrl)).text();
    const links = [...page.matchAll(/<a href="([^"]+)">/g)].map((m) => m[1]);
    expect(links).toEqual(['/simple/dep-rb/', '/simple/tinyjson-rb/', '/simple/top-pkg-rb/']);
  });
});

/** npm with no configuration but the flags given: the host's .npmrc files are empty files here. */
async function npm(cwd: string, args: string[]): Promise<Result> {
  const config = await tempDir();
  // npm refuses one file as both the user and the global configuration.
  await writeFile(join(config, 'user.npmrc'), '');
  await writeFile(join(config, 'global.npmrc'), '');
  return run(
    'npm',
    [
      ...args,
      '--registry',
      index?.npmRegistry ?? '',
      '--no-audit',
      '--no-fund',
      '--no-update-notifier',
      // A failed fetch (or a tarball whose integrity is wrong) would be retried for a minute.
      '--fetch-retries',
      '0',
      '--cache',
      join(config, 'cache'),
      '--userconfig',
      join(config, 'user.npmrc'),
      '--globalconfig',
      join(config, 'global.npmrc'),
    ],
    { cwd, env: cleanEnv({}) },
  );
}

function node(cwd: string, args: string[]): Promise<Result> {
  return run(process.execPath, args, { cwd, env: cleanEnv({}) });
}

describe('the npm registry', () => {
  it('installs with npm ci from the lockfile it writes', { timeout: 30_000 }, async () => {
    const idx = await start();
    const project = await tempDir();
    // tiny-dep-rb at 1.0.0 for the root, at 2.1.0 (^2.0.0) for left-pad-rb: one is nested.
    const deps = { 'left-pad-rb': '1.0.0', 'tiny-dep-rb': '1.0.0' };
    const lockfile = idx.npmLockfile(deps);
    const packages = (JSON.parse(lockfile) as { packages: Record<string, { version?: string }> })
      .packages;
    expect(Object.keys(packages)).toEqual([
      '',
      'node_modules/left-pad-rb',
      'node_modules/left-pad-rb/node_modules/tiny-dep-rb',
      'node_modules/tiny-dep-rb',
    ]);
    await writeFile(
      join(project, 'package.json'),
      JSON.stringify({ name: 'fixture-root', version: '1.0.0', dependencies: deps }),
    );
    await writeFile(join(project, 'package-lock.json'), lockfile);

    const ci = await npm(project, ['ci']);
    expect(ci.code, ci.stderr).toBe(0);
    // A complete lockfile: npm fetches the tarballs it pins and no packument.
    expect([...idx.requests].sort()).toEqual([
      '/npm/left-pad-rb/-/left-pad-rb-1.0.0.tgz',
      '/npm/tiny-dep-rb/-/tiny-dep-rb-1.0.0.tgz',
      '/npm/tiny-dep-rb/-/tiny-dep-rb-2.1.0.tgz',
    ]);
    const required = await node(project, [
      '-e',
      "console.log(require('left-pad-rb').value); console.log(require('tiny-dep-rb').value)",
    ]);
    expect(required.stderr).toBe('');
    expect(required.stdout).toBe('left-pad+tiny 2.1.0\ntiny 1.0.0\n');
  });

  it('installs a scoped ES module package with no lockfile', { timeout: 30_000 }, async () => {
    const idx = await start();
    const project = await tempDir();
    await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'fixture-root' }));

    const install = await npm(project, ['install', '@rb/esm-thing@1.0.0']);
    expect(install.code, install.stderr).toBe(0);
    expect(idx.requests).toEqual(
      expect.arrayContaining([
        '/npm/@rb%2fesm-thing',
        '/npm/tiny-dep-rb',
        '/npm/@rb/esm-thing/-/esm-thing-1.0.0.tgz',
        '/npm/tiny-dep-rb/-/tiny-dep-rb-1.0.0.tgz',
      ]),
    );
    expect(idx.requests).not.toContain('/npm/tiny-dep-rb/-/tiny-dep-rb-2.1.0.tgz');
    const imported = await node(project, [
      '--input-type=module',
      '-e',
      "import { value } from '@rb/esm-thing'; console.log(value)",
    ]);
    expect(imported.stderr).toBe('');
    expect(imported.stdout).toBe('esm+tiny 1.0.0\n');
  });

  it('answers 404 for an unknown package, which npm reports', { timeout: 30_000 }, async () => {
    const idx = await start();
    const project = await tempDir();
    await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'fixture-root' }));

    const install = await npm(project, ['install', 'nosuch-rb@1.0.0']);
    expect(install.code).not.toBe(0);
    expect(install.stderr).toContain('E404');
    expect(idx.requests).toEqual(['/npm/nosuch-rb']);
    const response = await fetch(`${idx.npmRegistry}nosuch-rb`);
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ error: 'Not found' });
  });

  it('serves packuments with the tarball hashes npm checks', async () => {
    const idx = await start();
    const response = await fetch(`${idx.npmRegistry}@rb%2fesm-thing`);
    expect(response.headers.get('content-type')).toBe('application/json');
    const doc = (await response.json()) as {
      'dist-tags': { latest: string };
      versions: Record<string, { dist: { tarball: string; shasum: string; integrity: string } }>;
    };
    expect(doc['dist-tags'].latest).toBe('1.0.0');
    const dist = doc.versions['1.0.0']?.dist;
    expect(dist?.tarball).toBe(`${idx.url}/npm/@rb/esm-thing/-/esm-thing-1.0.0.tgz`);
    const tarball = Buffer.from(await (await fetch(dist?.tarball ?? '')).arrayBuffer());
    expect(createHash('sha1').update(tarball).digest('hex')).toBe(dist?.shasum);
    expect(`sha512-${createHash('sha512').update(tarball).digest('base64')}`).toBe(dist?.integrity);
    // The host's tar lists every file under package/.
    const dir = await tempDir();
    await writeFile(join(dir, 'p.tgz'), tarball);
    const listed = await run('tar', ['-tzvf', join(dir, 'p.tgz')], { env: cleanEnv({}) });
    expect(listed.code, listed.stderr).toBe(0);
    expect(
      listed.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(/\s+/).pop()),
    ).toEqual(['package/package.json', 'package/index.js']);
  });
});

describe('the server', () => {
  it('serves GET and HEAD only, records every request, and frees its port on close', async () => {
    const idx = await start();
    const head = await fetch(`${idx.npmRegistry}tiny-dep-rb`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(Number(head.headers.get('content-length'))).toBeGreaterThan(0);
    expect(await head.text()).toBe('');
    const post = await fetch(`${idx.url}/simple/`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(idx.requests).toEqual(['/npm/tiny-dep-rb', '/simple/']);
    expect(idx.url).toBe(`http://127.0.0.1:${idx.port}`);

    await idx.close();
    index = undefined;
    await expect(fetch(`${idx.url}/simple/`)).rejects.toThrow();
    const again = createServer();
    await new Promise<void>((resolve, reject) => {
      again.once('error', reject);
      again.listen(idx.port, idx.host, resolve);
    });
    await new Promise<void>((resolve) => again.close(() => resolve()));
  });

  it('refuses specs it cannot serve faithfully', async () => {
    await expect(
      startPackageIndex({ npm: [{ name: 'x', version: '1.0.0', files: { '../evil': '' } }] }),
    ).rejects.toBeInstanceOf(PackageIndexSpecError);
    await expect(
      startPackageIndex({ python: [{ name: 'bad name', version: '1', modules: {} }] }),
    ).rejects.toBeInstanceOf(PackageIndexSpecError);
    const idx = await start();
    expect(() => idx.npmLockfile({ 'nosuch-rb': '1.0.0' })).toThrow(PackageIndexSpecError);
  });
});
