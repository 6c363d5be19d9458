import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { DATABASE_FILE_NAME } from '../../src/store/index.ts';
import { ADMIN_TOKEN, REPO_ROOT } from './server.ts';

/** TEST SCAFFOLDING: a runbox server in a child process (support/serve.ts). */

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  /** stdout and stderr so far. */
  output(): string;
  /** SIGTERM, then the exit code (null if it died of a signal). */
  terminate(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL, no goodbye. */
  kill(): Promise<void>;
}

export interface ServerProcessOptions {
  dataDir: string;
  sandboxDir: string;
  sandboxUid: number;
  cgroupGroup: string;
  env?: Record<string, string>;
}

export async function startServerProcess(options: ServerProcessOptions): Promise<ServerProcess> {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'packages/api/test/support/serve.ts')], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/root',
      PORT: '1',
      HOST: '127.0.0.1',
      RUNBOX_DATA_DIR: options.dataDir,
      RUNBOX_ADMIN_TOKEN: ADMIN_TOKEN,
      RUNBOX_WEB: 'none',
      RUNBOX_SANDBOX_DIR: options.sandboxDir,
      RUNBOX_SANDBOX_UID: String(options.sandboxUid),
      RUNBOX_TEST_CGROUP_GROUP: options.cgroupGroup,
      RUNBOX_SHUTDOWN_DEADLINE_MS: '1000',
      // Off unless a test asks: tests prove a run left nothing by counting the sandbox uid's
      // processes, and waiting warm sandboxes are that uid's too. Warm sandboxes have their
      // own tests (and the hostile suites run through them).
      RUNBOX_WARM_SANDBOXES: '0',
      NODE_ENV: 'test',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      text += chunk.toString('utf8');
      const match = /^SERVING (http:\/\/\S+)$/m.exec(text);
      if (match?.[1]) resolve(match[1]);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    void exited.then(([code, signal]) =>
      reject(new Error(`the server exited (${code ?? signal}) before serving:\n${text}`)),
    );
    setTimeout(
      () => reject(new Error(`the server did not start in 20 s:\n${text}`)),
      20_000,
    ).unref();
  });
  return {
    child,
    url,
    output: () => text,
    async terminate() {
      child.kill('SIGTERM');
      const [code, signal] = await exited;
      return { code, signal };
    },
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** The highest stored seq of a run, read from the server's SQLite file (another process's). */
export function storedLastSeq(dataDir: string, runId: string): number {
  const db = new DatabaseSync(join(dataDir, DATABASE_FILE_NAME), { readOnly: true });
  try {
    const row = db.prepare('SELECT MAX(seq) AS seq FROM run_events WHERE run_id = ?').get(runId);
    return typeof row?.seq === 'number' ? row.seq : 0;
  } finally {
    db.close();
  }
}
