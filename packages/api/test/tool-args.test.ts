import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunOutputView } from '../src/rest/run-output-view.ts';
import type { RunView } from '../src/schemas/run-views.ts';
import { errorOf, KEYED, API_KEY, rest } from './rest-support.ts';
import { startTestServer, type TestServer } from './support/server.ts';

/**
 * Tool runs as on a developer's machine (issue 15): arguments each tool declares, checked and
 * passed as argv; stdin and extra variables; variables the project's layout calls for; ShellCheck
 * finding scripts by their shebang; a tool with nothing to work on refused at create; the process
 * limit a threaded test suite needs, and maximums the operator raised. Every run is a real
 * sandboxed run of the real tool on a small project this test uploads.
 */

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer('tool-args', {
    RUNBOX_API_KEYS: `ci:${API_KEY}`,
    RUNBOX_CONCURRENT_RUNS_PER_OWNER: '8',
    RUNBOX_MAX_CREATES_PER_SECOND: '1000',
    RUNBOX_RUNS_PER_HOUR: '1000',
    // The operator raises a maximum: limits.get shows it and runs may ask for it.
    RUNBOX_MAX_PROCESSES: '2048',
  });
});
afterAll(async () => server?.stop());

/** Uploads files (path → content) as a project; returns its id. */
async function upload(name: string, files: Record<string, string>): Promise<string> {
  const form = new FormData();
  const paths = Object.keys(files);
  for (const path of paths) form.append('files', new File([files[path] ?? ''], path));
  form.append('paths', JSON.stringify(paths));
  form.append('name', name);
  const reply = await rest(server.url, 'POST', '/projects', { raw: form, headers: KEYED });
  expect(reply.status, reply.text.slice(0, 300)).toBe(201);
  return (reply.json as { id: string }).id;
}

async function runTool(body: Record<string, unknown>): Promise<RunOutputView> {
  const reply = await rest(server.url, 'POST', '/runs?wait=true', {
    body: { kind: 'tool', ...body },
    headers: KEYED,
  });
  expect(reply.status, reply.text.slice(0, 400)).toBe(200);
  const run = reply.json as RunOutputView;
  expect(run.ended).toBe(true);
  return run;
}

async function refusal(body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const reply = await rest(server.url, 'POST', '/runs', {
    body: { kind: 'tool', ...body },
    headers: KEYED,
  });
  expect(reply.status, reply.text.slice(0, 400)).toBe(400);
  return errorOf(reply);
}

async function runCount(): Promise<number> {
  const reply = await rest(server.url, 'GET', '/runs?limit=100', { headers: KEYED });
  return (reply.json as { runs: RunView[] }).runs.length;
}

const CALC = {
  'src/calc/__init__.py': 'from .ops import add, sub\n',
  'src/calc/ops.py': 'def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n',
  'tests/test_ops.py':
    'from calc import add, sub\n\n\n' +
    'def test_add():\n    assert add(2, 3) == 5\n\n\n' +
    'def test_add_negative():\n    assert add(-2, -3) == -5\n\n\n' +
    'def test_sub():\n    assert sub(5, 3) == 2\n',
};

describe('pytest', () => {
  let project: string;
  beforeAll(async () => {
    project = await upload('calc', CALC);
  });

  it('passes a src-layout project with the PYTHONPATH it detects, and says so', async () => {
    const run = await runTool({ toolId: 'pytest', projectId: project });
    expect(run.state, run.stdout + run.stderr).toBe('completed');
    expect(run.stdout).toMatch(/\b3 passed\b/);
    expect(run.warnings).toContainEqual({
      check: 'tool-env',
      rule: 'detected-env',
      message: expect.stringContaining('PYTHONPATH=/workspace/src was set') as string,
    });
    // The stored run shows it too.
    const stored = await rest(server.url, 'GET', `/runs/${run.id}`, { headers: KEYED });
    expect(JSON.stringify((stored.json as RunView).warnings)).toContain('src/ layout');
  });

  it('selects tests with -k and with a test id, as pytest counts them', async () => {
    const selected = await runTool({ toolId: 'pytest', projectId: project, args: ['-k', 'add'] });
    expect(selected.state, selected.stdout).toBe('completed');
    expect(selected.stdout).toMatch(/\b2 passed, 1 deselected\b/);
    expect(selected.args).toEqual(['-k', 'add']);

    const one = await runTool({
      toolId: 'pytest',
      projectId: project,
      args: ['-v', 'tests/test_ops.py::test_sub'],
    });
    // -v against the tool's own -q: the normal verbosity, which names the collection.
    expect(one.stdout).toMatch(/collected 1 item\b/);
    expect(one.stdout).toMatch(/\b1 passed\b/);
  });

  it('refuses a path out of the project, an absolute one, an unknown option, naming each', async () => {
    const before = await runCount();
    for (const [args, field, rule, shown] of [
      [['../outside'], 'args.0', 'path-traversal', '../outside'],
      [['-x', '/etc/passwd'], 'args.1', 'absolute-path', '/etc/passwd'],
      [['--rootdir=/tmp'], 'args.0', 'unknown-option', '--rootdir'],
      [['-k'], 'args.0', 'missing-value', '-k'],
      [['tests/missing.py'], 'args.0', 'not-found', 'tests/missing.py'],
      [['--maxfail=0'], 'args.0', 'out-of-range', '--maxfail'],
    ] as const) {
      const error = await refusal({ toolId: 'pytest', projectId: project, args });
      expect(error, JSON.stringify(args)).toMatchObject({ code: 'TOOL_ARGV', field, rule });
      expect(String(error.message)).toContain(field);
      expect(String(error.message)).toContain(shown);
    }
    // The same name rule as a snippet's for variables; an entry for a tool that takes none.
    expect(
      await refusal({ toolId: 'pytest', projectId: project, env: { PYTHONPATH: 'lib' } }),
    ).toMatchObject({ field: 'env.PYTHONPATH', rule: 'env-denied-prefix' });
    expect(
      await refusal({ toolId: 'pytest', projectId: project, entry: 'tests/test_ops.py' }),
    ).toMatchObject({ field: 'entry', rule: 'entry-unused' });
    expect(await runCount()).toBe(before);
  });
});

describe('a threaded test suite', () => {
  let project: string;
  beforeAll(async () => {
    project = await upload('threads', {
      'test_threads.py':
        'import threading\n\n\n' +
        'def test_120_threads():\n' +
        '    started = threading.Barrier(121)\n' +
        '    release = threading.Event()\n\n' +
        '    def work():\n' +
        '        started.wait(timeout=30)\n' +
        '        release.wait(timeout=30)\n\n' +
        '    threads = [threading.Thread(target=work, daemon=True) for _ in range(120)]\n' +
        '    for thread in threads:\n' +
        '        thread.start()\n' +
        '    started.wait(timeout=30)\n' +
        '    assert threading.active_count() >= 121\n' +
        '    release.set()\n' +
        '    for thread in threads:\n' +
        '        thread.join()\n',
    });
  });

  it('passes with 120 threads under a raised maxProcesses and under the default', async () => {
    const raised = await runTool({
      toolId: 'pytest',
      projectId: project,
      limits: { maxProcesses: 1500 },
    });
    expect(raised.state, raised.stdout + raised.stderr).toBe('completed');
    expect(raised.stdout).toMatch(/\b1 passed\b/);
    expect(raised.limits?.maxProcesses).toBe(1500);

    const byDefault = await runTool({ toolId: 'pytest', projectId: project });
    expect(byDefault.state, byDefault.stdout).toBe('completed');
    expect(byDefault.limits?.maxProcesses).toBe(256);
  });

  it('fails under the old default of 100: the limit is real', async () => {
    const run = await runTool({
      toolId: 'pytest',
      projectId: project,
      limits: { maxProcesses: 100 },
    });
    expect(run.state).toBe('failed');
    expect(run.stdout).toMatch(/can't start new thread|Resource temporarily unavailable/);
  });

  it('shows the maximum the operator raised', async () => {
    const reply = await rest(server.url, 'GET', '/limits');
    const limits = reply.json as {
      defaults: { maxProcesses: number };
      maximums: { maxProcesses: number };
    };
    expect(limits.defaults.maxProcesses).toBe(256);
    expect(limits.maximums.maxProcesses).toBe(2048);
  });
});

describe('node --test', () => {
  it('runs only the test files a glob names, not helpers that import dev dependencies', async () => {
    const project = await upload('node-suite', {
      'package.json': '{ "type": "module" }\n',
      'src/sum.js': 'export const sum = (a, b) => a + b;\n',
      'test/sum.test.js':
        "import { test } from 'node:test';\nimport assert from 'node:assert/strict';\n" +
        "import { sum } from '../src/sum.js';\n\n" +
        "test('adds', () => assert.equal(sum(2, 3), 5));\n" +
        "test('adds negatives', () => assert.equal(sum(-2, -3), -5));\n",
      // Found by node --test's default patterns (test/**/*.js), but not a test: it needs chai.
      'test/helpers/setup.js': "import { expect } from 'chai';\nexport { expect };\n",
    });
    const everything = await runTool({
      toolId: 'node-test',
      projectId: project,
      args: ['--test-reporter=tap'],
    });
    expect(everything.state).toBe('failed');
    expect(everything.stdout).toMatch(/# fail 1\b/);

    const globbed = await runTool({
      toolId: 'node-test',
      projectId: project,
      args: ['--test-reporter=tap', 'test/**/*.test.js'],
    });
    expect(globbed.state, globbed.stdout + globbed.stderr).toBe('completed');
    expect(globbed.stdout).toMatch(/# pass 2\b/);
    expect(globbed.stdout).toMatch(/# fail 0\b/);
    expect(globbed.stdout).not.toContain('setup.js');

    expect(
      await refusal({ toolId: 'node-test', projectId: project, args: ['test/**/*.spec.js'] }),
    ).toMatchObject({ field: 'args.0', rule: 'no-match' });
    expect(
      await refusal({ toolId: 'node-test', projectId: project, args: ['../**/*.test.js'] }),
    ).toMatchObject({ field: 'args.0', rule: 'path-traversal' });
  });
});

describe('ShellCheck', () => {
  it('checks a script known only by its shebang', async () => {
    const project = await upload('shebang-only', {
      deploy: '#!/usr/bin/env bash\nset -e\necho Deploying $1\n',
      'README.md': '# deploy\n',
    });
    const run = await runTool({ toolId: 'shellcheck', projectId: project });
    expect(run.exitCode, run.stdout + run.stderr).toBe(1);
    expect(run.stdout).toContain('In deploy line 3');
    expect(run.stdout).toContain('SC2086');
    // Its options too: the finding is a note, below the severity asked for.
    const quiet = await runTool({
      toolId: 'shellcheck',
      projectId: project,
      args: ['--severity', 'warning', 'deploy'],
    });
    expect(quiet.state, quiet.stdout).toBe('completed');
    expect(quiet.stdout).toBe('');
  });

  it('is refused at create when no file is a shell script, saying what it looked for', async () => {
    const project = await upload('no-scripts', {
      'main.py': 'print(1)\n',
      'bin/tool': '#!/usr/bin/env python3\nprint(2)\n',
    });
    const before = await runCount();
    const error = await refusal({ toolId: 'shellcheck', projectId: project });
    expect(error.code).toBe('TOOL_NOT_APPLICABLE');
    expect(String(error.message)).toContain('no file matches *.sh, *.bash');
    expect(String(error.message)).toContain('sh, bash, dash, ksh shebang');
    expect(await runCount()).toBe(before);
  });
});

describe('program runs', () => {
  it('give a tool run its stdin, arguments and variables', async () => {
    const project = await upload('program', {
      'main.py':
        'import os, sys\n' +
        'print(sys.argv[1:])\n' +
        'print(os.environ["GREETING"], os.environ["HOME"])\n' +
        'print(sys.stdin.read().upper(), end="")\n',
    });
    const run = await runTool({
      toolId: 'python',
      projectId: project,
      args: ['--flag', 'two words', '../not-a-path'],
      env: { GREETING: 'hello' },
      stdin: 'from stdin\n',
    });
    expect(run.state, run.stderr).toBe('completed');
    expect(run.stdout).toBe("['--flag', 'two words', '../not-a-path']\nhello /tmp\nFROM STDIN\n");
    expect(run).toMatchObject({ stdin: 'from stdin\n', env: { GREETING: 'hello' } });
  });
});

describe('tsc', () => {
  it('checks the project file a run names', async () => {
    const project = await upload('monorepo', {
      'packages/app/tsconfig.json':
        '{ "compilerOptions": { "strict": true, "noEmit": true }, "files": ["main.ts"] }\n',
      'packages/app/main.ts': 'const count: number = "three";\nexport { count };\n',
      'scripts/other.ts': 'export const fine: number = 1;\n',
    });
    const run = await runTool({
      toolId: 'tsc',
      projectId: project,
      args: ['-p', 'packages/app/tsconfig.json'],
    });
    expect(run.state).toBe('failed');
    expect(run.stdout).toContain('packages/app/main.ts(1,7): error TS2322');
    expect(run.stdout).not.toContain('scripts/other.ts');
  });
});
