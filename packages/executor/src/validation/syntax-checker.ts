import { randomUUID } from 'node:crypto';
import { PassThrough } from 'node:stream';
import type { Language } from '../languages/index.ts';
import { runInSandbox, type RunPhase } from '../run-path/run-in-sandbox.ts';
import { coldSandboxes } from '../run-path/sandbox-source.ts';
import { baseSandboxEnv } from '../sandbox/sandbox-environment.ts';
import type { SandboxHost } from '../sandbox/sandbox-host.ts';
import type { EndState } from '../run-state.ts';
import { SYNTAX_CHECKER_LIMITS, syntaxCheckerArgv } from './syntax-checker-command.ts';
import {
  CheckReplyReader,
  encodeCheckRequest,
  type CheckReply,
} from './syntax-checker-protocol.ts';

/** What one check of one checker came to. */
export type CheckerAnswer =
  | { readonly kind: 'reply'; readonly reply: CheckReply }
  /** No reply in time: the checker is being killed. */
  | { readonly kind: 'timed-out' }
  /** The checker ended, or broke the protocol, before it replied. */
  | { readonly kind: 'lost'; readonly reason: string };

/** How a checker ended. */
export interface CheckerEnd {
  readonly state: EndState;
  /** It greeted: the program started and read requests. False: it never got that far. */
  readonly started: boolean;
  /** Its own stderr's end (Python's or Node's complaint when it died), for the log. */
  readonly stderrTail: string;
}

/** One long-lived checker: a sandboxed program that answers one check at a time. */
export interface SyntaxChecker {
  readonly language: Language;
  readonly startedAt: number;
  /** Checks it has answered. */
  readonly answered: number;
  /** Bytes it has written (every reply of its life counts against its output limit). */
  readonly outputBytes: number;
  /** Memory of its whole sandbox at the last sample; 0 before the first. */
  readonly memoryBytes: number;
  /** False once it ended, broke, timed out or was told to stop: it takes no more checks. */
  readonly usable: boolean;
  /** A check is in flight. */
  readonly busy: boolean;
  /** Settles when its sandbox is gone (workspace released, cgroup removed). */
  readonly ended: Promise<CheckerEnd>;
  /** Sends one check. Only when usable and not busy. */
  check(code: string, timeoutMs: number): Promise<CheckerAnswer>;
  /** Closes its stdin (it exits), kills it after a grace; resolves when its sandbox is gone. */
  stop(): Promise<void>;
}

/** Asked while busy or gone: the pool tries another. Never leaves this module. */
class CheckerBusyError extends Error {
  constructor(language: Language) {
    super(`the ${language} syntax checker has a check in flight or takes no more`);
    this.name = 'CheckerBusyError';
  }
}

/** A checker told to stop gets this long to exit on its own (end of stdin) before the kill. */
const STOP_GRACE_MS = 2_000;
/** How often its cgroup's memory is read, for the pool's memory bound. */
const USAGE_INTERVAL_MS = 1_000;
const STDERR_TAIL_CHARS = 2_048;

interface InFlight {
  resolve(answer: CheckerAnswer): void;
  timer: NodeJS.Timeout;
}

/**
 * Starts the checker for `language` through the one run path (runInSandbox): a sandbox like any
 * run's, its program reading requests on stdin for as long as the pool keeps it. The snippet is
 * parsed in there and nowhere else.
 */
export function startSyntaxChecker(
  host: SandboxHost,
  language: Language,
  options: { onInternalError?: ((error: unknown, phase: RunPhase) => void) | undefined } = {},
): SyntaxChecker {
  const stdin = new PassThrough();
  const abort = new AbortController();
  const reader = new CheckReplyReader();
  const startedAt = Date.now();
  let greeted = false;
  let usable = true;
  let inFlight: InFlight | null = null;
  let answered = 0;
  let outputBytes = 0;
  let memoryBytes = 0;
  let stderrTail = '';

  const settle = (answer: CheckerAnswer): void => {
    const pending = inFlight;
    if (!pending) return;
    inFlight = null;
    clearTimeout(pending.timer);
    if (answer.kind === 'reply') answered += 1;
    pending.resolve(answer);
  };
  /** The checker can no longer be trusted with a check: it goes, and its check is lost. */
  const discard = (reason: string): void => {
    usable = false;
    settle({ kind: 'lost', reason });
    abort.abort();
  };

  const onStdout = (chunk: Buffer): void => {
    let replies: CheckReply[];
    try {
      replies = reader.push(chunk);
    } catch (error) {
      discard(error instanceof Error ? error.message : String(error));
      return;
    }
    for (const reply of replies) {
      if (!greeted) {
        greeted = true;
        continue;
      }
      if (!inFlight) {
        discard('a reply nobody asked for');
        return;
      }
      // It ends on its own after this one: no check may be sent to it meanwhile.
      if (reply.last) usable = false;
      settle({ kind: 'reply', reply });
    }
  };

  const ended = runInSandbox(host, {
    runId: `syntax-checker-${language}-${randomUUID()}`,
    limits: SYNTAX_CHECKER_LIMITS,
    // A uid of their own: a checker outlives every run, and must never pass for a run's leftover.
    source: coldSandboxes(host, host.checkerRunAs),
    prepare: () => Promise.resolve({ argv: syntaxCheckerArgv(language), env: baseSandboxEnv() }),
    stdin,
    signal: abort.signal,
    usageIntervalMs: USAGE_INTERVAL_MS,
    onUsage: (usage) => {
      memoryBytes = usage.currentMemoryBytes;
    },
    onOutput: (stream, chunk) => {
      outputBytes += chunk.length;
      if (stream === 'stdout') onStdout(chunk);
      else stderrTail = (stderrTail + chunk.toString('utf8')).slice(-STDERR_TAIL_CHARS);
    },
    onInternalError: options.onInternalError,
  }).then(
    (outcome): CheckerEnd => {
      usable = false;
      const why = outcome.failure ?? stderrTail.trim();
      settle({
        kind: 'lost',
        reason: `the checker ended (${outcome.state})${why ? `: ${why}` : ''}`,
      });
      stdin.destroy();
      return { state: outcome.state, started: greeted, stderrTail };
    },
    // runInSandbox reports, it does not throw; this is for the unexpected.
    (error: unknown): CheckerEnd => {
      usable = false;
      settle({ kind: 'lost', reason: error instanceof Error ? error.message : String(error) });
      stdin.destroy();
      return { state: 'error', started: greeted, stderrTail };
    },
  );

  return {
    language,
    startedAt,
    get answered() {
      return answered;
    },
    get outputBytes() {
      return outputBytes;
    },
    get memoryBytes() {
      return memoryBytes;
    },
    get usable() {
      return usable;
    },
    get busy() {
      return inFlight !== null;
    },
    ended,
    check(code, timeoutMs) {
      if (!usable || inFlight) return Promise.reject(new CheckerBusyError(language));
      return new Promise<CheckerAnswer>((resolve) => {
        const timer = setTimeout(() => {
          usable = false;
          settle({ kind: 'timed-out' });
          abort.abort();
        }, timeoutMs);
        inFlight = { resolve, timer };
        stdin.write(encodeCheckRequest(code));
      });
    },
    async stop() {
      usable = false;
      if (!stdin.destroyed) stdin.end();
      const grace = setTimeout(() => abort.abort(), STOP_GRACE_MS);
      try {
        await ended;
      } finally {
        clearTimeout(grace);
      }
    },
  };
}
