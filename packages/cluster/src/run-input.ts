import { once } from 'node:events';
import { PassThrough, type Readable } from 'node:stream';
import type { ProgramControl, ProgramSignal } from '@runbox/executor';
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

const READ_BLOCK_MS = 1_000;
/** Entries taken at once: what this process holds at most while its program is slow to read. */
const READ_COUNT = 8;
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
  /** One entry on `stream`, which then lives a day past its last entry. */
  const addEntry = (stream: string, fields: (string | Buffer)[]) =>
    redis
      .multi()
      .xadd(stream, '*', ...fields)
      .expire(stream, EXPIRE_SECONDS);
  const append = (fields: (string | Buffer)[]): Promise<unknown> => {
    chain = chain
      .then(async () => {
        const answers = await addEntry(key, fields).xlen(key).exec();
        // The worker is behind (more than MAX_UNREAD_ENTRIES wait unread): wait until it is not.
        let unread = Number(answers?.[2]?.[1] ?? 0);
        while (!stopped && unread > MAX_UNREAD_ENTRIES) {
          await new Promise((resolve) => setTimeout(resolve, UNREAD_POLL_MS));
          unread = await redis.xlen(key);
        }
      })
      .catch(() => {});
    return chain;
  };
  if (stdin) {
    // One piece at a time: the engine's stdin holds the rest (and refuses more than 1 MiB
    // waiting) while a piece is on its way, or while the worker is behind.
    stdin.on('data', (chunk: Buffer | string) => {
      stdin.pause();
      void append([
        'op',
        'data',
        'data',
        typeof chunk === 'string' ? Buffer.from(chunk) : chunk,
      ]).then(() => {
        if (!stopped) stdin.resume();
      });
    });
    stdin.once('end', () => void append(['op', 'close']));
  }
  // Signals and resizes never wait behind input the program has not read (a Ctrl-C is most
  // needed then): they have a stream of their own, and go at once, in their own order.
  let controlChain: Promise<unknown> = Promise.resolve();
  const control = (fields: string[]): void => {
    controlChain = controlChain
      .then(() => addEntry(controlKeyOf(key), fields).exec())
      .catch(() => {});
  };
  return {
    program: () => ({
      signal(name) {
        control(['op', 'signal', 'signal', name]);
        return Promise.resolve(true);
      },
      control(line) {
        control(['op', 'control', 'line', line]);
        return true;
      },
    }),
    async stop() {
      stopped = true;
      stdin?.removeAllListeners('data');
      await Promise.all([chain, controlChain]);
      await redis.del(key, controlKeyOf(key)).catch(() => {});
    },
  };
}

/** The stream of a run's signals and control lines, beside its input's. */
function controlKeyOf(key: string): string {
  return `${key}:control`;
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
  const started: { program: ProgramControl | null } = { program: null };
  let stopped = false;
  let stopping: () => void = () => {};
  const stoppedNow = new Promise<void>((resolve) => {
    stopping = resolve;
  });
  /**
   * The program has not taken what it was given: wait until it has (or the run ends) before
   * reading more, so what waits stays in the stream, where the API counts it, not here.
   */
  const drained = (): Promise<void> =>
    Promise.race([once(stdin, 'drain').then(() => undefined), stoppedNow]);
  const readers: Redis[] = [];

  /** Reads one stream from its start until stop(), applying each entry; trims what it read. */
  const follow = async (stream: string, apply: (entry: InputOp) => Promise<void>) => {
    // Reading blocks: a connection of its own, closed at the end.
    const reader = connection.duplicate();
    reader.on('error', () => {});
    readers.push(reader);
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
          stream,
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
          if (entry) await apply(entry);
        }
      }
      // What is read goes: the API counts what is left to tell how far behind this reader is.
      if (answer) await connection.xtrim(stream, 'MINID', lastId).catch(() => 0);
    }
  };
  const loops = [
    follow(key, async (entry) => {
      if (entry.op === 'data' && !stdin.writableEnded) {
        if (!stdin.write(entry.data)) await drained();
      } else if (entry.op === 'close') stdin.end();
    }),
    follow(controlKeyOf(key), (entry) => {
      if (entry.op === 'signal') void started.program?.signal(entry.signal);
      else if (entry.op === 'control') started.program?.control(entry.line);
      return Promise.resolve();
    }),
  ];
  return {
    stdin,
    onProgram(program) {
      started.program = program;
    },
    async stop() {
      stopped = true;
      stopping();
      for (const reader of readers) reader.disconnect();
      await Promise.all(loops);
      if (!stdin.writableEnded) stdin.end();
    },
  };
}
