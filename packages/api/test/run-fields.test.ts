import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunView } from '../src/schemas/run-views.ts';
import type { RunOutputView } from '../src/rest/run-output-view.ts';
import { adminClient } from './support/clients.ts';
import { eventually } from './support/runs.ts';
import type { TestServer } from './support/server.ts';
import { errorOf, KEYED, rest, startRestServer } from './rest-support.ts';
import { claimTestUid } from '../../executor/test/support/test-uid.ts';

/**
 * Run fields Judge0 and Piston users expect, through real sandboxed runs: program arguments,
 * extra environment variables, several files with an entry, a verdict against the expected
 * output, and batches. Each case goes through the REST surface, which calls `runs.create` and
 * `runs.createBatch` with the same schemas as tRPC.
 */

let server: TestServer;
beforeAll(async () => {
  // The key may have 8 runs at once; the server-wide creates a second are not what is tested.
  server = await startRestServer('run-fields', claimTestUid(64_900, 100), {
    RUNBOX_CONCURRENT_RUNS_PER_OWNER: '8',
    RUNBOX_MAX_CREATES_PER_SECOND: '1000',
  });
});
afterAll(async () => server?.stop());

async function runAndWait(body: Record<string, unknown>): Promise<RunOutputView> {
  const reply = await rest(server.url, 'POST', '/runs?wait=true', { body, headers: KEYED });
  expect(reply.status, reply.text.slice(0, 400)).toBe(200);
  return reply.json as RunOutputView;
}

/** Waits until none of the key's runs is queued or running (they count against its limits). */
async function allEnded(): Promise<void> {
  await eventually(async () => {
    const reply = await rest(server.url, 'GET', '/runs?states=queued&states=running', {
      headers: KEYED,
    });
    return (reply.json as { runs: RunView[] }).runs.length === 0 ? true : undefined;
  }, 'the runs to end');
}

async function runCount(): Promise<number> {
  const reply = await rest(server.url, 'GET', '/runs?limit=100', { headers: KEYED });
  return (reply.json as { runs: RunView[] }).runs.length;
}

const ARGS = ['one', 'two words', '--flag', ''];

describe('program arguments', () => {
  it.each([
    ['python', 'import sys, json\nprint(json.dumps(sys.argv[1:]))\n'],
    ['javascript', 'console.log(JSON.stringify(process.argv.slice(2)));\n'],
    [
      'typescript',
      'const args: string[] = process.argv.slice(2);\nconsole.log(JSON.stringify(args));\n',
    ],
    ['bash', 'printf \'%s\\n\' "$#"; for a in "$@"; do printf \'[%s]\\n\' "$a"; done\n'],
  ])('reach a %s program', async (language, code) => {
    const run = await runAndWait({ kind: 'snippet', language, code, args: ARGS });
    expect(run.state, run.stderr).toBe('completed');
    if (language === 'bash') expect(run.stdout).toBe('4\n[one]\n[two words]\n[--flag]\n[]\n');
    else expect(JSON.parse(run.stdout)).toEqual(ARGS);
  });
});

describe('environment variables', () => {
  it('reach the program, beside the sandbox’s own', async () => {
    const run = await runAndWait({
      kind: 'snippet',
      language: 'python',
      code: 'import os\nprint(os.environ["GREETING"], os.environ["lower_case"], os.environ["HOME"])\n',
      env: { GREETING: 'hello there', lower_case: '1' },
    });
    expect(run.stdout).toBe('hello there 1 /tmp\n');
  });

  it('refuses a name runbox sets or a loader variable, naming the variable and the rule', async () => {
    const before = await runCount();
    for (const [name, rule] of [
      ['PATH', 'env-denied'],
      ['LD_PRELOAD', 'env-denied-prefix'],
      ['NODE_OPTIONS', 'env-denied-prefix'],
      ['BASH_ENV', 'env-denied'],
      ['2BAD', 'env-name'],
    ] as const) {
      const reply = await rest(server.url, 'POST', '/runs', {
        body: { kind: 'snippet', language: 'bash', code: 'env\n', env: { OK: '1', [name]: 'x' } },
        headers: KEYED,
      });
      expect(reply.status, name).toBe(400);
      const error = errorOf(reply);
      expect(error).toMatchObject({ field: `env.${name}`, rule });
      expect(String(error.message)).toContain(name);
    }
    expect(await runCount()).toBe(before);
  });
});

describe('several files', () => {
  it('run a three-file Python project whose entry imports a sibling module', async () => {
    const run = await runAndWait({
      kind: 'snippet',
      language: 'python',
      entry: 'app/main.py',
      files: [
        {
          name: 'app/main.py',
          content: 'import sys\nfrom greet import greet\nprint(greet(sys.argv[1]))\n',
        },
        {
          name: 'app/greet.py',
          content:
            'from pathlib import Path\n' +
            'WORD = (Path(__file__).parent / "data" / "word.txt").read_text().strip()\n' +
            'def greet(name):\n    return f"{WORD}, {name}!"\n',
        },
        { name: 'app/data/word.txt', content: 'Bonjour\n' },
      ],
      args: ['Ada'],
    });
    expect(run.state, run.stderr).toBe('completed');
    expect(run.stdout).toBe('Bonjour, Ada!\n');
    // The run shows its entry's code.
    expect(run.code).toContain('from greet import greet');
  });

  it('take code as the entry, with the files beside it', async () => {
    const run = await runAndWait({
      kind: 'snippet',
      language: 'javascript',
      code: 'const { twice } = require("./lib/twice.js");\nconsole.log(twice(21));\n',
      files: [{ name: 'lib/twice.js', content: 'exports.twice = (n) => n * 2;\n' }],
    });
    expect(run.stdout).toBe('42\n');
  });

  it('refuse an entry given twice or not at all, and names outside the workspace', async () => {
    const cases = [
      [
        { code: 'print(1)', files: [{ name: 'main.py', content: 'print(2)' }] },
        'files.0.name',
        'entry-twice',
      ],
      [{ files: [{ name: 'other.py', content: '' }] }, 'code', 'entry-missing'],
      [{ code: '', files: [{ name: '../x.py', content: '' }] }, 'files.0.name', 'path-traversal'],
      [{ code: '', entry: '/abs.py' }, 'entry', 'absolute-path'],
      [
        {
          code: '',
          files: [
            { name: 'a', content: '' },
            { name: 'a/b', content: '' },
          ],
        },
        'files.1.name',
        'file-is-directory',
      ],
    ] as const;
    for (const [fields, field, rule] of cases) {
      const reply = await rest(server.url, 'POST', '/runs', {
        body: { kind: 'snippet', language: 'python', ...fields },
        headers: KEYED,
      });
      expect(reply.status, JSON.stringify(fields)).toBe(400);
      expect(errorOf(reply)).toMatchObject({ field, rule });
    }
  });
});

describe('expected output', () => {
  const code = 'print("1  ")\nprint("2")\nprint("3")\nprint()\n';

  it('passes when the lines match, trailing whitespace and final newlines aside', async () => {
    const run = await runAndWait({
      kind: 'snippet',
      language: 'python',
      code,
      expectedOutput: '1\r\n2\r\n3',
    });
    expect(run.verdict).toEqual({ status: 'passed' });
    const stored = await rest(server.url, 'GET', `/runs/${run.id}`, { headers: KEYED });
    expect((stored.json as RunView).verdict).toEqual({ status: 'passed' });
  });

  it('fails with the first differing line', async () => {
    const run = await runAndWait({
      kind: 'snippet',
      language: 'python',
      code,
      expectedOutput: '1\n4\n3\n',
    });
    expect(run.verdict).toEqual({
      status: 'failed',
      line: 2,
      column: 1,
      expected: '4',
      actual: '2',
    });
    const stored = await rest(server.url, 'GET', `/runs/${run.id}`, { headers: KEYED });
    expect((stored.json as RunView).verdict).toMatchObject({ status: 'failed', line: 2 });
  });

  it('is null for a run sent without one', async () => {
    const run = await runAndWait({ kind: 'snippet', language: 'bash', code: 'echo 1\n' });
    expect(run.verdict).toBeNull();
  });
});

describe('batches', () => {
  it('create up to 20 runs in order and, with wait=true, answer with all of them ended', async () => {
    const runs = [1, 2, 3].map((n) => ({
      kind: 'snippet',
      language: 'bash',
      code: `echo run ${n}\n`,
      expectedOutput: `run ${n}\n`,
    }));
    const reply = await rest(server.url, 'POST', '/runs/batch?wait=true', {
      body: { runs },
      headers: KEYED,
    });
    expect(reply.status, reply.text.slice(0, 400)).toBe(200);
    const answers = reply.json as RunOutputView[];
    expect(answers.map((answer) => answer.stdout)).toEqual(['run 1\n', 'run 2\n', 'run 3\n']);
    expect(answers.every((answer) => answer.ended && answer.verdict?.status === 'passed')).toBe(
      true,
    );
    const queued = await rest(server.url, 'POST', '/runs/batch', {
      body: { runs: runs.slice(0, 2) },
      headers: KEYED,
    });
    expect(queued.status).toBe(201);
    expect((queued.json as RunView[]).map((run) => run.code)).toEqual([
      'echo run 1\n',
      'echo run 2\n',
    ]);
  });

  it('refuse a batch with one invalid run, naming its index, and create nothing', async () => {
    await allEnded();
    const before = await runCount();
    const valid = { kind: 'snippet', language: 'bash', code: 'echo ok\n' };
    const schema = await rest(server.url, 'POST', '/runs/batch', {
      body: { runs: [valid, { ...valid, language: 'cobol' }, valid] },
      headers: KEYED,
    });
    expect(schema.status).toBe(400);
    expect(errorOf(schema)).toMatchObject({ field: 'runs.1.language', rule: 'invalid_value' });

    // Found by the engine's checks (syntax, in the sandbox), not the schema: still nothing runs.
    const syntax = await rest(server.url, 'POST', '/runs/batch', {
      body: { runs: [valid, valid, { kind: 'snippet', language: 'python', code: 'def f(:\n' }] },
      headers: KEYED,
    });
    expect(syntax.status).toBe(400);
    expect(errorOf(syntax)).toMatchObject({ code: 'SYNTAX_ERROR', field: 'runs.2' });
    expect(String(errorOf(syntax).message)).toMatch(/^runs\.2: /);

    const tooMany = await rest(server.url, 'POST', '/runs/batch', {
      body: { runs: Array.from({ length: 21 }, () => valid) },
      headers: KEYED,
    });
    expect(errorOf(tooMany)).toMatchObject({ field: 'runs', rule: 'too_big' });
    expect(await runCount()).toBe(before);
  });

  it('count each run against the rate limits', async () => {
    await allEnded();
    const before = await runCount();
    const valid = { kind: 'snippet', language: 'bash', code: 'echo ok\n' };
    // The key may have 8 runs queued or running at once: 9 in one batch are refused whole.
    const reply = await rest(server.url, 'POST', '/runs/batch', {
      body: { runs: Array.from({ length: 9 }, () => valid) },
      headers: KEYED,
    });
    expect(reply.status).toBe(429);
    expect(errorOf(reply)).toMatchObject({ rule: 'concurrentRunsPerOwner' });
    expect(await runCount()).toBe(before);
  });
});

describe('arguments through a warm sandbox', () => {
  let warm: TestServer;
  beforeAll(async () => {
    warm = await startRestServer('run-fields-warm', claimTestUid(64_900, 100), {
      RUNBOX_WARM_SANDBOXES: 'python=1',
    });
  });
  afterAll(async () => warm?.stop());

  it('reach the program warm; a run with env starts cold', async () => {
    const admin = adminClient(warm.url);
    try {
      const pool = async () => (await admin.trpc.admin.warmSandboxes.query())[0];
      await eventually(
        async () => ((await pool())?.ready === 1 ? true : undefined),
        'a warm python sandbox',
        20_000,
      );
      const run = async (body: Record<string, unknown>) => {
        const reply = await rest(warm.url, 'POST', '/runs?wait=true', { body, headers: KEYED });
        expect(reply.status, reply.text.slice(0, 300)).toBe(200);
        return reply.json as RunOutputView;
      };
      const withArgs = await run({
        kind: 'snippet',
        language: 'python',
        code: 'import sys\nprint(sys.argv[1:])\n',
        args: ['a', 'b c'],
      });
      expect(withArgs.stdout).toBe("['a', 'b c']\n");
      expect(await pool()).toMatchObject({ hits: 1, misses: 0 });

      await eventually(
        async () => ((await pool())?.ready === 1 ? true : undefined),
        'the pool refilled',
        20_000,
      );
      const withEnv = await run({
        kind: 'snippet',
        language: 'python',
        code: 'import os\nprint(os.environ["COLOUR"])\n',
        env: { COLOUR: 'blue' },
      });
      expect(withEnv.stdout).toBe('blue\n');
      // Cold, not from the pool: the ready one is still waiting.
      expect(await pool()).toMatchObject({ hits: 1, ready: 1 });
    } finally {
      await admin.close();
    }
  });
});
