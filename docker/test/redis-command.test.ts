import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asContainerSees, serviceOf, strings } from './support/compose-services.ts';
import { loadCompose } from './support/files.ts';
import { isYamlMap } from './support/read-yaml.ts';

/**
 * The redis service's command and healthcheck, run as the container would run them, with Debian's
 * redis-server (docker/apt-packages-test.txt): a shell script inside YAML is easy to get wrong
 * in ways no reading of the file shows.
 */

const redis = serviceOf(loadCompose(), 'redis');
const command = strings(redis.command);
const script = asContainerSees(command[2] ?? '');
const healthcheckTest = isYamlMap(redis.healthcheck) ? strings(redis.healthcheck.test) : [];
const healthcheck = asContainerSees(healthcheckTest[1] ?? '');

function which(name: string): string {
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  const path = found.stdout.trim();
  if (found.status !== 0 || path === '') throw new Error(`${name} is not installed`);
  return path;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

let dir: string;
let port: number;
/** PATH with redis-server and redis-cli wrapped to a free loopback port instead of 6379. */
let path: string;

beforeAll(async () => {
  expect(command.slice(0, 2)).toEqual(['sh', '-c']);
  expect(healthcheckTest[0]).toBe('CMD-SHELL');
  dir = mkdtempSync(join(tmpdir(), 'runbox-redis-command-'));
  port = await freePort();
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  // Options before the script's own: the trailing `-` (config from stdin) must stay last.
  const wrappers = {
    'redis-server': `exec ${which('redis-server')} --port ${port} --bind 127.0.0.1 "$@"`,
    'redis-cli': `exec ${which('redis-cli')} -p ${port} "$@"`,
  };
  for (const [name, body] of Object.entries(wrappers)) {
    writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  }
  path = `${bin}:${process.env.PATH ?? ''}`;
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** The service's healthcheck, as Docker runs CMD-SHELL; true when it passes. */
function healthy(password: string | undefined): boolean {
  const env: NodeJS.ProcessEnv = { PATH: path };
  if (password !== undefined) env.RUNBOX_REDIS_PASSWORD = password;
  return spawnSync('/bin/sh', ['-c', healthcheck], { env, cwd: dir }).status === 0;
}

function cli(password: string, ...args: string[]): string {
  return spawnSync('redis-cli', args, {
    env: { PATH: path, REDISCLI_AUTH: password },
    encoding: 'utf8',
  }).stdout.trim();
}

function startRedis(password: string | undefined): ChildProcess {
  const env: NodeJS.ProcessEnv = { PATH: path };
  if (password !== undefined) env.RUNBOX_REDIS_PASSWORD = password;
  // Its own process group, so that the end of a test can stop whatever the script started.
  return spawn('sh', ['-c', script], {
    env,
    cwd: dir,
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
}

function exited(child: ChildProcess): Promise<{ code: number | null; stderr: string }> {
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  // 'close', not 'exit': stderr may still hold the reason when the process has exited.
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stderr })));
}

describe('docker/compose.yaml: the redis service’s command', () => {
  it('serves with the password only, saves nothing, evicts nothing, and stops on SIGTERM', async () => {
    const password = randomBytes(24).toString('hex');
    const child = startRedis(password);
    const ended = exited(child);
    const pid = child.pid;
    if (pid === undefined) throw new Error('sh did not start');
    try {
      let up = false;
      for (let attempt = 0; attempt < 100 && !up; attempt += 1) {
        up = healthy(password);
        if (!up) await new Promise((done) => setTimeout(done, 100));
      }
      expect(up, 'the healthcheck passes once Redis is up').toBe(true);
      expect(healthy('wrong-password-of-some-length')).toBe(false);
      expect(healthy(undefined)).toBe(false);
      expect(cli('', 'ping')).toMatch(/NOAUTH/);
      expect(cli(password, 'config', 'get', 'save')).toBe('save');
      expect(cli(password, 'config', 'get', 'appendonly')).toBe('appendonly\nno');
      expect(cli(password, 'config', 'get', 'maxmemory-policy')).toBe(
        'maxmemory-policy\nnoeviction',
      );
      // The script execs Redis: the process Docker signals is Redis itself, and no command line
      // holds the password.
      expect(readFileSync(`/proc/${pid}/comm`, 'utf8').trim()).toBe('redis-server');
      expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).not.toContain(password);
    } finally {
      process.kill(-pid, 'SIGTERM');
    }
    const { code } = await ended;
    expect(code).toBe(0);
  });

  it.each([
    ['unset', undefined, /must be set/],
    ['empty', '', /must be set/],
    ['not URL-safe', 'abc def/ghi@jkl:mnop', /letters, digits/],
    ['too short', 'abc123', /at least 16/],
  ])(
    'refuses to start with a password %s, naming the variable',
    async (_what, password, reason) => {
      const { code, stderr } = await exited(startRedis(password));
      expect(code).toBe(1);
      expect(stderr).toMatch(/RUNBOX_REDIS_PASSWORD/);
      expect(stderr).toMatch(reason);
    },
  );
});
