/**
 * Keystrokes for a run's terminal, sent in order and batched: one send is in flight at a time,
 * and what is typed meanwhile goes out together in the next one. Typing at any speed costs at
 * most one request per round trip, with no delay added to the first key.
 */

/** The most characters in one send: the server takes at most 1 MiB of UTF-8 at a time. */
export const MAX_INPUT_CHUNK = 64 * 1024;

export interface InputBatcherOptions {
  /** Sends one batch; rejects when the server refuses it. */
  send: (data: string) => Promise<unknown>;
  /** A batch was refused (input closed, run ended): it is dropped, later ones are still tried. */
  onError: (error: unknown) => void;
  /** A batch was taken. */
  onSent?: () => void;
  maxChunk?: number;
}

/** Cuts at most `max` characters off the front, never between the halves of a surrogate pair. */
export function takeChunk(text: string, max: number): [string, string] {
  if (text.length <= max) return [text, ''];
  let cut = max;
  const last = text.charCodeAt(cut - 1);
  if (cut > 1 && last >= 0xd800 && last <= 0xdbff) cut -= 1;
  return [text.slice(0, cut), text.slice(cut)];
}

export class InputBatcher {
  private pending = '';
  private sending: Promise<void> | null = null;
  private readonly maxChunk: number;
  private readonly options: InputBatcherOptions;

  constructor(options: InputBatcherOptions) {
    this.options = options;
    this.maxChunk = options.maxChunk ?? MAX_INPUT_CHUNK;
  }

  push(data: string): void {
    if (data === '') return;
    this.pending += data;
    if (!this.sending) this.sending = this.drain();
  }

  /** Resolves once everything pushed so far has been sent or refused. */
  async idle(): Promise<void> {
    while (this.sending) await this.sending;
  }

  /** Forgets what has not gone out yet (the run ended). */
  clear(): void {
    this.pending = '';
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending !== '') {
        const [batch, rest] = takeChunk(this.pending, this.maxChunk);
        this.pending = rest;
        try {
          await this.options.send(batch);
          this.options.onSent?.();
        } catch (error) {
          this.options.onError(error);
        }
      }
    } finally {
      this.sending = null;
    }
  }
}
