import { createHash, randomBytes } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { chown, lchown, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExecutor } from '../src/engine/executor.ts';
import type { Executor } from '../src/engine/executor-types.ts';
import type { RunEvent, RunResult } from '../src/engine/run-events.ts';
import { forgetProjectListings } from '../src/project/project-listings.ts';
import { createSandboxHost, type SandboxHost } from '../src/sandbox/sandbox-host.ts';
import { createToolCatalog } from '../src/tools/tool-catalog.ts';
import { processesOfUid } from './support/sandbox-harness.ts';
import { claimTestUid } from './support/test-uid.ts';

/**
 * A tool run's project through a layer (project/project-layer.ts), in the real sandbox: the run
 * sees its project and its links, writes, changes and deletes there, and none of it reaches the
 * stored project or the next run; its artifacts are exactly what it created or changed; the
 * sandbox's mountinfo names no host path. A project the sandbox user does not own is copied, as
 * before, links kept the same way.
 */

const asRoot = process.getuid?.() === 0;
const checkout = fileURLToPath(new URL('../../../', import.meta.url)).replace(/\/$/, '');
const suffix = randomBytes(3).toString('hex');
const sandboxUid = claimTestUid(64_100, 800);
const stateDir = join(tmpdir(), `runbox-test-layer-${suffix}`);
const artifactsRoot = join(stateDir, 'artifacts');
let host: SandboxHost;
let executor: Executor;
let projects: string;

beforeAll(async () => {
  if (!asRoot) return;
  host = await createSandboxHost({
    stateDir,
    cgroupGroupName: `runbox-test-layer-${suffix}`,
    sandboxUid,
  });
  // Every shipped tool listed as available: this file runs only `bash`.
  const tools = await createToolCatalog(host, { probe: false });
  executor = createExecutor({ host, concurrency: 2, tools, artifactsRoot, syntaxCheck: false });
  projects = await mkdtemp(join(tmpdir(), 'runbox-layer-projects-'));
});
afterAll(async () => {
  if (!asRoot) return;
  await executor.shutdown({ deadlineMs: 2_000 });
  await host.close();
  await rm(stateDir, { recursive: true, force: true });
  await rm(projects, { recursive: true, force: true });
  forgetProjectListings();
  expect(processesOfUid(sandboxUid)).toEqual([]);
});

/** The script a run starts with: it shows what it sees, then changes the project. */
const RUN_SH = `
echo "seen: $(ls -A | tr '\\n' ' ')"
echo "edit: $(cat edit.txt)"
echo "via link: $(cat CLAUDE.md) / $(cat docs/up)"
echo "link: $(readlink CLAUDE.md)"
grep ' /workspace ' /proc/self/mountinfo | sed 's/^/mount: /'
sed 's/^/mountinfo: /' /proc/self/mountinfo
id -u | sed 's/^/uid: /'
echo more >> edit.txt
rm remove.txt
rm -r gone
echo new > new.txt
mkdir -p out data/sub && echo o > out/o.txt && echo d > data/sub/d.txt
ln -s new.txt newlink
chmod 600 data/keep.txt
touch untouched-but-opened.txt
echo done
`;

async function makeProject(name: string, owner: { uid: number; gid: number } | null) {
  const dir = join(projects, name);
  await mkdir(join(dir, 'docs'), { recursive: true });
  await mkdir(join(dir, 'data'));
  await mkdir(join(dir, 'gone'));
  await writeFile(join(dir, 'run.sh'), RUN_SH);
  await writeFile(join(dir, 'AGENTS.md'), 'agents\n');
  await writeFile(join(dir, 'edit.txt'), 'original\n');
  await writeFile(join(dir, 'remove.txt'), 'remove me\n');
  await writeFile(join(dir, 'gone', 'inside.txt'), 'x\n');
  await writeFile(join(dir, 'data', 'keep.txt'), 'keep\n');
  await writeFile(join(dir, 'untouched-but-opened.txt'), 'same\n');
  await symlink('AGENTS.md', join(dir, 'CLAUDE.md'));
  await symlink('../AGENTS.md', join(dir, 'docs', 'up'));
  if (owner) {
    for (const path of listTree(dir)) await lchown(join(dir, path), owner.uid, owner.gid);
    await chown(dir, owner.uid, owner.gid);
  }
  return dir;
}

function listTree(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();
}

/** Everything about the stored project that a run could change: names, kinds, bytes, modes, times. */
function fingerprint(dir: string): string {
  const hash = createHash('sha256');
  for (const path of listTree(dir)) {
    const stats = lstatSync(join(dir, path));
    hash.update(`${path} ${stats.mode} ${stats.uid} ${stats.size} ${stats.mtimeMs}\n`);
    if (stats.isFile()) hash.update(readFileSync(join(dir, path)));
    if (stats.isSymbolicLink()) hash.update(readlinkSync(join(dir, path)));
  }
  const root = lstatSync(dir);
  hash.update(`root ${root.mode} ${root.mtimeMs}`);
  return hash.digest('hex');
}

async function runTool(projectDir: string): Promise<{ result: RunResult; stdout: string }> {
  const run = await executor.submit({ kind: 'tool', toolId: 'bash', projectDir });
  const events: RunEvent[] = [];
  for await (const event of executor.events(run.id)) events.push(event);
  const end = events.find((event) => event.type === 'end');
  if (end?.type !== 'end') throw new Error('no end');
  const stdout = events
    .flatMap((event) => (event.type === 'output' && event.stream === 'stdout' ? [event.text] : []))
    .join('\n');
  return { result: end.result, stdout };
}

function linesOf(stdout: string, prefix: string): string[] {
  return stdout.split('\n').filter((line) => line.startsWith(prefix));
}

describe.runIf(asRoot)('a tool run on a project layer', () => {
  it('is what this host does (root, tmpfs workspaces, overlay)', () => {
    expect(host.projectLayers).toEqual({ available: true });
  });

  it('sees the project and its links, writes freely, and leaves the stored project as it was', async () => {
    const projectDir = await makeProject('layered', { uid: sandboxUid, gid: sandboxUid });
    const before = fingerprint(projectDir);

    const first = await runTool(projectDir);
    expect(first.result.state, first.stdout).toBe('completed');
    expect(linesOf(first.stdout, 'seen:')).toEqual([
      'seen: AGENTS.md CLAUDE.md data docs edit.txt gone remove.txt run.sh untouched-but-opened.txt ',
    ]);
    expect(first.stdout).toContain('edit: original');
    expect(first.stdout).toContain('via link: agents / agents');
    expect(first.stdout).toContain('link: AGENTS.md');
    expect(first.stdout).toContain('uid: 1000');
    expect(first.stdout).toContain('done');

    // The overlay, by relative names only: nothing of the host's layout.
    const [mount] = linesOf(first.stdout, 'mount:');
    expect(mount).toMatch(/ - overlay runbox-project .*lowerdir=lower,upperdir=upper,workdir=work/);
    expect(mount).not.toContain(projectDir);
    expect(mount).not.toContain(projects);
    expect(mount).not.toContain(stateDir);
    // Nor anywhere else in the sandbox's mountinfo: no path of the project, the projects, the
    // sandbox directory or the checkout.
    const mountinfo = linesOf(first.stdout, 'mountinfo:');
    expect(mountinfo.length).toBeGreaterThan(5);
    for (const hostPath of [projectDir, projects, stateDir, checkout])
      expect(
        mountinfo.filter((line) => line.includes(hostPath)),
        hostPath,
      ).toEqual([]);

    // Artifacts: exactly what the run created or changed (a touch changes the time).
    expect(first.result.artifacts.map((artifact) => [artifact.path, artifact.kind])).toEqual([
      ['data/sub/d.txt', 'file'],
      ['edit.txt', 'file'],
      ['new.txt', 'file'],
      ['newlink', 'symlink'],
      ['out/o.txt', 'file'],
      ['untouched-but-opened.txt', 'file'],
    ]);
    expect(first.result.artifacts.find((a) => a.path === 'newlink')?.linkTarget).toBe('new.txt');
    expect(first.result.warnings).toEqual([]);

    // Nothing reached the stored project.
    expect(fingerprint(projectDir)).toBe(before);
    expect(await readFile(join(projectDir, 'edit.txt'), 'utf8')).toBe('original\n');

    // Nor the next run: it sees the project as stored.
    const second = await runTool(projectDir);
    expect(second.result.state).toBe('completed');
    expect(linesOf(second.stdout, 'seen:')).toEqual(linesOf(first.stdout, 'seen:'));
    expect(second.stdout).toContain('edit: original');
    expect(fingerprint(projectDir)).toBe(before);
  });

  it('copies a project the sandbox user does not own, links kept as links, same artifacts', async () => {
    const projectDir = await makeProject('copied', null);
    const before = fingerprint(projectDir);
    const { result, stdout } = await runTool(projectDir);
    expect(result.state, stdout).toBe('completed');
    expect(stdout).toContain('via link: agents / agents');
    expect(stdout).toContain('link: AGENTS.md');
    // A copy: the workspace's own tmpfs at /workspace.
    expect(linesOf(stdout, 'mount:')[0]).toMatch(/ - tmpfs runbox-ws /);
    expect(result.artifacts.map((artifact) => artifact.path)).toEqual([
      'data/sub/d.txt',
      'edit.txt',
      'new.txt',
      'newlink',
      'out/o.txt',
      'untouched-but-opened.txt',
    ]);
    expect(fingerprint(projectDir)).toBe(before);
  });

  it('copies a project with a link that leaves it, which the run does not see', async () => {
    const projectDir = await makeProject('leaving', { uid: sandboxUid, gid: sandboxUid });
    await symlink('/etc/shadow', join(projectDir, 'shadow'));
    await lchown(join(projectDir, 'shadow'), sandboxUid, sandboxUid);
    const { result, stdout } = await runTool(projectDir);
    expect(result.state, stdout).toBe('completed');
    expect(linesOf(stdout, 'seen:')[0]).not.toContain('shadow');
    expect(linesOf(stdout, 'mount:')[0]).toMatch(/ - tmpfs runbox-ws /);
  });
});
