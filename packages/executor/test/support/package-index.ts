import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { crc32, deflateRawSync, gzipSync } from 'node:zlib';

/**
 * TEST SCAFFOLDING: a small package index served on loopback, so tests of dependency installs
 * (pip, npm) never depend on the outside network, and can see exactly what was fetched.
 *
 * Python: real pure-Python wheels behind a PEP 503 simple index (`/simple/`). npm: packuments and
 * tarballs the way registry.npmjs.org serves them (`/npm/<name>`, `/npm/<name>/-/<file>.tgz`).
 * Everything is built in memory when the index starts, with fixed timestamps, so the same specs
 * give the same bytes (and the same hashes) every time.
 */

/** A pure-Python distribution, built into a `py3-none-any` wheel. */
export interface PythonPackageSpec {
  /** The project name as published (any case, `-`, `_` or `.`; pip normalises it per PEP 503). */
  name: string;
  version: string;
  /** File path inside the wheel (e.g. `tinyjson_rb/__init__.py`) to its source. */
  modules: Record<string, string>;
  /** Requires-Dist lines, e.g. `otherpkg>=1.0`. */
  requires?: string[];
}

/** An npm package, built into a registry tarball (every file under `package/`). */
export interface NpmPackageSpec {
  name: string;
  version: string;
  /** Path inside the package (e.g. `index.js`) to its content; package.json is written from the spec. */
  files: Record<string, string>;
  main?: string;
  type?: 'module' | 'commonjs';
  /** Name to range, as in package.json; ranges must be ones `npmLockfile` can resolve (see there). */
  dependencies?: Record<string, string>;
}

export interface PackageIndex {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  url: string;
  /** `${url}/simple/`, the PEP 503 index for `pip --index-url`. */
  pipIndexUrl: string;
  /** `${url}/npm/`, for `npm --registry`. */
  npmRegistry: string;
  host: string;
  port: number;
  /** Every request target (path and query) received, in order, whatever its answer. */
  requests: string[];
  /**
   * A package-lock.json (lockfileVersion 3) for a root package named `rootName` (default
   * `fixture-root`), version 1.0.0, depending on `deps` (exact versions this index has). Every
   * transitive dependency is included, each `resolved` to this index's tarball with its real
   * sha512 `integrity`. The root package.json must list the same `dependencies` for `npm ci`.
   */
  npmLockfile(deps: Record<string, string>, rootName?: string): string;
  /** Stops the server and drops open (keep-alive) connections, so the port is free when it resolves. */
  close(): Promise<void>;
}

/** A spec the index cannot serve faithfully (bad name, unsafe path, duplicate, unresolvable range). */
export class PackageIndexSpecError extends Error {
  override name = 'PackageIndexSpecError';
}

const HOST = '127.0.0.1';

export async function startPackageIndex(options: {
  python?: PythonPackageSpec[];
  npm?: NpmPackageSpec[];
}): Promise<PackageIndex> {
  const wheels = buildWheels(options.python ?? []);
  const npmPackages = buildNpmPackages(options.npm ?? []);
  const requests: string[] = [];
  // The tarball URLs inside packuments are absolute, so they need the port: filled in once bound.
  let base = '';

  const server = createServer((req, res) => {
    requests.push(req.url ?? '');
    handle(req, res);
  });

  function handle(req: IncomingMessage, res: ServerResponse): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(req, res, 405, 'text/plain', 'method not allowed\n', { allow: 'GET, HEAD' });
      return;
    }
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (path === '/simple' || path === '/simple/') {
      send(req, res, 200, 'text/html', simpleRootPage(wheels));
      return;
    }
    const project = /^\/simple\/([^/]+)\/?$/.exec(path);
    if (project?.[1] !== undefined) {
      const name = normalisePythonName(decodeName(project[1]));
      const files = wheels.get(name);
      if (files === undefined) send(req, res, 404, 'text/html', notFoundPage());
      else send(req, res, 200, 'text/html', simpleProjectPage(name, files));
      return;
    }
    const wheelFile = /^\/files\/([^/]+\.whl)$/.exec(path);
    if (wheelFile?.[1] !== undefined) {
      const wheel = findWheel(wheels, wheelFile[1]);
      if (wheel === undefined) send(req, res, 404, 'text/html', notFoundPage());
      else send(req, res, 200, 'application/octet-stream', wheel.bytes);
      return;
    }
    if (path.startsWith('/npm/')) {
      serveNpm(req, res, path.slice('/npm/'.length));
      return;
    }
    send(req, res, 404, 'text/plain', 'not found\n');
  }

  function serveNpm(req: IncomingMessage, res: ServerResponse, rest: string): void {
    // `@scope%2fname` is how npm asks for a scoped packument; the tarball path has a real `/`.
    const tarball = /^(.+)\/-\/([^/]+\.tgz)$/.exec(rest);
    if (tarball?.[1] !== undefined && tarball[2] !== undefined) {
      const versions = npmPackages.get(decodeName(tarball[1]));
      const found = [...(versions?.values() ?? [])].find((p) => p.fileName === tarball[2]);
      if (found === undefined) sendNpmNotFound(req, res);
      else send(req, res, 200, 'application/octet-stream', found.tarball);
      return;
    }
    const versions = npmPackages.get(decodeName(rest));
    if (versions === undefined) sendNpmNotFound(req, res);
    else send(req, res, 200, 'application/json', JSON.stringify(packument(versions, base)));
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  base = `http://${HOST}:${port}`;

  return {
    url: base,
    pipIndexUrl: `${base}/simple/`,
    npmRegistry: `${base}/npm/`,
    host: HOST,
    port,
    requests,
    npmLockfile: (deps, rootName = 'fixture-root') =>
      npmLockfile(npmPackages, base, deps, rootName),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // pip and npm keep connections alive; close() alone would wait for them to time out.
        server.closeAllConnections();
      }),
  };
}

/** A name from a request path; one that does not decode matches nothing (a 404). */
function decodeName(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return '';
  }
}

function send(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  contentType: string,
  body: string | Buffer,
  headers: Record<string, string> = {},
): void {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  res.writeHead(status, {
    ...headers,
    'content-type': contentType,
    'content-length': String(bytes.length),
  });
  res.end(req.method === 'HEAD' ? undefined : bytes);
}

/** The body registry.npmjs.org answers for an unknown package, which npm turns into E404. */
function sendNpmNotFound(req: IncomingMessage, res: ServerResponse): void {
  send(req, res, 404, 'application/json', JSON.stringify({ error: 'Not found' }));
}

function notFoundPage(): string {
  return '<!DOCTYPE html><html><body><h1>Not Found</h1></body></html>\n';
}

// ---------------------------------------------------------------------------------------------
// Python: wheels and the simple index

interface BuiltWheel {
  fileName: string;
  bytes: Buffer;
  sha256: string;
}

/** PEP 503: runs of `-`, `_`, `.` become one `-`, lower case. The key of `/simple/<name>/`. */
export function normalisePythonName(name: string): string {
  return name.replace(/[-_.]+/g, '-').toLowerCase();
}

const PYTHON_NAME = /^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$/;
// Version characters only: a version with `-` or `/` would break the wheel file name.
const PYTHON_VERSION = /^[A-Za-z0-9.+!]+$/;

function buildWheels(specs: PythonPackageSpec[]): Map<string, BuiltWheel[]> {
  const byProject = new Map<string, BuiltWheel[]>();
  for (const spec of specs) {
    if (!PYTHON_NAME.test(spec.name)) {
      throw new PackageIndexSpecError(`not a valid Python project name: ${spec.name}`);
    }
    if (!PYTHON_VERSION.test(spec.version)) {
      throw new PackageIndexSpecError(`not a usable version for ${spec.name}: ${spec.version}`);
    }
    const key = normalisePythonName(spec.name);
    const wheels = byProject.get(key) ?? [];
    const wheel = buildWheel(spec);
    if (wheels.some((w) => w.fileName === wheel.fileName)) {
      throw new PackageIndexSpecError(`${spec.name} ${spec.version} is listed twice`);
    }
    wheels.push(wheel);
    byProject.set(key, wheels);
  }
  return byProject;
}

/**
 * A wheel as PEP 427 describes it: the modules, then `<dist>-<version>.dist-info/` with METADATA,
 * WHEEL and RECORD (every other file's sha256 and size; its own line empty). pip checks the name
 * and version in METADATA against the file name, and RECORD when it installs.
 */
function buildWheel(spec: PythonPackageSpec): BuiltWheel {
  // File names escape the distribution name: normalised, then `-` to `_` (PEP 427, PEP 491).
  const dist = normalisePythonName(spec.name).replace(/-/g, '_');
  const distInfo = `${dist}-${spec.version}.dist-info`;
  const metadata = [
    'Metadata-Version: 2.1',
    `Name: ${spec.name}`,
    `Version: ${spec.version}`,
    ...(spec.requires ?? []).map((line) => `Requires-Dist: ${line}`),
    '',
    '',
  ].join('\n');
  const wheelInfo = [
    'Wheel-Version: 1.0',
    'Generator: runbox-test-package-index',
    'Root-Is-Purelib: true',
    'Tag: py3-none-any',
    '',
  ].join('\n');

  const entries: ZipEntry[] = [];
  for (const [path, source] of Object.entries(spec.modules)) {
    checkRelativePath(path, spec.name);
    if (path.split('/')[0] === distInfo) {
      throw new PackageIndexSpecError(`${spec.name}: ${path} is inside the generated dist-info`);
    }
    entries.push({ name: path, data: Buffer.from(source, 'utf8') });
  }
  entries.push({ name: `${distInfo}/METADATA`, data: Buffer.from(metadata, 'utf8') });
  entries.push({ name: `${distInfo}/WHEEL`, data: Buffer.from(wheelInfo, 'utf8') });
  const recordPath = `${distInfo}/RECORD`;
  const record = [
    ...entries.map((e) => `${csvField(e.name)},sha256=${recordDigest(e.data)},${e.data.length}`),
    `${csvField(recordPath)},,`,
    '',
  ].join('\n');
  entries.push({ name: recordPath, data: Buffer.from(record, 'utf8') });

  const bytes = zip(entries);
  return {
    fileName: `${dist}-${spec.version}-py3-none-any.whl`,
    bytes,
    sha256: createHash('sha256').update(bytes).digest('hex'),
  };
}

/** RECORD's hash form: urlsafe base64 without padding. */
function recordDigest(data: Buffer): string {
  return createHash('sha256').update(data).digest('base64url');
}

function csvField(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

function findWheel(wheels: Map<string, BuiltWheel[]>, fileName: string): BuiltWheel | undefined {
  for (const files of wheels.values()) {
    const found = files.find((w) => w.fileName === fileName);
    if (found !== undefined) return found;
  }
  return undefined;
}

function simpleRootPage(wheels: Map<string, BuiltWheel[]>): string {
  const links = [...wheels.keys()]
    .sort()
    .map((name) => `<a href="/simple/${name}/">${escapeHtml(name)}</a><br>`);
  return htmlPage('Simple index', links);
}

/** Relative links with the PEP 503 `#sha256=` fragment, which pip verifies after downloading. */
function simpleProjectPage(name: string, files: BuiltWheel[]): string {
  const links = files.map(
    (w) => `<a href="../../files/${w.fileName}#sha256=${w.sha256}">${w.fileName}</a><br>`,
  );
  return htmlPage(`Links for ${escapeHtml(name)}`, links);
}

function htmlPage(title: string, lines: string[]): string {
  return [
    '<!DOCTYPE html>',
    '<html><head><meta name="pypi:repository-version" content="1.0">',
    `<title>${title}</title></head><body>`,
    `<h1>${title}</h1>`,
    ...lines,
    '</body></html>',
    '',
  ].join('\n');
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

// ---------------------------------------------------------------------------------------------
// npm: tarballs, packuments, lockfiles

interface BuiltNpmPackage {
  spec: NpmPackageSpec;
  /** `<name without scope>-<version>.tgz`, the registry's tarball file name. */
  fileName: string;
  tarball: Buffer;
  shasum: string;
  integrity: string;
}

const NPM_NAME = /^(@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/;
const NPM_VERSION = /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;

/** Name to version to package, versions in the order listed (the last one is `latest`). */
function buildNpmPackages(specs: NpmPackageSpec[]): Map<string, Map<string, BuiltNpmPackage>> {
  const byName = new Map<string, Map<string, BuiltNpmPackage>>();
  for (const spec of specs) {
    if (!NPM_NAME.test(spec.name)) {
      throw new PackageIndexSpecError(`not a valid npm package name: ${spec.name}`);
    }
    if (!NPM_VERSION.test(spec.version)) {
      throw new PackageIndexSpecError(`not a semver version for ${spec.name}: ${spec.version}`);
    }
    const versions = byName.get(spec.name) ?? new Map<string, BuiltNpmPackage>();
    if (versions.has(spec.version)) {
      throw new PackageIndexSpecError(`${spec.name}@${spec.version} is listed twice`);
    }
    versions.set(spec.version, buildNpmPackage(spec));
    byName.set(spec.name, versions);
  }
  return byName;
}

function buildNpmPackage(spec: NpmPackageSpec): BuiltNpmPackage {
  const manifest = {
    name: spec.name,
    version: spec.version,
    ...(spec.main === undefined ? {} : { main: spec.main }),
    ...(spec.type === undefined ? {} : { type: spec.type }),
    ...(spec.dependencies === undefined ? {} : { dependencies: spec.dependencies }),
  };
  const files: TarEntry[] = [
    { path: 'package/package.json', data: Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`) },
  ];
  for (const [path, content] of Object.entries(spec.files)) {
    checkRelativePath(path, spec.name);
    if (path === 'package.json') {
      throw new PackageIndexSpecError(`${spec.name}: package.json is written from the spec`);
    }
    files.push({ path: `package/${path}`, data: Buffer.from(content, 'utf8') });
  }
  const tarball = gzipSync(tar(files));
  return {
    spec,
    fileName: `${spec.name.replace(/^@[^/]+\//, '')}-${spec.version}.tgz`,
    tarball,
    shasum: createHash('sha1').update(tarball).digest('hex'),
    integrity: `sha512-${createHash('sha512').update(tarball).digest('base64')}`,
  };
}

function tarballUrl(base: string, pkg: BuiltNpmPackage): string {
  return `${base}/npm/${pkg.spec.name}/-/${pkg.fileName}`;
}

/** The full ("non-corgi") document registry.npmjs.org serves; npm accepts it for either Accept. */
function packument(versions: Map<string, BuiltNpmPackage>, base: string): object {
  const all = [...versions.values()];
  const latest = all[all.length - 1];
  const name = latest?.spec.name ?? '';
  return {
    _id: name,
    name,
    'dist-tags': { latest: latest?.spec.version },
    versions: Object.fromEntries(
      all.map((pkg) => [
        pkg.spec.version,
        {
          _id: `${name}@${pkg.spec.version}`,
          name,
          version: pkg.spec.version,
          ...(pkg.spec.main === undefined ? {} : { main: pkg.spec.main }),
          ...(pkg.spec.type === undefined ? {} : { type: pkg.spec.type }),
          dependencies: pkg.spec.dependencies ?? {},
          dist: { tarball: tarballUrl(base, pkg), shasum: pkg.shasum, integrity: pkg.integrity },
        },
      ]),
    ),
  };
}

interface LockEntry {
  version: string;
  resolved: string;
  integrity: string;
  dependencies?: Record<string, string>;
}

/**
 * Places every package the way npm would find it from its dependant: one walks up the
 * `node_modules` directories from the dependant and takes the first of that name. So a dependency
 * reuses the nearest one of the right version, is nested under its dependant when a nearer one of
 * another version is in the way, and goes to the top level otherwise.
 */
function npmLockfile(
  packages: Map<string, Map<string, BuiltNpmPackage>>,
  base: string,
  deps: Record<string, string>,
  rootName: string,
): string {
  const placed = new Map<string, LockEntry>();
  const queue: { dependant: string; deps: Record<string, string> }[] = [{ dependant: '', deps }];
  for (let item = queue.shift(); item !== undefined; item = queue.shift()) {
    for (const [name, range] of Object.entries(item.deps)) {
      const pkg = resolveNpm(packages, name, range);
      const location = placeFor(placed, item.dependant, name, pkg.spec.version);
      if (location.existing) continue;
      placed.set(location.path, {
        version: pkg.spec.version,
        resolved: tarballUrl(base, pkg),
        integrity: pkg.integrity,
        ...(pkg.spec.dependencies === undefined ? {} : { dependencies: pkg.spec.dependencies }),
      });
      if (pkg.spec.dependencies !== undefined) {
        queue.push({ dependant: location.path, deps: pkg.spec.dependencies });
      }
    }
  }
  const sorted = [...placed.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const lock = {
    name: rootName,
    version: '1.0.0',
    lockfileVersion: 3,
    requires: true,
    packages: {
      '': { name: rootName, version: '1.0.0', dependencies: deps },
      ...Object.fromEntries(sorted),
    },
  };
  return `${JSON.stringify(lock, null, 2)}\n`;
}

function placeFor(
  placed: Map<string, LockEntry>,
  dependant: string,
  name: string,
  version: string,
): { path: string; existing: boolean } {
  // The node_modules directories npm (and Node) search from `dependant`, nearest first.
  const searched: string[] = [];
  for (let dir = dependant; ;) {
    searched.push(dir === '' ? `node_modules/${name}` : `${dir}/node_modules/${name}`);
    if (dir === '') break;
    const cut = dir.lastIndexOf('/node_modules/');
    dir = cut === -1 ? '' : dir.slice(0, cut);
  }
  for (const path of searched) {
    const found = placed.get(path);
    if (found === undefined) continue;
    if (found.version === version) return { path, existing: true };
    // Another version is nearer: nest under the dependant, where it is found first.
    const nested = searched[0];
    if (nested === undefined || nested === path) {
      throw new PackageIndexSpecError(`${name} is needed at two versions in ${nested}`);
    }
    return { path: nested, existing: false };
  }
  return { path: `node_modules/${name}`, existing: false };
}

/**
 * The version of `name` that `range` selects: the exact version, or the highest one matching a
 * simple range (`*`, `latest`, `x.y.z`, `^x.y.z`, `~x.y.z`, `>=x.y.z`). Enough for fixtures; a
 * range beyond that is a spec error rather than a silent guess.
 */
function resolveNpm(
  packages: Map<string, Map<string, BuiltNpmPackage>>,
  name: string,
  range: string,
): BuiltNpmPackage {
  const versions = packages.get(name);
  if (versions === undefined) {
    throw new PackageIndexSpecError(`the index has no npm package ${name}`);
  }
  const exact = versions.get(range);
  if (exact !== undefined) return exact;
  const matches = [...versions.values()]
    .filter((pkg) => satisfies(pkg.spec.version, range, name))
    .sort((a, b) => compareVersions(a.spec.version, b.spec.version));
  const best = matches[matches.length - 1];
  if (best === undefined) {
    throw new PackageIndexSpecError(`the index has no version of ${name} matching ${range}`);
  }
  return best;
}

function satisfies(version: string, range: string, name: string): boolean {
  if (range === '*' || range === '' || range === 'latest') return true;
  const match = /^(\^|~|>=)?(\d+)\.(\d+)\.(\d+)$/.exec(range.trim());
  if (match === null) {
    throw new PackageIndexSpecError(`range ${range} of ${name} is beyond this fixture`);
  }
  const [, op, ...wanted] = match;
  const [major, minor, patch] = wanted.map(Number) as [number, number, number];
  const [vMajor, vMinor, vPatch] = version.split(/[.+-]/).map(Number) as [number, number, number];
  const atLeast = compareVersions(version, `${major}.${minor}.${patch}`) >= 0;
  switch (op) {
    case '^':
      if (!atLeast) return false;
      if (major !== 0) return vMajor === major;
      if (minor !== 0) return vMajor === 0 && vMinor === minor;
      return vMajor === 0 && vMinor === 0 && vPatch === patch;
    case '~':
      return atLeast && vMajor === major && vMinor === minor;
    case '>=':
      return atLeast;
    default:
      return version === `${major}.${minor}.${patch}`;
  }
}

function compareVersions(a: string, b: string): number {
  const left = a.split(/[+-]/)[0]?.split('.').map(Number) ?? [];
  const right = b.split(/[+-]/)[0]?.split('.').map(Number) ?? [];
  for (let i = 0; i < 3; i++) {
    const diff = (left[i] ?? 0) - (right[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Archives: written here rather than by host tools, so the bytes (and so the hashes a lockfile
// pins) are the same on every machine.

function checkRelativePath(path: string, owner: string): void {
  const parts = path.split('/');
  if (
    path === '' ||
    path.includes('\\') ||
    parts.some((p) => p === '' || p === '.' || p === '..')
  ) {
    throw new PackageIndexSpecError(
      `${owner}: ${JSON.stringify(path)} is not a plain relative path`,
    );
  }
}

interface ZipEntry {
  name: string;
  data: Buffer;
}

/** 1980-01-01 00:00, the earliest DOS date: a fixed timestamp keeps the wheel's bytes stable. */
const DOS_DATE = (0 << 9) | (1 << 5) | 1;
const DOS_TIME = 0;
/** General purpose flag bit 11: names are UTF-8. */
const ZIP_UTF8 = 0x0800;
const ZIP_DEFLATE = 8;

/** A plain zip (no zip64, no data descriptors): what Python's zipfile and pip read. */
function zip(entries: ZipEntry[]): Buffer {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.name, 'utf8');
    const compressed = deflateRawSync(entry.data);
    const crc = crc32(entry.data);

    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(ZIP_UTF8, 6);
    local.writeUInt16LE(ZIP_DEFLATE, 8);
    local.writeUInt16LE(DOS_TIME, 10);
    local.writeUInt16LE(DOS_DATE, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(compressed.length, 18);
    local.writeUInt32LE(entry.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);

    const header = Buffer.alloc(46);
    header.writeUInt32LE(0x02014b50, 0);
    header.writeUInt16LE((3 << 8) | 20, 4); // made by Unix, so the external attributes are a mode
    header.writeUInt16LE(20, 6);
    header.writeUInt16LE(ZIP_UTF8, 8);
    header.writeUInt16LE(ZIP_DEFLATE, 10);
    header.writeUInt16LE(DOS_TIME, 12);
    header.writeUInt16LE(DOS_DATE, 14);
    header.writeUInt32LE(crc, 16);
    header.writeUInt32LE(compressed.length, 20);
    header.writeUInt32LE(entry.data.length, 24);
    header.writeUInt16LE(name.length, 28);
    // extra length, comment length, disk number, internal attributes: 0
    header.writeUInt32LE((0o100644 << 16) >>> 0, 38);
    header.writeUInt32LE(offset, 42);

    parts.push(local, name, compressed);
    central.push(header, name);
    offset += local.length + name.length + compressed.length;
  }
  const directory = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...parts, directory, end]);
}

interface TarEntry {
  path: string;
  data: Buffer;
}

/** The mtime `npm pack` gives every entry (1985-10-26T08:15:00Z), for stable bytes. */
const NPM_PACK_MTIME = 499162500;

/** A ustar archive of regular files (no directory entries: npm makes the directories itself). */
function tar(entries: TarEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    blocks.push(tarHeader(entry.path, entry.data.length), entry.data);
    const padding = (512 - (entry.data.length % 512)) % 512;
    if (padding > 0) blocks.push(Buffer.alloc(padding));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

function tarHeader(path: string, size: number): Buffer {
  const [prefix, name] = splitUstarPath(path);
  const header = Buffer.alloc(512);
  header.write(name, 0, 100, 'utf8');
  writeOctal(header, 0o644, 100, 8);
  writeOctal(header, 0, 108, 8);
  writeOctal(header, 0, 116, 8);
  writeOctal(header, size, 124, 12);
  writeOctal(header, NPM_PACK_MTIME, 136, 12);
  header.fill(0x20, 148, 156); // the checksum is summed with its own field as spaces
  header.write('0', 156, 'latin1');
  header.write('ustar\0', 257, 'latin1');
  header.write('00', 263, 'latin1');
  header.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return header;
}

/** ustar keeps names to 100 bytes, with a 155-byte prefix (split at a `/`) for longer paths. */
function splitUstarPath(path: string): [string, string] {
  if (Buffer.byteLength(path) <= 100) return ['', path];
  for (let cut = path.indexOf('/'); cut !== -1; cut = path.indexOf('/', cut + 1)) {
    const prefix = path.slice(0, cut);
    const name = path.slice(cut + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100) return [prefix, name];
  }
  throw new PackageIndexSpecError(`path too long for a tarball: ${path}`);
}

function writeOctal(buffer: Buffer, value: number, offset: number, length: number): void {
  buffer.write(`${value.toString(8).padStart(length - 1, '0')}\0`, offset, 'latin1');
}
