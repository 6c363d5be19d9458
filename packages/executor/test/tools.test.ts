import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EndState } from '../src/run-state.ts';
import type { LimitsOverride } from '../src/sandbox/limits.ts';
import { createSandboxHost, type SandboxHost } from '../src/sandbox/sandbox-host.ts';
import { loadExamples, type Example } from '../src/tools/examples.ts';
import { runInSandbox } from '../src/run-path/run-in-sandbox.ts';
import type { SandboxRunReport } from '../src/sandbox/sandbox-run.ts';
import type { SkippedProjectEntry } from '../src/tools/copy-project.ts';
import { prepareToolRun } from '../src/tools/prepare-tool-run.ts';
import { resolveToolLimits } from '../src/tools/tool-env.ts';
import { probeTools } from '../src/tools/tool-probe.ts';
import { loadToolRegistry, type ToolRegistry } from '../src/tools/tool-registry.ts';
import { processesOfUid } from './support/sandbox-harness.ts';
import { claimTestUid } from './support/test-uid.ts';

/**
 * The shipped tools and examples in the real sandbox. Needs the sandbox tools installed
 * (scripts/install-sandbox-tools.sh, which ./runbox runs) and the Debian packages of
 * docker/apt-packages.txt.
 */

interface ToolRunReport extends SandboxRunReport {
  state: EndState;
  workspaceDir: string;
  argv: string[];
  skipped: SkippedProjectEntry[];
}

interface ToolRun extends ToolRunReport {
  stdout: string;
  stderr: string;
  output: string;
}

const suffix = randomBytes(3).toString('hex');
const sandboxUid = claimTestUid(64_100, 800);
const stateDir = join(tmpdir(), `runbox-test-tools-${suffix}`);
let host: SandboxHost;
let registry: ToolRegistry;
let examples: Example[];
let projects: string;
let counter = 0;

beforeAll(async () => {
  host = await createSandboxHost({
    stateDir,
    cgroupGroupName: `runbox-test-tools-${suffix}`,
    sandboxUid,
  });
  registry = await loadToolRegistry();
  examples = await loadExamples(undefined, { tools: registry.tools });
  projects = await mkdtemp(join(tmpdir(), 'runbox-tool-projects-'));
});
afterAll(async () => {
  await host.close();
  await rm(stateDir, { recursive: true, force: true });
  await rm(projects, { recursive: true, force: true });
});

async function run(
  toolId: string,
  projectDir: string,
  options: { limits?: LimitsOverride; entry?: string } = {},
): Promise<ToolRun> {
  const tool = registry.find(toolId);
  if (!tool) throw new Error(`no tool ${toolId}`);
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  // The engine's own path: the run path with the tool catalog's preparation.
  let workspaceDir = '';
  let prepared: Awaited<ReturnType<typeof prepareToolRun>> | null = null;
  const limits = resolveToolLimits(tool, options.limits);
  const outcome = await runInSandbox(host, {
    runId: `tools-${suffix}-${counter++}`,
    limits,
    prepare: async (dir) => {
      workspaceDir = dir;
      prepared = await prepareToolRun({
        tool,
        projectDir,
        workspaceDir: dir,
        workspaceBytes: limits.workspaceBytes,
        entry: options.entry,
        owner: host.runAs,
      });
      return prepared;
    },
    onOutput: (stream, chunk) => {
      (stream === 'stdout' ? stdout : stderr).push(chunk);
    },
  });
  if (!outcome.report || !prepared) throw new Error(`the tool did not run: ${outcome.failure}`);
  const { argv, skipped } = prepared as Awaited<ReturnType<typeof prepareToolRun>>;
  const report: ToolRunReport = {
    ...outcome.report,
    state: outcome.state,
    workspaceDir,
    argv,
    skipped,
  };
  const out = Buffer.concat(stdout).toString('utf8');
  const err = Buffer.concat(stderr).toString('utf8');
  return { ...report, stdout: out, stderr: err, output: `${out}\n${err}` };
}

function leftovers(report: ToolRunReport): string[] {
  const problems: string[] = [];
  for (const path of report.cgroupPaths) if (existsSync(path)) problems.push(`cgroup ${path}`);
  if (existsSync(report.workspaceDir) && readdirSync(report.workspaceDir).length > 0) {
    problems.push(`workspace ${report.workspaceDir} not empty`);
  }
  const pids = processesOfUid(sandboxUid);
  if (pids.length > 0) problems.push(`processes ${pids.join(', ')}`);
  return problems;
}

async function project(name: string, files: Record<string, string>): Promise<string> {
  const dir = join(projects, name);
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  return dir;
}

describe('the tool probe', () => {
  it('finds every shipped tool inside the sandbox, with its version', async () => {
    const results = await probeTools(host, registry.tools);
    const unavailable = results.filter((result) => !result.available);
    // The reasons say what to install (the sandbox tools: scripts/install-sandbox-tools.sh).
    expect(unavailable).toEqual([]);
    expect(results.map((result) => result.toolId)).toEqual(registry.tools.map((tool) => tool.id));
    for (const result of results) expect(result.version, result.toolId).toMatch(/^\d+\.\d+/);
    expect(results.find((result) => result.toolId === 'tsc')?.version).toBe('5.9.3');
    expect(results.find((result) => result.toolId === 'eslint')?.version).toBe('9.39.5');
  });

  it('lists a tool whose binaries are missing, without throwing', async () => {
    const bare = await createSandboxHost({
      stateDir: `${stateDir}-bare`,
      cgroupGroupName: `runbox-test-tools-bare-${suffix}`,
      sandboxUid,
      sandboxToolsDir: null,
    });
    try {
      const tsc = registry.find('tsc');
      const python = registry.find('python');
      if (!tsc || !python) throw new Error('shipped tools missing');
      expect(await probeTools(bare, [python, tsc])).toEqual([
        { toolId: 'python', available: true, version: expect.any(String) as string },
        {
          toolId: 'tsc',
          available: false,
          reason: expect.stringMatching(
            /^\/opt\/runbox\/tools\/bin\/runbox-tsc is not an executable file; .*install-sandbox-tools\.sh/,
          ) as string,
        },
      ]);
    } finally {
      await bare.close();
      await rm(`${stateDir}-bare`, { recursive: true, force: true });
    }
  });
});

interface ExampleExpectation {
  state: EndState;
  output: RegExp;
  limits?: LimitsOverride;
  check?: (run: ToolRun) => void;
}

const EXPECTED: Record<string, ExampleExpectation> = {
  'hello-python': {
    state: 'completed',
    output: /Hello from runbox![\s\S]*working directory: \/workspace/,
  },
  'node-typescript-tests': { state: 'completed', output: /ℹ tests 3\n[\s\S]*ℹ pass 3\n/ },
  'shell-progress': {
    state: 'completed',
    output: /working.*\[#{30}\] 100%\n.*done/,
    check: (run) => {
      const ESC = '\u001b';
      expect(run.stdout).toContain(`\r${ESC}[33mworking${ESC}[0m [`);
      expect(run.stdout).toContain(`${ESC}[32mdone${ESC}[0m`);
      expect(run.stdout.split('\r').length).toBeGreaterThan(20);
    },
  },
  'streaming-output': {
    state: 'timed_out',
    output: /^line +1 at +0\.\d\d s\nline +2 at/,
    // The whole example runs 20 s; two of them show the stream.
    limits: { wallTimeMs: 2_000 },
    check: (run) => {
      const lines = run.stdout.split('\n').filter((line) => line.startsWith('line'));
      expect(lines.length).toBeGreaterThanOrEqual(10);
      expect(lines.length).toBeLessThanOrEqual(21);
    },
  },
  'failing-python': {
    state: 'failed',
    output: /Traceback \(most recent call last\)[\s\S]*KeyError: 'port'/,
    check: (run) => expect(run.exitCode).toBe(1),
  },
  'infinite-loop': {
    state: 'timed_out',
    output: /still counting/,
    check: (run) => expect(run.durationMs).toBeGreaterThanOrEqual(3_000),
  },
  'memory-hog': {
    state: 'memory_limit',
    output: /holding 8 MiB/,
    check: (run) => expect(run.usage.peakMemoryBytes).toBeLessThanOrEqual(64 * 1024 * 1024),
  },
  'pytest-project': { state: 'completed', output: /4 passed/ },
  'shellcheck-script': { state: 'failed', output: /backup\.sh line 8:[\s\S]*SC2086[\s\S]*SC2164/ },
};

describe('every example ends as its description says', () => {
  it('has an expectation for each example', () => {
    expect(examples.map((example) => example.id).sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  for (const [id, expected] of Object.entries(EXPECTED)) {
    it(`${id}: ${expected.state}`, async () => {
      const example = examples.find((candidate) => candidate.id === id);
      if (!example) throw new Error(`no example ${id}`);
      const result = await run(example.tool, example.dir, {
        entry: example.entry,
        limits: { ...example.limits, ...expected.limits },
      });
      expect(result.state, result.output).toBe(expected.state);
      expect(result.output).toMatch(expected.output);
      expected.check?.(result);
      expect(leftovers(result)).toEqual([]);
    });
  }
});

describe('tools on projects', () => {
  const badTs = {
    'package.json': '{ "type": "module" }\n',
    'index.ts':
      "import { total } from './total.ts';\n\nconst count: number = 'three';\nconsole.log(total([1, 2]), count);\n",
    'total.ts':
      'export function total(values: number[]): number {\n  const unused = 0;\n  return values.reduce((a, b) => a + b, 0);\n}\n',
  };

  it('tsc reports a type error', async () => {
    const result = await run('tsc', await project('bad-ts-tsc', badTs));
    expect(result.state, result.output).toBe('failed');
    expect(result.output).toMatch(
      /index\.ts\(3,7\): error TS2322: Type 'string' is not assignable to type 'number'/,
    );
    expect(leftovers(result)).toEqual([]);
  });

  it('eslint reports a lint error with the default config', async () => {
    const result = await run('eslint', await project('bad-ts-eslint', badTs));
    expect(result.state, result.output).toBe('failed');
    expect(result.output).toMatch(
      /total\.ts\n\s+2:9\s+error\s+'unused' is assigned a value but never used\s+@typescript-eslint\/no-unused-vars/,
    );
  });

  it('tsc and eslint pass a clean project that has tests importing node:test', async () => {
    const example = examples.find((candidate) => candidate.id === 'node-typescript-tests');
    if (!example) throw new Error('no example');
    const tsc = await run('tsc', example.dir);
    expect(tsc.state, tsc.output).toBe('completed');
    const eslint = await run('eslint', example.dir);
    expect(eslint.state, eslint.output).toBe('completed');
  });

  it("eslint uses a project's own config, which may import the bundled packages", async () => {
    const dir = await project('own-eslint', {
      'eslint.config.js':
        "import js from '@eslint/js';\nexport default [js.configs.recommended, { rules: { 'no-console': 'error' } }];\n",
      'main.js': 'console.log(1);\n',
    });
    const result = await run('eslint', dir);
    expect(result.state, result.output).toBe('failed');
    expect(result.output).toMatch(/1:1\s+error\s+Unexpected console statement\s+no-console/);
  });

  it('node runs an index.ts by type stripping, and cloc counts it', async () => {
    const dir = await project('node-ts', {
      'index.ts':
        "const greet = (name: string): string => `hi ${name}`;\nconsole.log(greet('ts'));\n",
    });
    const node = await run('node', dir);
    expect(node.state, node.output).toBe('completed');
    expect(node.stdout).toBe('hi ts\n');
    const cloc = await run('cloc', dir);
    expect(cloc.state, cloc.output).toBe('completed');
    expect(cloc.stdout).toMatch(/TypeScript\s+1\s+0\s+0\s+2/);
  });

  it('copies no symbolic link of the project into the workspace', async () => {
    const dir = await project('links', {
      'main.py': 'import os\nprint(sorted(os.listdir(".")))\n',
    });
    await symlink('/etc/shadow', join(dir, 'shadow'));
    await symlink(projects, join(dir, 'up'));
    const result = await run('python', dir);
    expect(result.state, result.output).toBe('completed');
    expect(result.stdout).toBe("['main.py']\n");
    expect(result.skipped).toEqual([
      { path: 'shadow', kind: 'symlink' },
      { path: 'up', kind: 'symlink' },
    ]);
  });

  it('ends a project bigger than the workspace as failed, with the reason, before anything runs', async () => {
    const dir = await project('big', { 'main.py': 'print("ran")\n' });
    await writeFile(join(dir, 'data.bin'), Buffer.alloc(3 * 1024 * 1024));
    let output = 0;
    const tool = registry.find('python');
    if (!tool) throw new Error('no python tool');
    const limits = resolveToolLimits(tool, { workspaceBytes: 2 * 1024 * 1024 });
    const outcome = await runInSandbox(host, {
      runId: `tools-${suffix}-big`,
      limits,
      prepare: (workspaceDir) =>
        prepareToolRun({
          tool,
          projectDir: dir,
          workspaceDir,
          workspaceBytes: limits.workspaceBytes,
          owner: host.runAs,
        }),
      onOutput: () => {
        output += 1;
      },
    });
    expect(outcome.state).toBe('failed');
    expect(outcome.report).toBeNull();
    expect(outcome.failure).toMatch(
      /the project is too large: it needs \d+ bytes in the workspace, which holds 2097152/,
    );
    expect(output).toBe(0);
  });
});
