import { PassThrough, type Readable } from 'node:stream';
import type { ProgramControl, ProgramSignal, RunRecord } from '@runbox/executor';
import type { Redis } from 'ioredis';

/**
 * An interactive run's input across processes: the API appends what the client sends (stdin
 * data, its end, signals, a tty's resizes) to the run's own Redis stream, in order; the worker
 * that runs it reads the stream from its start and applies each entry to its program. Input sent
 * before a worker took the run waits in the stream. The stream goes when the run ends (and
 * expires after a day in any case).
 */

/** One entry: field `op`, and `data` (stdin bytes), `signal` or `line` (a control line). */
type InputOp =
  | { op: 'data'; data: Buffer }
  | { op: 'close' }
  | { op: 'signal'; signal: ProgramSignal }
  | { op: 'control'; line: string };

const EXPIRE_SECONDS = 24 * 3600;

/** Runs whose stdin stays open: created `interactive`, or on a terminal. */
export function isInteractive(record: { request: RunRecord['request'] }): boolean {
  const request = record.request;
  return request.kind === 'snippet' && (request.interactive === true || request.tty !== undefined);
}
const READ_BLOCK_MS = 1_000;
const READ_COUNT = 256;
/**
 * Entries the worker has not read yet, at most: past it the API stops taking the engine's stdin,
 * which then holds what comes (and refuses more than 1 MiB waiting, as in one process).
 */
const MAX_UNREAD_ENTRIES = 64;
const UNREAD_POLL_MS = 100;

/**
 * The API's side: the engine's stdin of the run (what Executor.sendInput writes) goes to the
 * stream as it comes; `program()` is the ProgramControl the engine gets once a worker has the run.
 */
export function sendRunInput(
  redis: Redis,
  key: string,
  stdin: Readable | undefined,
): { program(): ProgramControl; stop(): Promise<void> } {
  let chain: Promise<unknown> = Promise.resolve();
  let stopped = false;
  /** Holds the stdin while the worker is behind; goes on once it has read enough. */
  const waitForReader = async (): Promise<void> => {
    stdin?.pause();
    try {
      while (!stopped && (await redis.xlen(key)) > MAX_UNREAD_ENTRIES)
        await new Promise((resolve) => setTimeout(resolve, UNREAD_POLL_MS));
    } finally {
      stdin?.resume();
    }
  };
  const append = (fields: (string | Buffer)[]): void => {
    chain = chain
      .then(async () => {
        const answers = await redis
          .multi()
          .xadd(key, '*', ...fields)
          .expire(key, EXPIRE_SECONDS)
          .xlen(key)
          .exec();
        const unread = Number(answers?.[2]?.[1] ?? 0);
        if (unread > MAX_UNREAD_ENTRIES) await waitForReader();
      })
      .catch(() => {});
  };
  if (stdin) {
    stdin.on('data', (chunk: Buffer | string) =>
      append(['op', 'data', 'data', typeof chunk === 'string' ? Buffer.from(chunk) : chunk]),
    );
    stdin.once('end', () => append(['op', 'close']));
  }
  return {
    program: () => ({
      signal(name) {
        append(['op', 'signal', 'signal', name]);
        return Promise.resolve(true);
      },
      control(line) {
        append(['op', 'control', 'line', line]);
        return true;
      },
    }),
    async stop() {
      stopped = true;
      stdin?.removeAllListeners('data');
      await chain;
      await redis.del(key).catch(() => {});
    },
  };
}

function parseEntry(fields: (string | Buffer)[]): InputOp | null {
  const map = new Map<string, Buffer>();
  for (let index = 0; index + 1 < fields.length; index += 2)
    map.set(String(fields[index]), Buffer.from(fields[index + 1] ?? ''));
  const op = map.get('op')?.toString();
  if (op === 'data') return { op, data: map.get('data') ?? Buffer.alloc(0) };
  if (op === 'close') return { op };
  const signal = map.get('signal')?.toString();
  if (op === 'signal' && (signal === 'SIGINT' || signal === 'SIGTERM')) return { op, signal };
  if (op === 'control') return { op, line: map.get('line')?.toString() ?? '' };
  return null;
}

/**
 * The worker's side: a stdin for the run, fed from the stream until `stop()`, and the program's
 * signals and control lines applied once it has started (before that they are dropped, as the
 * engine's are: a signal reaches only a running program). `connection` is the worker's own;
 * reading blocks, so a duplicate of it is used and closed at the end.
 */
export function receiveRunInput(
  connection: Redis,
  key: string,
): { stdin: PassThrough; onProgram(program: ProgramControl): void; stop(): Promise<void> } {
  const stdin = new PassThrough();
  const reader = connection.duplicate();
  reader.on('error', () => {});
  const started: { program: ProgramControl | null } = { program: null };
  let stopped = false;
  const loop = (async () => {
    let lastId = '0';
    while (!stopped) {
      let answer: [string, [string, Buffer[]][]][] | null;
      try {
        answer = (await reader.xreadBuffer(
          'COUNT',
          READ_COUNT,
          'BLOCK',
          READ_BLOCK_MS,
          'STREAMS',
          key,
          lastId,
        )) as [string, [string, Buffer[]][]][] | null;
      } catch {
        if (stopped) return;
        await new Promise((resolve) => setTimeout(resolve, 200));
        continue;
      }
      for (const [, entries] of answer ?? []) {
        for (const [id, fields] of entries) {
          lastId = id.toString();
          const entry = parseEntry(fields);
          if (!entry) continue;
          if (entry.op === 'data' && !stdin.writableEnded) stdin.write(entry.data);
          else if (entry.op === 'close') stdin.end();
          else if (entry.op === 'signal') void started.program?.signal(entry.signal);
          else if (entry.op === 'control') started.program?.control(entry.line);
        }
      }
      // What is read goes: the API counts what is left to tell how far behind this reader is.
      if (answer) await connection.xtrim(key, 'MINID', lastId).catch(() => 0);
    }
  })();
  return {
    stdin,
    onProgram(program) {
      started.program = program;
    },
    async stop() {
      stopped = true;
      reader.disconnect();
      await loop;
      if (!stdin.writableEnded) stdin.end();
    },
  };
}
