import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli } from './support/cli-process.ts';
import { API_KEY, startCliTestServer, type CliTestServer } from './support/cli-server.ts';
import { claimTestUid } from '../../executor/test/support/test-uid.ts';

/**
 * `runbox-cli logs`, `status`, `cancel`, `tools` and the help, against a real runbox process, the
 * CLI run by the machine's Node 20. Runs are made over plain REST; the CLI reads them.
 */

// This file's sandbox uid (the CLI's test files take 64970..64979).
const SANDBOX_UID = claimTestUid(64_900, 100);

let server: CliTestServer;

beforeAll(async () => {
  server = await startCliTestServer('commands', SANDBOX_UID);
});
afterAll(async () => server?.stop());

const keyed = (): { url: string; apiKey: string } => ({ url: server.url, apiKey: API_KEY });

interface RunView {
  id: string;
  state: string;
}

/** A run made over REST; with `wait`, once it has ended. */
async function makeRun(code: string, wait = true): Promise<string> {
  const { status, json } = await server.rest('POST', `/runs${wait ? '?wait=true' : ''}`, {
    kind: 'snippet',
    language: 'bash',
    code,
  });
  expect([200, 201]).toContain(status);
  return (json as RunView).id;
}

describe('runbox-cli logs', () => {
  it("prints an ended run's stdout to stdout and stderr to stderr", async () => {
    const id = await makeRun('echo one; echo two >&2; echo three; exit 4\n');
    const result = await runCli(['logs', id], keyed());
    expect(result).toEqual({ code: 0, stdout: 'one\nthree\n', stderr: 'two\n' });
  });

  it('follows a live run to its end and exits with its exit code', async () => {
    const id = await makeRun('echo early; sleep 1; echo late; exit 6\n', false);
    const cli = startCli(['logs', id, '--follow'], keyed());
    await cli.waitFor('stdout', 'early\n');
    expect(await cli.exited).toBe(6);
    expect(cli.stdout()).toBe('early\nlate\n');
    expect(cli.stderr()).toMatch(/^runbox-cli: run \S+ failed, exit code 6/);
  });

  it('gives the run with its output as JSON', async () => {
    const id = await makeRun('printf "a\\nb"\n');
    const result = await runCli(['logs', id, '--json'], keyed());
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      id,
      state: 'completed',
      exitCode: 0,
      ended: true,
      stdout: 'a\nb',
      stderr: '',
    });
  });

  it('names a run that is not there: 404, exit 2', async () => {
    const result = await runCli(['logs', 'no-such-run'], keyed());
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^runbox-cli: 404 NOT_FOUND\b.*no-such-run.*\n$/);
  });
});

describe('runbox-cli status and cancel', () => {
  it('shows a run, and cancels a running one', async () => {
    const id = await makeRun('sleep 60\n', false);
    const before = await runCli(['status', id], keyed());
    expect(before.code).toBe(0);
    expect(before.stdout).toMatch(new RegExp(`^id +${id}$`, 'm'));
    expect(before.stdout).toMatch(/^state +(queued|running)$/m);
    expect(before.stdout).toMatch(/^what +snippet \(bash\)$/m);

    const cancelled = await runCli(['cancel', id], keyed());
    expect(cancelled.code).toBe(0);
    expect(cancelled.stdout).toMatch(new RegExp(`^run ${id} \\w+\\n$`));
    let state = '';
    for (let tries = 0; tries < 200 && state !== 'cancelled'; tries++) {
      const json = JSON.parse((await runCli(['status', id, '--json'], keyed())).stdout) as RunView;
      state = json.state;
    }
    expect(state).toBe('cancelled');
  });

  it('cancel --json answers the run as the server shows it', async () => {
    const id = await makeRun('echo done\n');
    const result = await runCli(['cancel', id, '--json'], keyed());
    expect(result.code).toBe(0);
    // An ended run stays as it is.
    expect(JSON.parse(result.stdout)).toMatchObject({ id, state: 'completed', exitCode: 0 });
  });
});

describe('runbox-cli tools', () => {
  it('lists the tools, one a line, and as JSON', async () => {
    const plain = await runCli(['tools'], keyed());
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(/^python +Runs the project's main\.py/m);
    expect(plain.stdout).toMatch(/^pytest +/m);
    const json = await runCli(['tools', '--json'], keyed());
    const tools = JSON.parse(json.stdout) as { id: string; available: boolean }[];
    expect(tools.map((tool) => tool.id)).toEqual(expect.arrayContaining(['python', 'bash']));
    expect(tools.every((tool) => typeof tool.available === 'boolean')).toBe(true);
  });
});

describe('runbox-cli help and usage', () => {
  it('has --help for every command, without calling the server', async () => {
    const offline = { url: 'http://127.0.0.1:9', apiKey: null };
    for (const command of ['run', 'logs', 'status', 'cancel', 'tools']) {
      const result = await runCli([command, '--help'], offline);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(new RegExp(`^usage: runbox-cli ${command}\\b`));
    }
    const main = await runCli(['--help'], offline);
    expect(main).toMatchObject({ code: 0, stderr: '' });
    expect(main.stdout).toMatch(/^usage: runbox-cli <command>/);
  });

  it('refuses an unknown command or option in one line, exit 2', async () => {
    const offline = { url: 'http://127.0.0.1:9', apiKey: null };
    const command = await runCli(['launch'], offline);
    expect(command).toMatchObject({ code: 2, stdout: '' });
    expect(command.stderr).toBe('runbox-cli: unknown command launch (see runbox-cli --help)\n');
    const option = await runCli(['status', 'x', '--colour'], offline);
    expect(option.code).toBe(2);
    expect(option.stderr).toBe(
      'runbox-cli: unknown option --colour (see runbox-cli status --help)\n',
    );
    const missing = await runCli(['logs'], offline);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/logs takes one argument, got 0/);
  });
});
