import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

export interface TestRedis {
  url: string;
  /** The URL with another host (one of the addresses it also listens on). */
  urlVia(host: string): string;
  port: number;
  password: string;
  /** Stops and starts it again on the same port: with no persistence, everything is gone. */
  restart(): Promise<void>;
  stop(): Promise<void>;
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

function launch(port: number, password: string, bind: readonly string[]): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      ...bind,
      '--save',
      '',
      '--appendonly',
      'no',
      '--requirepass',
      password,
      // BullMQ refuses to run on a Redis that may evict its keys.
      '--maxmemory-policy',
      'noeviction',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  // A test process that dies without its afterAll takes its Redis with it.
  const orphanGuard = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', orphanGuard);
  child.once('exit', () => process.removeListener('exit', orphanGuard));
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`redis-server did not start in 10 s:\n${output}`));
    }, 10_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with ${code}:\n${output}`));
    });
  });
}

function halt(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/**
 * A real Redis (Debian's redis-server) for one test file: on a free loopback port, with a
 * password and no persistence, killed at the end. BullMQ's Lua scripts need the real server.
 */
/** `alsoBind`: addresses besides 127.0.0.1 to listen on (a veth of a test's network namespace). */
export async function startTestRedis(options: { alsoBind?: string[] } = {}): Promise<TestRedis> {
  const bind = ['127.0.0.1', ...(options.alsoBind ?? [])];
  const port = await freePort();
  const password = `test-${Math.random().toString(36).slice(2)}`;
  let child = await launch(port, password, bind);
  return {
    url: `redis://:${password}@127.0.0.1:${port}/0`,
    urlVia: (host) => `redis://:${password}@${host}:${port}/0`,
    port,
    password,
    async restart() {
      await halt(child);
      child = await launch(port, password, bind);
    },
    stop: () => halt(child),
  };
}
