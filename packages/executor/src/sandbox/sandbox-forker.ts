import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants } from 'node:os';
import { connect, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/**
 * The forker (sandbox-forker.py): a small long-lived process that starts every sandbox on the
 * server's behalf and does the launcher's work in the child before it execs bwrap. A fork of the
 * server itself (~100 MB, copied page tables and all) held its event loop about 3 ms per run;
 * the forker's is a fraction of that, and the bash launcher and setpriv are gone from every start.
 */
export const FORKER_SCRIPT = fileURLToPath(new URL('./sandbox-forker.py', import.meta.url));

const PYTHON = '/usr/bin/python3';
const READY_TIMEOUT_MS = 10_000;
const CLOSE_TIMEOUT_MS = 2_000;

/** What the child does before it execs bwrap, in this order (see sandbox-forker.py). */
export interface LaunchSpec {
  /** RLIMIT_NOFILE, soft and hard. */
  openFiles: number;
  /** RLIMIT_FSIZE in bytes, soft and hard. */
  fileSizeBytes: number;
  /** cgroup files the child writes "0" (itself) into before it execs anything. */
  cgroupJoinFiles: readonly string[];
  /**
   * A project layer: a private mount namespace of the child's own, and `mount -t overlay
   * SOURCE TARGET -o OPTIONS` (nosuid, nodev) run in `dir`, with relative names.
   */
  layer: { dir: string; source: string; target: string; options: string } | null;
  /** Host uid and gid to become for good (no groups); null when the server is unprivileged. */
  runAs: { uid: number; gid: number } | null;
}

export interface ForkRequest {
  file: string;
  args: readonly string[];
  /** The whole environment of `file`. */
  env: Readonly<Record<string, string>>;
  /** Opened by the child at descriptor 3 (bwrap's --seccomp). */
  seccompFile: string;
  launch: LaunchSpec;
  /** A ready pipe at descriptor 5 (a warm sandbox's runner says it is loaded on it). */
  readyFd: boolean;
}

export class ForkerError extends Error {
  readonly code = 'FORKER';
  constructor(message: string) {
    super(`the sandbox forker: ${message}`);
    this.name = 'ForkerError';
  }
}

type Role = 'i' | 'o' | 'e' | 's' | 'r';

/**
 * A sandbox process the forker started: the part of a ChildProcess sandbox-run.ts reads. Its
 * streams are Unix socket connections the forker handed to the child as its descriptors, as
 * Node's own pipes are socketpairs. Its end is a promise, not an event: nothing is lost to a
 * listener added late.
 */
export class ForkedProcess {
  readonly pid: number;
  exitCode: number | null = null;
  signalCode: NodeJS.Signals | null = null;
  readonly stdin: Socket;
  readonly stdout: Socket;
  readonly stderr: Socket;
  readonly status: Socket;
  readonly ready: Socket | null;
  /** Settles once it has exited (and the forker has reaped it), or its forker ended. */
  readonly exited: Promise<void>;
  /** Settles once it has exited and every output stream has closed. */
  readonly closed: Promise<void>;
  #ended = false;
  #end: () => void = () => {};
  readonly #kill: (signal: number) => void;

  constructor(pid: number, streams: Record<Role, Socket | null>, kill: (signal: number) => void) {
    this.pid = pid;
    const required = (role: Role): Socket => {
      const socket = streams[role];
      if (!socket) throw new TypeError(`no ${role} stream`);
      return socket;
    };
    this.stdin = required('i');
    this.stdout = required('o');
    this.stderr = required('e');
    this.status = required('s');
    this.ready = streams.r;
    this.#kill = kill;
    // A reset or a broken pipe on a stream is the run's end showing, not a fault of ours: its
    // close is what counts, and an 'error' without a listener would take the server down.
    for (const socket of [this.stdin, this.stdout, this.stderr, this.status, this.ready])
      socket?.on('error', () => {});
    this.exited = new Promise<void>((resolve) => {
      this.#end = resolve;
    });
    const readable = [this.stdout, this.stderr, this.status, ...(this.ready ? [this.ready] : [])];
    this.closed = Promise.all([
      this.exited,
      ...readable.map(
        (socket) =>
          new Promise<void>((resolve) => {
            if (socket.closed) resolve();
            else socket.once('close', () => resolve());
          }),
      ),
    ]).then(() => undefined);
  }

  /** Whether it has exited. */
  get ended(): boolean {
    return this.#ended;
  }

  /** Sends it a signal through the forker, which signals only a child it has not reaped. */
  kill(signal: NodeJS.Signals = 'SIGTERM'): boolean {
    if (this.#ended) return false;
    this.#kill(constants.signals[signal]);
    return true;
  }

  /** @internal */
  didExit(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.#ended) return;
    this.#ended = true;
    this.exitCode = code;
    this.signalCode = signal;
    this.#end();
  }
}

interface ForkerProcess {
  child: ChildProcess;
  control: Socket;
  name: string;
  alive: boolean;
}

export interface SandboxForker {
  /** Starts one sandbox process: resolves once it is forked, with its pid and streams. */
  spawn(request: ForkRequest): Promise<ForkedProcess>;
  /** Ends the forker; every sandbox it started ends with it (bwrap --die-with-parent). */
  close(): Promise<void>;
}

const ROLES_OF = (readyFd: boolean): Role[] => [
  'i',
  'o',
  'e',
  's',
  ...(readyFd ? ['r' as const] : []),
];

/**
 * The forker, started now and again whenever it is found dead. Every connection a run's stream
 * needs is made to its abstract socket (no file on the host; the forker takes connections from
 * this process only), and announced by a 16-byte header: a token and the stream's role.
 */
export async function startSandboxForker(): Promise<SandboxForker> {
  let nextId = 1;
  let current: Promise<ForkerProcess> | null = null;
  let closed = false;

  /** Requests sent, waiting for their 'spawned' or 'failed'. */
  const starting = new Map<
    number,
    { resolve: (pid: number) => void; reject: (error: Error) => void }
  >();
  /** The processes handed out, until their 'exit'. */
  const live = new Map<number, ForkedProcess>();
  /** An 'exit' read before its process was handed out (the same read as its 'spawned'). */
  const exitedEarly = new Map<number, { code?: number | null; signal?: string | null }>();
  const onMessage = (line: string): void => {
    let message: {
      op: string;
      id?: number;
      pid?: number;
      error?: string;
      code?: number | null;
      signal?: string | null;
    };
    try {
      message = JSON.parse(line) as typeof message;
    } catch {
      return;
    }
    const id = message.id ?? 0;
    const waiting = starting.get(id);
    if (waiting && message.op === 'spawned' && typeof message.pid === 'number') {
      starting.delete(id);
      waiting.resolve(message.pid);
    } else if (waiting && message.op === 'failed') {
      starting.delete(id);
      waiting.reject(new ForkerError(message.error ?? 'the sandbox could not be started'));
    } else if (message.op === 'exit') {
      const proc = live.get(id);
      live.delete(id);
      proc?.didExit(message.code ?? null, (message.signal as NodeJS.Signals | null) ?? null);
      // Kept for the hand-out.
      if (!proc) exitedEarly.set(id, message);
    }
  };

  const start = (): Promise<ForkerProcess> =>
    new Promise<ForkerProcess>((resolve, reject) => {
      const name = `runbox-forker-${process.pid}-${randomBytes(6).toString('hex')}`;
      // Nothing of the server's environment. ProcessEnv, not the empty Record it is: Next's global
      // types (the web app type-checks this file again) make NODE_ENV required there.
      const child: ChildProcess = spawn(PYTHON, ['-I', '-S', FORKER_SCRIPT, name], {
        stdio: ['ignore', 'ignore', 'inherit', 'pipe'],
        env: {} as NodeJS.ProcessEnv,
        // A session of its own: what is sent to the server's process group (a terminal's Ctrl-C)
        // reaches neither it nor the sandboxes; the server ends runs its own way, then closes it.
        detached: true,
      });
      const control = child.stdio[3] as Socket;
      const forker: ForkerProcess = { child, control, name, alive: true };
      let ready = false;
      const timer = setTimeout(() => {
        if (!ready) {
          child.kill('SIGKILL');
          reject(new ForkerError('it did not start in time'));
        }
      }, READY_TIMEOUT_MS);
      const died = (): void => {
        if (!forker.alive) return;
        forker.alive = false;
        clearTimeout(timer);
        if (!ready) reject(new ForkerError(`it ended before it was ready (python3 at ${PYTHON})`));
        // Its sandboxes died with it (bwrap --die-with-parent): each says so; the next spawn
        // starts a new forker.
        for (const [id, waiting] of starting) {
          starting.delete(id);
          waiting.reject(new ForkerError('it ended'));
        }
        for (const [id, proc] of live) {
          live.delete(id);
          proc.didExit(null, 'SIGKILL');
        }
        if (current && !closed) current = null;
      };
      child.once('error', died);
      child.once('exit', died);
      control.on('error', () => {});
      control.once('close', died);
      createInterface({ input: control }).on('line', (line) => {
        if (!ready && line.includes('"ready"')) {
          ready = true;
          clearTimeout(timer);
          // Neither keeps the process alive: a run's own streams do while it runs.
          child.unref();
          control.unref();
          resolve(forker);
          return;
        }
        onMessage(line);
      });
    });

  const forker = (): Promise<ForkerProcess> => {
    current ??= start();
    const attempt = current;
    attempt.catch(() => {
      if (current === attempt) current = null;
    });
    return attempt;
  };
  await forker();

  return {
    async spawn(request) {
      if (closed) throw new ForkerError('it is closed');
      const running = await forker();
      const id = nextId++;
      const token = randomBytes(8).toString('hex').slice(0, 15);
      const roles = ROLES_OF(request.readyFd);
      const streams: Record<Role, Socket | null> = { i: null, o: null, e: null, s: null, r: null };
      const send = (message: object): void => {
        if (running.alive) running.control.write(`${JSON.stringify(message)}\n`);
      };
      const pid = new Promise<number>((resolve, reject) => {
        starting.set(id, { resolve, reject });
      });
      for (const role of roles) {
        const socket = connect({ path: `\0${running.name}` });
        // Queued before anything else written to it (stdin's data comes later).
        socket.write(`${token}${role}`);
        // A stream that cannot connect: the forker drops the others after its timeout.
        socket.once('error', (error) => {
          const waiting = starting.get(id);
          if (!waiting) return;
          starting.delete(id);
          waiting.reject(error);
        });
        streams[role] = socket;
      }
      send({
        op: 'spawn',
        id,
        token,
        roles,
        seccomp: request.seccompFile,
        file: request.file,
        args: request.args,
        env: request.env,
        launch: request.launch,
      });
      if (!running.alive) {
        starting.delete(id);
        for (const socket of Object.values(streams)) socket?.destroy();
        throw new ForkerError('it ended');
      }
      let started: number;
      try {
        started = await pid;
      } catch (error) {
        for (const socket of Object.values(streams)) socket?.destroy();
        throw error;
      }
      const proc = new ForkedProcess(started, streams, (signal) =>
        send({ op: 'kill', id, signal }),
      );
      const early = exitedEarly.get(id);
      exitedEarly.delete(id);
      if (early) proc.didExit(early.code ?? null, (early.signal as NodeJS.Signals | null) ?? null);
      else live.set(id, proc);
      return proc;
    },
    async close() {
      closed = true;
      const running = await current?.catch(() => null);
      if (!running?.alive) return;
      const exited = new Promise<void>((resolve) => running.child.once('exit', () => resolve()));
      running.child.ref();
      running.control.end();
      const timer = setTimeout(() => running.child.kill('SIGKILL'), CLOSE_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}
