import { LANGUAGES, type Language } from '../languages/index.ts';
import type { RunPhase } from '../run-path/run-in-sandbox.ts';
import type { SandboxHost } from '../sandbox/sandbox-host.ts';
import { SYNTAX_CHECKER_LIMITS } from './syntax-checker-command.ts';
import { startSyntaxChecker, type CheckerAnswer, type SyntaxChecker } from './syntax-checker.ts';

/** What the pool says of one snippet. */
export type PoolAnswer =
  | { readonly verdict: 'ok' }
  /** The checker's stderr, as the one-shot check prints it (syntaxCheckError reads it). */
  | { readonly verdict: 'syntax-error'; readonly stderr: string }
  /** The check could not decide, as the one-shot check could not: the run goes on. */
  | { readonly verdict: 'undecided'; readonly reason: string }
  /** No checker could answer (it died in the check, none could start, all stayed busy). */
  | { readonly verdict: 'unavailable'; readonly reason: string };

export interface SyntaxCheckerPoolOptions {
  /** Checks a checker answers before it is replaced. @default 500 */
  maxChecksPerChecker?: number;
  /** Checkers at once per language; a check waits for one beyond that. @default 2 */
  checkersPerLanguage?: number;
  /** A check with no answer by then is undecided, and its checker killed. @default 10000 */
  checkTimeoutMs?: number;
  /** A check that found every checker busy for this long is unavailable. @default 1000 */
  queueWaitMs?: number;
  /** A checker with no check for this long ends. @default 60000 */
  idleMs?: number;
  /** A checker whose sandbox uses more memory than this is replaced. @default 128 MiB */
  memoryBoundBytes?: number;
  /** A checker this old is replaced, long before its wall time ends. @default wall time - 60 s */
  maxAgeMs?: number;
  /** After a checker failed to start, none of its language starts for this long. @default 30000 */
  startBackoffMs?: number;
  /** A checker's failure, for the log: it died in a check, broke the protocol, did not start. */
  onCheckerError?: ((language: Language, error: Error) => void) | undefined;
  /** runbox's own failures in a checker's sandbox (claim, start), as runInSandbox reports them. */
  onInternalError?: ((error: unknown, phase: RunPhase) => void) | undefined;
}

export interface CheckerStats {
  /** Checkers started since the pool was made. */
  readonly started: number;
  /** Checkers alive now. */
  readonly live: number;
  /** Checks answered by a checker. */
  readonly answered: number;
  /** Memory of the live checkers' sandboxes, at their last samples. */
  readonly memoryBytes: number;
}

/** Long-lived sandboxed syntax checkers, started when first needed, per language. */
export interface SyntaxCheckerPool {
  check(language: Language, code: string): Promise<PoolAnswer>;
  stats(): Readonly<Record<Language, CheckerStats>>;
  /** Ends every checker and answers every waiting check `unavailable`; later checks too. */
  close(): Promise<void>;
}

/** Handed to `onCheckerError` for the log only; never reaches a caller or the wire. */
class CheckerFailedError extends Error {
  readonly code = 'SYNTAX_CHECKER_FAILED';
  constructor(language: Language, reason: string) {
    super(`the ${language} syntax checker failed: ${reason}`);
    this.name = 'CheckerFailedError';
  }
}

/** The one-shot check's output limit: stderr longer than this left it undecided. */
export const CHECK_OUTPUT_BYTES = 64 * 1024;
/** A checker that has written this much is replaced before its output limit can end it. */
const OUTPUT_BUDGET_BYTES = SYNTAX_CHECKER_LIMITS.outputBytes / 2;

interface Waiter {
  code: string;
  resolve(answer: PoolAnswer): void;
  timer: NodeJS.Timeout;
}

interface Lane {
  readonly language: Language;
  readonly live: Set<SyntaxChecker>;
  readonly idle: Map<SyntaxChecker, NodeJS.Timeout>;
  readonly waiting: Waiter[];
  started: number;
  answered: number;
  noStartUntil: number;
}

/** The one-shot check's meaning of a reply (syntax-check.ts: state `failed` with a report). */
function verdictOf(language: Language, answer: CheckerAnswer): PoolAnswer {
  if (answer.kind === 'timed-out') return { verdict: 'undecided', reason: 'the check timed out' };
  if (answer.kind === 'lost') return { verdict: 'unavailable', reason: answer.reason };
  const { status, stderr } = answer.reply;
  if (stderr.length > CHECK_OUTPUT_BYTES)
    return { verdict: 'undecided', reason: 'the check printed more than its output limit' };
  if (status === 0) return { verdict: 'ok' };
  // Killed by a signal (bash -n by the OOM killer, say): the one-shot check's sandbox would have
  // told why; it is asked instead.
  if (status >= 128)
    return { verdict: 'unavailable', reason: `the ${language} check died (status ${status})` };
  return { verdict: 'syntax-error', stderr: stderr.toString('utf8') };
}

export function createSyntaxCheckerPool(
  host: SandboxHost,
  options: SyntaxCheckerPoolOptions = {},
): SyntaxCheckerPool {
  const maxChecks = options.maxChecksPerChecker ?? 500;
  const perLanguage = options.checkersPerLanguage ?? 2;
  const checkTimeoutMs = options.checkTimeoutMs ?? 10_000;
  const queueWaitMs = options.queueWaitMs ?? 1_000;
  const idleMs = options.idleMs ?? 60_000;
  const memoryBound = options.memoryBoundBytes ?? 128 * 1024 * 1024;
  const maxAgeMs = options.maxAgeMs ?? SYNTAX_CHECKER_LIMITS.wallTimeMs - 60_000;
  const startBackoffMs = options.startBackoffMs ?? 30_000;
  let closed = false;

  const lanes = new Map<Language, Lane>(
    LANGUAGES.map((language) => [
      language,
      {
        language,
        live: new Set(),
        idle: new Map(),
        waiting: [],
        started: 0,
        answered: 0,
        noStartUntil: 0,
      },
    ]),
  );
  const laneOf = (language: Language): Lane => {
    const lane = lanes.get(language);
    if (!lane) throw new TypeError(`no syntax checker for ${language}`);
    return lane;
  };

  const report = (language: Language, reason: string): void => {
    options.onCheckerError?.(language, new CheckerFailedError(language, reason));
  };

  /** Replaced rather than given another check: old, big, talkative or spent. */
  const worn = (checker: SyntaxChecker): boolean =>
    !checker.usable ||
    checker.answered >= maxChecks ||
    checker.memoryBytes > memoryBound ||
    checker.outputBytes > OUTPUT_BUDGET_BYTES ||
    Date.now() - checker.startedAt > maxAgeMs;

  function retire(lane: Lane, checker: SyntaxChecker): void {
    clearTimeout(lane.idle.get(checker));
    lane.idle.delete(checker);
    void checker.stop();
  }

  function start(lane: Lane): SyntaxChecker {
    const checker = startSyntaxChecker(host, lane.language, {
      onInternalError: options.onInternalError,
    });
    lane.started += 1;
    lane.live.add(checker);
    void checker.ended.then((end) => {
      lane.live.delete(checker);
      clearTimeout(lane.idle.get(checker));
      lane.idle.delete(checker);
      if (!end.started && !closed) {
        // It never read a request: the next would fail the same way. The one-shot check
        // decides meanwhile.
        lane.noStartUntil = Date.now() + startBackoffMs;
        report(lane.language, `it did not start (${end.state}): ${end.stderrTail.trim()}`);
      }
      dispatch(lane);
    });
    return checker;
  }

  function park(lane: Lane, checker: SyntaxChecker): void {
    const timer = setTimeout(() => retire(lane, checker), idleMs);
    timer.unref();
    lane.idle.set(checker, timer);
  }

  function run(lane: Lane, checker: SyntaxChecker, waiter: Waiter): void {
    clearTimeout(waiter.timer);
    clearTimeout(lane.idle.get(checker));
    lane.idle.delete(checker);
    void checker.check(waiter.code, checkTimeoutMs).then(
      (answer) => {
        if (answer.kind === 'reply') lane.answered += 1;
        else if (answer.kind === 'lost' || answer.kind === 'timed-out')
          report(lane.language, answer.kind === 'lost' ? answer.reason : 'a check timed out');
        waiter.resolve(verdictOf(lane.language, answer));
        if (worn(checker) || closed) retire(lane, checker);
        else park(lane, checker);
        dispatch(lane);
      },
      (error: unknown) => {
        waiter.resolve({
          verdict: 'unavailable',
          reason: error instanceof Error ? error.message : String(error),
        });
        retire(lane, checker);
        dispatch(lane);
      },
    );
  }

  /** Hands waiting checks to idle checkers, starting checkers while there is room. */
  function dispatch(lane: Lane): void {
    while (lane.waiting.length > 0) {
      let checker: SyntaxChecker | undefined;
      for (const candidate of lane.idle.keys()) {
        if (worn(candidate)) {
          retire(lane, candidate);
          continue;
        }
        checker = candidate;
        break;
      }
      if (!checker) {
        // Stopping ones count until they are gone: never more sandboxes than the bound.
        if (closed || lane.live.size >= perLanguage) return;
        if (Date.now() < lane.noStartUntil) {
          for (const waiter of lane.waiting.splice(0)) {
            clearTimeout(waiter.timer);
            waiter.resolve({ verdict: 'unavailable', reason: 'the checker does not start' });
          }
          return;
        }
        checker = start(lane);
      }
      const waiter = lane.waiting.shift();
      if (waiter) run(lane, checker, waiter);
    }
  }

  return {
    check(language, code) {
      const lane = laneOf(language);
      if (closed) return Promise.resolve({ verdict: 'unavailable', reason: 'the pool is closed' });
      return new Promise<PoolAnswer>((resolve) => {
        const waiter: Waiter = {
          code,
          resolve,
          timer: setTimeout(() => {
            const index = lane.waiting.indexOf(waiter);
            if (index < 0) return;
            lane.waiting.splice(index, 1);
            resolve({ verdict: 'unavailable', reason: 'every checker stayed busy' });
          }, queueWaitMs),
        };
        lane.waiting.push(waiter);
        dispatch(lane);
      });
    },

    stats() {
      const stats = {} as Record<Language, CheckerStats>;
      for (const [language, lane] of lanes) {
        stats[language] = {
          started: lane.started,
          live: lane.live.size,
          answered: lane.answered,
          memoryBytes: [...lane.live].reduce((sum, checker) => sum + checker.memoryBytes, 0),
        };
      }
      return stats;
    },

    async close() {
      closed = true;
      const endings: Promise<unknown>[] = [];
      for (const lane of lanes.values()) {
        for (const waiter of lane.waiting.splice(0)) {
          clearTimeout(waiter.timer);
          waiter.resolve({ verdict: 'unavailable', reason: 'the pool is closed' });
        }
        for (const checker of lane.live) {
          clearTimeout(lane.idle.get(checker));
          endings.push(checker.stop());
        }
        lane.idle.clear();
      }
      await Promise.allSettled(endings);
    },
  };
}
