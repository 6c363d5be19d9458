import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  codeOf,
  newOwnerCookie,
  ownerClient,
  rejectionOf,
  runboxDetailsOf,
  type TestClient,
} from './support/clients.ts';
import { rawPost, rawQuery, trpcErrorOf, type RawAnswer } from './support/http.ts';
import { startTestServer, type TestServer } from './support/server.ts';

/**
 * Malformed input gets a 4xx that says what was wrong, never a 500, and nothing is stored or
 * spawned for it.
 */

let server: TestServer;
let owner: TestClient;
let cookie: string;

beforeAll(async () => {
  server = await startTestServer('bad-input');
  owner = await ownerClient(server.url);
  cookie = owner.cookie ?? '';
});
afterAll(async () => {
  await owner?.close();
  await server?.stop();
});

/** runs.create with a body no typed client would send. */
function createRaw(body: string, headers: Record<string, string> = {}): Promise<RawAnswer> {
  return rawPost(server.url, 'runs.create', body, { cookie, ...headers });
}

function nested(depth: number, inner = '1'): string {
  return `${'['.repeat(depth)}${inner}${']'.repeat(depth)}`;
}

/** Nothing was created by the bad requests of a test. */
async function expectNoRuns(): Promise<void> {
  expect((await owner.trpc.runs.list.query({})).runs).toEqual([]);
}

describe('malformed runs.create bodies are 400s', () => {
  const cases: [string, string][] = [
    ['not JSON at all', '{"kind": "snippet", '],
    ['a JSON string', '"print(1)"'],
    ['null', 'null'],
    ['an array', '[1, 2, 3]'],
    ['a wrong kind', '{"kind":"binary","language":"python","code":"print(1)"}'],
    ['a language that is a number', '{"kind":"snippet","language":5,"code":"print(1)"}'],
    ['code that is a number', '{"kind":"snippet","language":"python","code":123}'],
    ['code that is an object', '{"kind":"snippet","language":"python","code":{"a":1}}'],
    ['an unknown language', '{"kind":"snippet","language":"cobol","code":"x"}'],
    ['an unknown key', '{"kind":"snippet","language":"python","code":"print(1)","sudo":true}'],
    [
      'limits that are a string',
      '{"kind":"snippet","language":"python","code":"x","limits":"max"}',
    ],
    ['an unknown limit', '{"kind":"snippet","language":"python","code":"x","limits":{"gpus":1}}'],
    [
      'a limit that is not a whole number',
      '{"kind":"snippet","language":"python","code":"x","limits":{"wallTimeMs":1500.5}}',
    ],
    ['a tool run naming no project or example', '{"kind":"tool","toolId":"python"}'],
    [
      'a tool run naming both a project and an example',
      '{"kind":"tool","toolId":"python","projectId":"p","exampleId":"hello-python"}',
    ],
    ['10,000 levels of arrays as the body', nested(10_000)],
    [
      '10,000 levels of arrays as the code',
      `{"kind":"snippet","language":"python","code":${nested(10_000)}}`,
    ],
    [
      '10,000 levels of arrays as the limits',
      `{"kind":"snippet","language":"python","code":"x","limits":${nested(10_000)}}`,
    ],
    [
      '10,000 levels of objects under an unknown key',
      `{"kind":"snippet","language":"python","code":"x","deep":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}}`,
    ],
    ['100,000 levels of arrays as the body', nested(100_000)],
  ];
  for (const [name, body] of cases) {
    it(name, async () => {
      const answer = await createRaw(body);
      expect(answer.status).toBe(400);
      expect(trpcErrorOf(answer.json).code).toMatch(/^(BAD_REQUEST|PARSE_ERROR)$/);
      expect(trpcErrorOf(answer.json).message).not.toBe('');
      await expectNoRuns();
    });
  }

  it('wrong types through the typed client name the field', async () => {
    const error = await rejectionOf(
      owner.trpc.runs.create.mutate({
        kind: 'snippet',
        language: 'python',
        code: 42,
      } as unknown as Parameters<typeof owner.trpc.runs.create.mutate>[0]),
    );
    expect(codeOf(error)).toBe('BAD_REQUEST');
    expect(error.message).toContain('code');
  });

  it('deeply nested arrays as the input of a query are a 4xx', async () => {
    const answer = await rawQuery(server.url, 'runs.get', nested(1_000), { cookie });
    expect(answer.status).toBe(400);
    expect(trpcErrorOf(answer.json).code).toBe('BAD_REQUEST');
    // 10,000 levels make a URL longer than Node takes: 431 before tRPC sees it.
    const longer = await rawQuery(server.url, 'runs.get', nested(10_000), { cookie });
    expect(longer.status).toBe(431);
  });
});

describe('code that is too large, unsafe or broken', () => {
  it('a 2 MB code string is refused naming the limit', async () => {
    const error = await rejectionOf(
      owner.trpc.runs.create.mutate({
        kind: 'snippet',
        language: 'python',
        code: `# ${'x'.repeat(2 * 1024 * 1024)}\n`,
      }),
    );
    expect(error.data?.httpStatus).toBeGreaterThanOrEqual(400);
    expect(error.data?.httpStatus).toBeLessThan(500);
    expect(codeOf(error)).toBe('BAD_REQUEST');
    expect(error.message).toContain('code is limited to 1,000,000 characters');
    await expectNoRuns();
  });

  it('200 KB of code is over the 100 KB code limit: PAYLOAD_TOO_LARGE with the limit', async () => {
    const code = `# ${'x'.repeat(200 * 1024)}\nprint(1)\n`;
    const error = await rejectionOf(
      owner.trpc.runs.create.mutate({ kind: 'snippet', language: 'python', code }),
    );
    expect(codeOf(error)).toBe('PAYLOAD_TOO_LARGE');
    expect(error.data?.httpStatus).toBe(413);
    expect(runboxDetailsOf(error)).toEqual({ code: 'CODE_TOO_LARGE', maxBytes: 102_400 });
    expect(error.message).toBe(
      `code is ${Buffer.byteLength(code)} bytes (UTF-8), more than the limit of 102400 bytes`,
    );
    await expectNoRuns();
  });

  it('a limit out of range is refused naming the limit and the range', async () => {
    const tooLong = await rejectionOf(
      owner.trpc.runs.create.mutate({
        kind: 'snippet',
        language: 'python',
        code: 'print(1)\n',
        limits: { wallTimeMs: 10_000_000 },
      }),
    );
    expect(codeOf(tooLong)).toBe('BAD_REQUEST');
    expect(tooLong.message).toBe(
      'limit wallTimeMs=10000000 is outside the allowed range 1000..300000',
    );
    expect(runboxDetailsOf(tooLong)).toEqual({
      code: 'LIMIT_OUT_OF_RANGE',
      field: 'wallTimeMs',
      min: 1000,
      max: 300_000,
    });

    const tooSmall = await rejectionOf(
      owner.trpc.runs.create.mutate({
        kind: 'snippet',
        language: 'bash',
        code: 'echo 1\n',
        limits: { memoryBytes: 1024 },
      }),
    );
    expect(codeOf(tooSmall)).toBe('BAD_REQUEST');
    expect(tooSmall.message).toMatch(
      /^limit memoryBytes=1024 is outside the allowed range 16777216\.\.\d+$/,
    );
    expect(runboxDetailsOf(tooSmall)).toMatchObject({ field: 'memoryBytes', min: 16_777_216 });
    await expectNoRuns();
  });

  it('a syntax error is a BAD_REQUEST naming the line', async () => {
    const error = await rejectionOf(
      owner.trpc.runs.create.mutate({
        kind: 'snippet',
        language: 'python',
        code: 'print("fine")\nprint("fine")\nif True print("broken")\n',
      }),
    );
    expect(codeOf(error)).toBe('BAD_REQUEST');
    expect(runboxDetailsOf(error)).toMatchObject({ code: 'SYNTAX_ERROR', line: 3 });
    expect(error.message).toMatch(/^python code has a syntax error on line 3: /);

    const js = await rejectionOf(
      owner.trpc.runs.create.mutate({
        kind: 'snippet',
        language: 'javascript',
        code: 'const a = 1;\nconst = 2;\n',
      }),
    );
    expect(codeOf(js)).toBe('BAD_REQUEST');
    expect(runboxDetailsOf(js)).toMatchObject({ code: 'SYNTAX_ERROR', line: 2 });
    await expectNoRuns();
  });

  it('a secret in the code is refused naming its kind and line, never repeating it', async () => {
    const token = `ghp_${'a1B2c3D4e5'.repeat(4)}`;
    const error = await rejectionOf(
      owner.trpc.runs.create.mutate({
        kind: 'snippet',
        language: 'python',
        code: `import os\n\nTOKEN = "${token}"\nprint(TOKEN)\n`,
      }),
    );
    expect(codeOf(error)).toBe('BAD_REQUEST');
    expect(runboxDetailsOf(error)).toEqual({
      code: 'SECRET_IN_CODE',
      kind: 'github-token',
      line: 3,
    });
    expect(error.message).toContain('line 3');
    expect(JSON.stringify({ message: error.message, data: error.data })).not.toContain(token);
    await expectNoRuns();
  });

  it('an unknown tool or example is refused', async () => {
    const tool = await rejectionOf(
      owner.trpc.runs.create.mutate({ kind: 'tool', toolId: 'rm-rf', exampleId: 'hello-python' }),
    );
    expect(codeOf(tool)).toBe('BAD_REQUEST');
    const example = await rejectionOf(
      owner.trpc.runs.create.mutate({ kind: 'tool', toolId: 'python', exampleId: 'nope' }),
    );
    expect(codeOf(example)).toBe('NOT_FOUND');
    await expectNoRuns();
  });
});

describe('requests a browser on another site could make', () => {
  const body = JSON.stringify({ kind: 'snippet', language: 'bash', code: 'echo hi\n' });

  it('a POST as text/plain or as a url-encoded form is a 415', async () => {
    for (const type of [
      'text/plain',
      'application/x-www-form-urlencoded',
      'text/plain; charset=utf-8',
    ]) {
      const answer = await createRaw(body, { 'content-type': type });
      expect(answer.status).toBe(415);
      expect(answer.json).toEqual({
        error: expect.stringContaining('is refused; send application/json or multipart/form-data'),
      });
    }
    await expectNoRuns();
  });

  it('a POST from a foreign Origin is a 403', async () => {
    const answer = await createRaw(body, { origin: 'https://evil.example' });
    expect(answer.status).toBe(403);
    expect(answer.json).toEqual({ error: 'origin https://evil.example may not call this server' });
    // Reads from a foreign origin are refused too.
    const read = await rawQuery(server.url, 'runs.list', '{}', {
      cookie,
      origin: 'https://evil.example',
    });
    expect(read.status).toBe(403);
    await expectNoRuns();
    // The same POST from the server's own origin goes through (another owner: this one stays empty).
    const own = await createRaw(body, {
      origin: server.url,
      cookie: await newOwnerCookie(server.url),
    });
    expect(own.status).toBe(200);
  });

  it('a WebSocket upgrade with a foreign Origin is refused with 403', async () => {
    const socket = new WebSocket(`${server.url.replace('http', 'ws')}/api/trpc`, {
      headers: { origin: 'https://evil.example', cookie },
    });
    const status = await new Promise<number>((resolve, reject) => {
      socket.on('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
      socket.on('open', () => reject(new Error('the upgrade was accepted')));
      socket.on('error', () => {});
    });
    socket.terminate();
    expect(status).toBe(403);
  });

  it('a WebSocket upgrade on another path is refused', async () => {
    const socket = new WebSocket(`${server.url.replace('http', 'ws')}/not-trpc`, {
      headers: { origin: server.url, cookie },
    });
    const opened = await new Promise<boolean>((resolve) => {
      socket.on('open', () => resolve(true));
      socket.on('error', () => resolve(false));
      socket.on('unexpected-response', () => resolve(false));
    });
    socket.terminate();
    expect(opened).toBe(false);
  });
});

describe('bad WebSocket messages', () => {
  async function openSocket(): Promise<WebSocket> {
    const socket = new WebSocket(`${server.url.replace('http', 'ws')}/api/trpc`, {
      headers: { origin: server.url, cookie },
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    return socket;
  }

  it('garbage gets a PARSE_ERROR answer, or a closed socket, and the server goes on', async () => {
    const socket = await openSocket();
    const answer = new Promise<string>((resolve) => {
      socket.once('message', (data: Buffer) => resolve(data.toString('utf8')));
      socket.once('close', (code: number) => resolve(`closed ${code}`));
    });
    socket.send('this is not json {');
    const text = await answer;
    socket.terminate();
    if (!text.startsWith('closed')) {
      expect(JSON.parse(text)).toMatchObject({ error: { data: { code: 'PARSE_ERROR' } } });
    }
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  it('a message over the size cap closes the socket with 1009, and the server goes on', async () => {
    const socket = await openSocket();
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    socket.on('error', () => {});
    socket.send(
      JSON.stringify({
        id: 1,
        method: 'query',
        params: { path: 'runs.get', input: { id: 'x'.repeat(100 * 1024) } },
      }),
    );
    expect(await closed).toBe(1009);
    expect((await owner.trpc.queue.status.query()).paused).toBe(false);
  });

  it('a subscription with a malformed input is a BAD_REQUEST over the socket', async () => {
    const socket = await openSocket();
    const answer = new Promise<string>((resolve) =>
      socket.once('message', (data: Buffer) => resolve(data.toString('utf8'))),
    );
    socket.send(
      JSON.stringify({
        id: 7,
        method: 'subscription',
        params: { path: 'runs.onOutput', input: { id: nested(1_000) } },
      }),
    );
    const message = JSON.parse(await answer) as {
      id: number;
      error?: { data?: { code?: string } };
    };
    socket.terminate();
    expect(message.id).toBe(7);
    expect(message.error?.data?.code).toBe('BAD_REQUEST');
  });
});
