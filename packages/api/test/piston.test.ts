import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from './support/server.ts';
import { API_KEY, startRestServer } from './rest-support.ts';
import { claimTestUid } from '../../executor/test/support/test-uid.ts';

/**
 * Piston's execute API (/api/v2) against a real server and real sandboxed runs: the request
 * shapes of Piston's docs (engineer-man/piston docs/api-v2.md) answer as Piston answers them.
 */

let server: TestServer;
beforeAll(async () => {
  server = await startRestServer('piston', claimTestUid(64_900, 100));
});
afterAll(async () => server?.stop());

interface Reply {
  status: number;
  json: Record<string, unknown> & { run?: Record<string, unknown>; message?: string };
  text: string;
}

async function piston(
  method: string,
  path: string,
  body?: unknown,
  options: { raw?: string; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const raw = options.raw ?? (body === undefined ? undefined : JSON.stringify(body));
  const response = await fetch(`${server.url}/api/v2${path}`, {
    method,
    headers: {
      authorization: `Bearer ${API_KEY}`,
      ...(raw !== undefined ? { 'content-type': 'application/json' } : {}),
      ...options.headers,
    },
    ...(raw !== undefined ? { body: raw } : {}),
  });
  const text = await response.text();
  let json: Reply['json'] = {};
  try {
    json = JSON.parse(text) as Reply['json'];
  } catch {
    // not JSON: the assertions say so
  }
  return { status: response.status, json, text };
}

const RUN_KEYS = [
  'stdout',
  'stderr',
  'code',
  'signal',
  'output',
  'memory',
  'message',
  'status',
  'cpu_time',
  'wall_time',
];

interface Runtime {
  language: string;
  version: string;
  aliases: string[];
  runtime?: string;
}

describe('GET /api/v2/runtimes', () => {
  it("lists runbox's languages with the interpreters' own versions and Piston's aliases", async () => {
    const reply = await piston('GET', '/runtimes');
    expect(reply.status).toBe(200);
    const runtimes = reply.json as unknown as Runtime[];
    expect(runtimes.map((runtime) => runtime.language)).toEqual([
      'python',
      'javascript',
      'typescript',
      'bash',
    ]);
    for (const runtime of runtimes) expect(runtime.version).toMatch(/^\d+\.\d+\.\d+$/);
    const python = execFileSync('/usr/bin/python3', ['--version'], { encoding: 'utf8' });
    expect(python.trim()).toBe(`Python ${runtimes[0]?.version}`);
    const bash = execFileSync('/bin/bash', ['-c', 'echo "${BASH_VERSION%%(*}"'], {
      encoding: 'utf8',
    });
    expect(bash.trim()).toBe(runtimes[3]?.version);
    expect(runtimes[1]).toMatchObject({
      runtime: 'node',
      aliases: expect.arrayContaining(['js', 'node']),
    });
    expect((await piston('GET', '/piston/runtimes')).json).toEqual(reply.json);
  });
});

describe('POST /api/v2/execute', () => {
  let versions: Record<string, string> = {};
  beforeAll(async () => {
    const runtimes = (await piston('GET', '/runtimes')).json as unknown as Runtime[];
    versions = Object.fromEntries(runtimes.map((runtime) => [runtime.language, runtime.version]));
  });

  it("answers Piston's own example as Piston does, key for key", async () => {
    const reply = await piston('POST', '/execute', {
      language: 'js',
      version: versions.javascript,
      files: [{ name: 'my_cool_code.js', content: 'console.log(process.argv)' }],
      stdin: '',
      args: ['1', '2', '3'],
      compile_timeout: 10000,
      run_timeout: 3000,
      compile_memory_limit: -1,
      run_memory_limit: -1,
    });
    expect(reply.status, reply.text).toBe(200);
    expect(Object.keys(reply.json)).toEqual(['run', 'language', 'version']);
    expect(reply.json.language).toBe('javascript');
    expect(reply.json.version).toBe(versions.javascript);
    const run = reply.json.run!;
    expect(Object.keys(run)).toEqual(RUN_KEYS);
    expect(run).toMatchObject({ stderr: '', code: 0, signal: null, status: null, message: null });
    expect(run.stdout).toMatch(/'\/workspace\/my_cool_code\.js',\s+'1',\s+'2',\s+'3'\s*\]\n$/);
    expect(run.output).toBe(run.stdout);
    expect(typeof run.memory).toBe('number');
    expect(typeof run.wall_time).toBe('number');
  });

  it.each([
    ['/execute', 'py', 'print("hi")'],
    ['/execute', 'python3', 'print("hi")'],
    ['/piston/execute', 'node', 'console.log("hi")'],
    ['/piston/execute', 'node-js', 'console.log("hi")'],
    ['/execute', 'ts', 'const s: string = "hi";\nconsole.log(s)'],
    ['/execute', 'sh', 'echo hi'],
  ])('%s takes the alias %s', async (path, language, content) => {
    const reply = await piston('POST', path, { language, version: '*', files: [{ content }] });
    expect(reply.status, reply.text).toBe(200);
    expect(reply.json.run).toMatchObject({ stdout: 'hi\n', code: 0 });
  });

  it('matches SemVer selectors and refuses a version it does not have', async () => {
    const major = versions.python?.split('.')[0];
    const ok = await piston('POST', '/execute', {
      language: 'python',
      version: `${major}.x`,
      files: [{ content: 'print(1)' }],
    });
    expect(ok.status).toBe(200);
    const none = await piston('POST', '/execute', {
      language: 'python',
      version: '1.0.0',
      files: [{ content: 'print(1)' }],
    });
    expect(none).toMatchObject({
      status: 400,
      json: { message: 'python-1.0.0 runtime is unknown' },
    });
  });

  it('gives the program its stdin with the final newline Piston adds', async () => {
    const reply = await piston('POST', '/execute', {
      language: 'python',
      version: '*',
      files: [{ content: 'import sys\nprint(repr(sys.stdin.read()))' }],
      stdin: 'olleh',
    });
    expect(reply.json.run?.stdout).toBe("'olleh\\n'\n");
  });

  it('runs the first file with the others beside it, and interleaves output', async () => {
    const reply = await piston('POST', '/execute', {
      language: 'python',
      version: '*',
      files: [
        {
          name: 'main.py',
          content:
            'import sys, time\nfrom helper import shout\nprint(shout(sys.argv[1]))\ntime.sleep(0.1)\n' +
            'print("to stderr", file=sys.stderr)\ntime.sleep(0.1)\nprint("done")\n',
        },
        { name: 'helper.py', content: 'def shout(word):\n    return word.upper()\n' },
      ],
      args: ['quiet'],
    });
    expect(reply.json.run).toMatchObject({
      stdout: 'QUIET\ndone\n',
      stderr: 'to stderr\n',
      output: 'QUIET\nto stderr\ndone\n',
      code: 0,
    });
  });

  it('decodes base64 and hex files', async () => {
    const reply = await piston('POST', '/execute', {
      language: 'bash',
      version: '*',
      files: [
        { content: 'cat data.txt; cat file2.code' },
        {
          name: 'data.txt',
          content: Buffer.from('from base64\n').toString('base64'),
          encoding: 'base64',
        },
        { content: Buffer.from('from hex\n').toString('hex'), encoding: 'hex' },
      ],
    });
    expect(reply.json.run?.stdout).toBe('from base64\nfrom hex\n');
  });

  it('answers a non-zero exit with its code, and a timeout with SIGKILL', async () => {
    const failed = await piston('POST', '/execute', {
      language: 'bash',
      version: '*',
      files: [{ content: 'echo oops >&2; exit 3' }],
    });
    expect(failed.json.run).toMatchObject({
      code: 3,
      signal: null,
      stderr: 'oops\n',
      status: 'RE',
    });
    const slow = await piston('POST', '/execute', {
      language: 'python',
      version: '*',
      files: [{ content: 'while True: pass' }],
      run_timeout: 1000,
    });
    expect(slow.status, slow.text).toBe(200);
    expect(slow.json.run).toMatchObject({ code: null, signal: 'SIGKILL', status: 'TO' });
  });

  it("refuses bad requests with 400 and Piston's {message}, never a 500", async () => {
    const files = [{ content: 'print(1)' }];
    const cases: [unknown, RegExp | string][] = [
      [{ language: 'cobol', version: '*', files }, 'cobol-* runtime is unknown'],
      [{ version: '*', files }, 'language is required as a string'],
      [{ language: 'python', files }, 'version is required as a string'],
      [{ language: 'python', version: '*' }, 'files is required as an array'],
      [
        { language: 'python', version: '*', files: [{ name: 'a.py' }] },
        'files[0].content is required as a string',
      ],
      [
        { language: 'python', version: '*', files, args: 'a b' },
        'args must be an array of strings',
      ],
      [
        { language: 'python', version: '*', files, run_timeout: '1s' },
        'If specified, run_timeout must be a number',
      ],
      [
        { language: 'python', version: '*', files, run_timeout: 10_000_000 },
        'run_timeout cannot exceed the configured limit of 300000',
      ],
      [
        { language: 'python', version: '*', files: [{ name: '../x.py', content: '' }] },
        /^files\[0\]\.name: /,
      ],
      [
        {
          language: 'python',
          version: '*',
          files: [{ content: '/w==', encoding: 'base64' }, ...files],
        },
        /files\[0\]\.content/,
      ],
      [[1, 2], 'the body must be a JSON object'],
      [null, 'the body must be a JSON object'],
    ];
    for (const [body, message] of cases) {
      const reply = await piston('POST', '/execute', body);
      expect(reply.status, JSON.stringify(body)).toBe(400);
      expect(Object.keys(reply.json)).toEqual(['message']);
      expect(reply.json.message).toMatch(message);
    }
    const malformed = await piston('POST', '/execute', undefined, { raw: '{"language":' });
    expect(malformed.status).toBe(400);
    expect(malformed.json.message).toMatch(/^body: .*JSON/);
  });

  it('takes the REST credentials and methods', async () => {
    const unknownKey = await piston('GET', '/runtimes', undefined, {
      headers: { authorization: 'Bearer not-a-key-of-this-server' },
    });
    expect(unknownKey.status).toBe(401);
    expect(Object.keys(unknownKey.json)).toEqual(['message']);
    const wrongMethod = await piston('GET', '/execute');
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.json.message).toMatch(/allowed: POST/);
    const nowhere = await piston('GET', '/packages');
    expect(nowhere.status).toBe(404);
    expect(Object.keys(nowhere.json)).toEqual(['message']);
  });
});
