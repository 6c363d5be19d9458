import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Language } from '../src/languages/index.ts';
import { readResult, type ResultOutcome } from '../src/result/read-result.ts';
import { resolveLimits } from '../src/sandbox/limits.ts';
import { runSnippet, type SnippetRunReport } from '../src/run-path/run-snippet.ts';
import { createSandboxHost, type SandboxHost } from '../src/sandbox/sandbox-host.ts';
import { processesOfUid } from './support/sandbox-harness.ts';
import { claimTestUid } from './support/test-uid.ts';

/** A host like the harness's, with the runners bound at /opt/runbox/runtime. */
const suffix = randomBytes(3).toString('hex');
const sandboxUid = claimTestUid(64_100, 800);
const stateDir = join(tmpdir(), `runbox-test-result-${suffix}`);
let host: SandboxHost;
let counter = 0;

beforeAll(async () => {
  host = await createSandboxHost({
    stateDir,
    cgroupGroupName: `runbox-test-result-${suffix}`,
    sandboxUid,
  });
});
afterAll(async () => {
  await host.close();
  await rm(stateDir, { recursive: true, force: true });
  expect(processesOfUid(sandboxUid)).toEqual([]);
});

interface ResultRun extends SnippetRunReport {
  stdout: string;
  stderr: string;
  result: ResultOutcome;
}

async function run(
  language: Language,
  code: string,
  options: { stdin?: string } = {},
): Promise<ResultRun> {
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  let result: ResultOutcome = null;
  const report = await runSnippet(host, {
    runId: `result-${suffix}-${counter++}`,
    language,
    code,
    limits: resolveLimits({}),
    stdin: options.stdin,
    onOutput: (stream, chunk) => (stream === 'stdout' ? stdout : stderr).push(chunk),
    inspectWorkspace: async (dir) => {
      result = await readResult(dir);
    },
  });
  return {
    ...report,
    stdout: Buffer.concat(stdout).toString('utf8'),
    stderr: Buffer.concat(stderr).toString('utf8'),
    result,
  };
}

describe('the last expression is the value', () => {
  it('Python: x * 21', async () => {
    const result = await run('python', 'x = 2\nx * 21\n');
    expect(result.state).toBe('completed');
    expect(result.result).toEqual({ value: 42 });
    expect(result.stdout).toBe('');
  });

  it('Python: prints, then hands back a dict; __name__, argv and imports are as usual', async () => {
    const code = [
      'import sys, json',
      'print("hello", __name__, sys.argv)',
      'if __name__ == "__main__":',
      '    data = {"n": 3, "items": [1, 2.5, None], "nested": {"ok": True}}',
      'data',
    ].join('\n');
    const result = await run('python', code);
    expect(result.state).toBe('completed');
    expect(result.stdout).toBe("hello __main__ ['/workspace/main.py']\n");
    expect(result.result).toEqual({
      value: { n: 3, items: [1, 2.5, null], nested: { ok: true } },
    });
  });

  it('Python: an exception shows main.py and its line, no runner frames, and no value', async () => {
    const code = 'def f():\n    return 1 / 0\nf()\n';
    const result = await run('python', code);
    expect(result.state).toBe('failed');
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('Traceback (most recent call last):');
    expect(result.stderr).toContain('File "/workspace/main.py", line 3, in <module>');
    expect(result.stderr).toContain('ZeroDivisionError: division by zero');
    expect(result.stderr).not.toContain('run_python');
    expect(result.result).toBeNull();
  });

  it('Python: a value that is None hands back nothing; sys.exit keeps its code', async () => {
    expect((await run('python', 'print("x")\nNone\n')).result).toBeNull();
    const exited = await run('python', 'import sys\nsys.exit(3)\n42\n');
    expect(exited.exitCode).toBe(3);
    expect(exited.result).toBeNull();
  });

  it('JavaScript: a.map(...)', async () => {
    const result = await run('javascript', 'const a = [1,2]; a.map(n => n * 2)');
    expect(result.state).toBe('completed');
    expect(result.result).toEqual({ value: [2, 4] });
  });

  it('JavaScript: a promise as the last value is awaited', async () => {
    const result = await run('javascript', 'Promise.resolve({ok: true})');
    expect(result.result).toEqual({ value: { ok: true } });
  });

  it('JavaScript: require, module and __filename are the user file’s', async () => {
    const code = [
      "const path = require('node:path');",
      'console.log(require.main === module, __filename, path.basename(__dirname));',
      '[process.argv.length, process.argv[1]]',
    ].join('\n');
    const result = await run('javascript', code);
    expect(result.stdout).toBe('true /workspace/main.js workspace\n');
    expect(result.result).toEqual({ value: [2, '/workspace/main.js'] });
  });

  it('JavaScript: an error points at main.js, not at the runner', async () => {
    const code = 'function f() {\n  throw new Error("boom");\n}\nf();\n';
    const result = await run('javascript', code);
    expect(result.state).toBe('failed');
    expect(result.stderr).toContain('Error: boom');
    expect(result.stderr).toContain('at f (/workspace/main.js:2:9)');
    expect(result.stderr).not.toContain('run-node');
    expect(result.result).toBeNull();
  });

  it('TypeScript: types are stripped and the value handed back', async () => {
    const code = [
      'interface Point { x: number; y: number }',
      'const p: Point = { x: 1, y: 2 };',
      'function norm(q: Point): number { return q.x * q.x + q.y * q.y; }',
      '({ ...p, norm: norm(p) } satisfies Record<string, number>)',
    ].join('\n');
    const result = await run('typescript', code);
    expect(result.stderr).toBe('');
    expect(result.state).toBe('completed');
    expect(result.result).toEqual({ value: { x: 1, y: 2, norm: 5 } });
  });

  it('ES module syntax runs through import(), without a value', async () => {
    const code = "import { cpus } from 'node:os';\nconsole.log(typeof cpus);\n42\n";
    const result = await run('javascript', code);
    expect(result.state).toBe('completed');
    expect(result.stdout).toBe('function\n');
    expect(result.result).toBeNull();
  });

  it('stdin still reaches the program through the runners', async () => {
    const python = await run('python', 'import sys\nsys.stdin.read().upper()\n', {
      stdin: 'from stdin',
    });
    expect(python.result).toEqual({ value: 'FROM STDIN' });
    const node = await run(
      'javascript',
      "require('node:fs').readFileSync(0, 'utf8').split(' ').length",
      { stdin: 'one two three' },
    );
    expect(node.result).toEqual({ value: 3 });
  });
});

describe('the result file', () => {
  it('a value the snippet writes itself wins over its last expression', async () => {
    const code = [
      'import json',
      'with open("/workspace/.runbox/result.json", "w") as f:',
      '    json.dump({"written": True}, f)',
      '"last expression"',
    ].join('\n');
    expect((await run('python', code)).result).toEqual({ value: { written: true } });
  });

  it('Bash can hand back a value too', async () => {
    const code =
      'mkdir -p /workspace/.runbox\necho \'[1, "two"]\' > /workspace/.runbox/result.json\n';
    expect((await run('bash', code)).result).toEqual({ value: [1, 'two'] });
  });

  it('invalid JSON gives a warning', async () => {
    const code = "require('node:fs').writeFileSync('/workspace/.runbox/result.json', '{oops');";
    const result = await run('javascript', code);
    expect(result.result).toMatchObject({
      reason: 'invalid_json',
      warning: expect.stringContaining('not valid JSON'),
    });
  });

  it('a 1 MB result gives a warning about the cap', async () => {
    const result = await run('python', '"x" * (1024 * 1024)\n');
    expect(result.state).toBe('completed');
    expect(result.result).toMatchObject({
      reason: 'too_large',
      warning: expect.stringContaining('65536-byte cap'),
    });
  });

  it('a result file that is a link to /etc/passwd is not read', async () => {
    const code = 'import os\nos.symlink("/etc/passwd", "/workspace/.runbox/result.json")\n42\n';
    const result = await run('python', code);
    expect(result.state).toBe('completed');
    expect(result.result).toMatchObject({
      reason: 'unsafe_path',
      warning: expect.stringContaining('symbolic link'),
    });
  });
});
