import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunOutputView } from '../src/rest/run-output-view.ts';
import type { RunView } from '../src/schemas/run-views.ts';
import { eventually } from './support/runs.ts';
import { REPO_ROOT, type TestServer } from './support/server.ts';
import {
  API_KEY,
  errorOf,
  eventsOf,
  KEYED,
  readSse,
  rest,
  startRestServer,
} from './rest-support.ts';
import { claimTestUid } from '../../executor/test/support/test-uid.ts';

/** One-call runs, output joined back into text, cancel, lists, uploads, anonymous callers. */

let server: TestServer;

beforeAll(async () => {
  server = await startRestServer('rest-runs', claimTestUid(64_900, 100));
});
afterAll(async () => server?.stop());

async function waitRun(
  body: unknown,
): Promise<{ status: number; location: string | null; run: RunOutputView }> {
  const reply = await rest(server.url, 'POST', '/runs?wait=true', { body, headers: KEYED });
  return {
    status: reply.status,
    location: reply.headers.get('location'),
    run: reply.json as RunOutputView,
  };
}

describe('POST /api/v1/runs?wait=true', () => {
  it('answers with the ended run and its stdout in one call', async () => {
    const { status, location, run } = await waitRun({
      kind: 'snippet',
      language: 'bash',
      code: 'echo hello from runbox\n',
    });
    expect(status).toBe(200);
    expect(location).toBe(`/api/v1/runs/${run.id}`);
    expect(run).toMatchObject({
      ended: true,
      state: 'completed',
      exitCode: 0,
      stdout: 'hello from runbox\n',
      stderr: '',
      stdoutBytes: 18,
      stdoutTruncated: false,
      outputLimit: null,
    });
    expect(run.usage?.cpuMs).toBeGreaterThanOrEqual(0);
    // The same run afterwards, as GET shows it: one source for both.
    const again = await rest(server.url, 'GET', `/runs/${run.id}`, { headers: KEYED });
    expect(again.status).toBe(200);
    const { ended: _e, stdout: _o, stderr: _s, lastEventId: _l, ...view } = run;
    const {
      stdoutBytes: _a,
      stderrBytes: _b,
      stdoutTruncated: _c,
      stderrTruncated: _d,
      outputLimit: _f,
      ...plain
    } = view;
    expect(again.json).toEqual(plain);
  });

  it('gives the exit code, stderr, end state and the value handed back', async () => {
    const { status, run } = await waitRun({
      kind: 'snippet',
      language: 'python',
      code: 'import sys\nprint("to stdout")\nprint("to stderr", file=sys.stderr)\nsys.exit(3)\n',
    });
    expect(status).toBe(200);
    expect(run).toMatchObject({
      state: 'failed',
      exitCode: 3,
      stdout: 'to stdout\n',
      stderr: 'to stderr\n',
    });
    const valued = await waitRun({ kind: 'snippet', language: 'python', code: '6 * 7\n' });
    expect(valued.run).toMatchObject({ state: 'completed', value: 42 });
  });

  it('joins a line cut into pieces (long, slow, multi-byte) back exactly', async () => {
    // 40,000 bytes on one line: cut at 16 KiB into three pieces. 'é' twenty thousand times: cut
    // where a character would straddle the cut. A line printed in three writes with pauses:
    // flushed as partial pieces before its newline. stderr in between, and a last line with no
    // newline at all.
    const code = [
      'import sys, time',
      'print("x" * 40000)',
      'print("é" * 20000)',
      'sys.stdout.write("slow "); sys.stdout.flush(); time.sleep(0.3)',
      'print("err line", file=sys.stderr, flush=True)',
      'sys.stdout.write("line "); sys.stdout.flush(); time.sleep(0.3)',
      'sys.stdout.write("done\\n"); sys.stdout.write("tail without newline"); sys.stdout.flush()',
    ].join('\n');
    const { status, run } = await waitRun({ kind: 'snippet', language: 'python', code });
    expect(status).toBe(200);
    const expected = `${'x'.repeat(40_000)}\n${'é'.repeat(20_000)}\nslow line done\ntail without newline`;
    expect(run.stdout).toBe(expected);
    expect(run.stdoutBytes).toBe(Buffer.byteLength(expected));
    expect(run.stderr).toBe('err line\n');

    // It came in pieces: otherwise this test would prove nothing about joining them.
    const reading = await readSse(server.url, `/runs/${run.id}/events`, { headers: KEYED });
    const pieces = eventsOf(reading).filter((event) => event.type === 'output' && event.partial);
    expect(pieces.length).toBeGreaterThanOrEqual(4);

    // GET /output of the ended run gives the same text.
    const output = await rest(server.url, 'GET', `/runs/${run.id}/output`, { headers: KEYED });
    expect(output.status).toBe(200);
    expect((output.json as RunOutputView).stdout).toBe(expected);
    expect((output.json as RunOutputView).lastEventId).toBe(run.lastEventId);
  });

  it('without wait answers 201 with the queued run and its Location', async () => {
    const reply = await rest(server.url, 'POST', '/runs', {
      body: { kind: 'snippet', language: 'bash', code: 'echo later\n' },
      headers: KEYED,
    });
    expect(reply.status).toBe(201);
    const run = reply.json as RunView;
    expect(reply.headers.get('location')).toBe(`/api/v1/runs/${run.id}`);
    const output = await rest(server.url, 'GET', `/runs/${run.id}/output?wait=true`, {
      headers: KEYED,
    });
    expect(output.json).toMatchObject({ ended: true, stdout: 'later\n', state: 'completed' });
  });
});

describe('runs', () => {
  it('cancels a running run; its output says so', async () => {
    const created = await rest(server.url, 'POST', '/runs', {
      body: { kind: 'snippet', language: 'bash', code: 'echo started; sleep 30\n' },
      headers: KEYED,
    });
    const id = (created.json as RunView).id;
    await eventually(async () => {
      const output = await rest(server.url, 'GET', `/runs/${id}/output`, { headers: KEYED });
      return (output.json as RunOutputView).stdout === 'started\n' ? true : undefined;
    }, 'the run to print');
    const cancel = await rest(server.url, 'POST', `/runs/${id}/cancel`, { headers: KEYED });
    expect(cancel.status).toBe(200);
    const output = await rest(server.url, 'GET', `/runs/${id}/output?wait=true`, {
      headers: KEYED,
    });
    expect(output.json).toMatchObject({ ended: true, state: 'cancelled', stdout: 'started\n' });
  });

  it('lists runs by state and pages with a deep-object cursor', async () => {
    for (let i = 0; i < 3; i++)
      await waitRun({ kind: 'snippet', language: 'bash', code: `echo ${i}\n` });
    const first = await rest(server.url, 'GET', '/runs?states=completed&limit=2', {
      headers: KEYED,
    });
    expect(first.status).toBe(200);
    const page = first.json as { runs: RunView[]; nextCursor: { queuedAt: number; id: string } };
    expect(page.runs).toHaveLength(2);
    expect(page.runs.every((run) => run.state === 'completed')).toBe(true);
    const cursor = new URLSearchParams({
      'cursor[queuedAt]': String(page.nextCursor.queuedAt),
      'cursor[id]': page.nextCursor.id,
      states: 'completed',
      limit: '2',
    });
    const second = await rest(server.url, 'GET', `/runs?${cursor}`, { headers: KEYED });
    expect(second.status).toBe(200);
    const next = (second.json as { runs: RunView[] }).runs;
    expect(next.length).toBeGreaterThan(0);
    expect(next.some((run) => page.runs.some((seen) => seen.id === run.id))).toBe(false);
    const both = await rest(server.url, 'GET', '/runs?states=completed&states=cancelled', {
      headers: KEYED,
    });
    expect(both.status).toBe(200);
  });
});

describe('projects', () => {
  it('uploads files, answers with a count and a sample, and runs a tool on them', async () => {
    const form = new FormData();
    const paths: string[] = ['main.py'];
    form.append('files', new File(['print("from the project")\n'], 'main.py'));
    for (let i = 0; i < 24; i++) {
      paths.push(`lib/module_${String(i).padStart(2, '0')}.py`);
      form.append('files', new File([`X = ${i}\n`], `module_${i}.py`));
    }
    form.append('paths', JSON.stringify(paths));
    form.append('name', 'sampled');
    const upload = await rest(server.url, 'POST', '/projects', { raw: form, headers: KEYED });
    expect(upload.status).toBe(201);
    const project = upload.json as {
      id: string;
      fileCount: number;
      sampleFiles: { path: string }[];
      files?: unknown;
    };
    expect(project.fileCount).toBe(25);
    expect(project.sampleFiles).toHaveLength(20);
    expect(project.sampleFiles[0]?.path).toBe('lib/module_00.py');
    expect(project.files).toBeUndefined();
    expect(upload.headers.get('location')).toBe(`/api/v1/projects/${project.id}`);

    const files = await rest(server.url, 'GET', `/projects/${project.id}/files`, {
      headers: KEYED,
    });
    expect(files.json).toHaveLength(25);
    const { status, run } = await waitRun({
      kind: 'tool',
      toolId: 'python',
      projectId: project.id,
      entry: 'main.py',
    });
    expect(status).toBe(200);
    expect(run).toMatchObject({ state: 'completed', stdout: 'from the project\n' });
  });

  it('names the entry and the rule of a refused upload', async () => {
    const form = new FormData();
    form.append('files', new File(['x'], 'evil'));
    form.append('paths', JSON.stringify(['../evil']));
    const upload = await rest(server.url, 'POST', '/projects', { raw: form, headers: KEYED });
    expect(upload.status).toBe(400);
    expect(errorOf(upload)).toMatchObject({ code: 'UPLOAD_REJECTED', rule: 'path-traversal' });
  });
});

describe('anonymous callers (anonymous use on)', () => {
  it('get an owner cookie, and see their runs only with it', async () => {
    const created = await rest(server.url, 'POST', '/runs?wait=true', {
      body: { kind: 'snippet', language: 'bash', code: 'echo anon\n' },
    });
    expect(created.status).toBe(200);
    const cookie = created.headers.get('set-cookie')?.split(';')[0] ?? '';
    expect(cookie).toMatch(/^runbox_owner=/);
    const id = (created.json as RunView).id;
    expect((await rest(server.url, 'GET', `/runs/${id}`, { headers: { cookie } })).status).toBe(
      200,
    );
    const stranger = await rest(server.url, 'GET', `/runs/${id}`);
    expect(stranger.status).toBe(404);
    // The answer says why: no credentials made a new owner.
    expect(String(errorOf(stranger).message)).toMatch(/no owner cookie and no API key/);
    const keyed = await rest(server.url, 'GET', `/runs/${id}`, { headers: KEYED });
    expect(keyed.status).toBe(404);
    expect(String(errorOf(keyed).message)).not.toMatch(/no owner cookie/);
  });
});

describe('docs/rest.md', () => {
  it('its Python client runs with python3 and prints what the page says', async () => {
    const page = await readFile(join(REPO_ROOT, 'docs/rest.md'), 'utf8');
    const program = /```python\n([\s\S]*?)```/.exec(page)?.[1];
    const printed = /It prints:\n\n```\n([\s\S]*?)```/.exec(page)?.[1];
    expect(program).toBeDefined();
    expect(printed).toBeDefined();
    const { stdout } = await promisify(execFile)('python3', ['-c', program ?? ''], {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        RUNBOX_URL: server.url,
        RUNBOX_API_KEY: API_KEY,
      },
      timeout: 60_000,
    });
    expect(stdout).toBe(printed);
  });
});
