import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeCgroupGroup } from '../../../api/test/support/server.ts';
import { startServerProcess, type ServerProcess } from '../../../api/test/support/subprocess.ts';

/** TEST SCAFFOLDING: a real runbox server process for the CLI to talk to, with one API key. */

export const API_KEY = 'cli-test-key-0123456789abcdefghij';

export interface CliTestServer {
  process: ServerProcess;
  url: string;
  /** One REST call with the API key; the body as JSON. */
  rest(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }>;
  stop(): Promise<void>;
}

/**
 * Starts the server on its own data and sandbox directories, with the sandbox uid given (claimed
 * by the test file: test-uid.ts) and anonymous use off, so every call needs the key.
 */
export async function startCliTestServer(
  name: string,
  sandboxUid: number,
  env: Record<string, string> = {},
): Promise<CliTestServer> {
  const dataDir = await mkdtemp(join(tmpdir(), `runbox-cli-${name}-data-`));
  const sandboxDir = await mkdtemp(join(tmpdir(), `runbox-cli-${name}-sandbox-`));
  const cgroupGroup = `runbox-cli-test-${name}-${randomBytes(3).toString('hex')}`;
  const cleanUp = async (): Promise<void> => {
    await removeCgroupGroup(cgroupGroup);
    await rm(dataDir, { recursive: true, force: true });
    await rm(sandboxDir, { recursive: true, force: true });
  };
  let server: ServerProcess;
  try {
    server = await startServerProcess({
      dataDir,
      sandboxDir,
      sandboxUid,
      cgroupGroup,
      env: { RUNBOX_API_KEYS: `cli:${API_KEY}`, RUNBOX_ANONYMOUS: 'off', ...env },
    });
  } catch (error) {
    await cleanUp();
    throw error;
  }
  return {
    process: server,
    url: server.url,
    async rest(method, path, body) {
      const response = await fetch(`${server.url}/api/v1${path}`, {
        method,
        headers: {
          authorization: `Bearer ${API_KEY}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await response.text();
      return { status: response.status, json: text === '' ? null : (JSON.parse(text) as unknown) };
    },
    async stop() {
      // SIGTERM: a server that stops cleanly unmounts its workspaces.
      if (server.child.exitCode === null && server.child.signalCode === null)
        await server.terminate();
      await cleanUp();
    },
  };
}
