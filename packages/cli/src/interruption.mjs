// @ts-check
import { EXIT } from './exit-codes.mjs';

/** @import { CommandContext } from './context.mjs' */

/**
 * What Ctrl-C (SIGINT) does while a command runs. Before there is a run, the CLI just exits; while
 * the run is being created, the Ctrl-C is remembered (the run is cancelled once its id is known);
 * once there is a run, the handler cancels it and the CLI waits for its end. A second Ctrl-C
 * exits at once. The exit code is 130 every time.
 */
export class Interruption {
  #context;
  #count = 0;
  /** @type {'exit' | 'defer' | (() => void)} */
  #action = 'exit';
  #listener = () => this.#onSignal();

  /** @param {CommandContext} context */
  constructor(context) {
    this.#context = context;
    context.signals.on('SIGINT', this.#listener);
  }

  get interrupted() {
    return this.#count > 0;
  }

  /** From now on a Ctrl-C is only remembered (the caller checks `interrupted`). */
  defer() {
    this.#action = 'defer';
  }

  /**
   * From now on a Ctrl-C calls `handler`; called at once if one came while deferred.
   * @param {() => void} handler
   */
  handleWith(handler) {
    this.#action = handler;
    if (this.#count > 0) handler();
  }

  dispose() {
    this.#context.signals.off('SIGINT', this.#listener);
  }

  #onSignal() {
    this.#count++;
    const action = this.#action;
    if (this.#count > 1 || action === 'exit') {
      this.#context.exit(EXIT.cancelled);
      return;
    }
    if (action !== 'defer') action();
  }
}
