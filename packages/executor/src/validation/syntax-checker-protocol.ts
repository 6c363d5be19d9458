/**
 * The wire between the engine and a long-lived syntax checker in the sandbox
 * (runtime/syntax_checker.py, runtime/syntax-checker.mjs). Pure: bytes in, bytes out.
 *
 * A request is `LENGTH\n` then LENGTH bytes of the snippet's UTF-8 source. A reply is
 * `STATUS LENGTH\n` then LENGTH bytes: the exit status and the stderr the one-shot check would
 * have given for the same source, so syntaxCheckError reads both the same way. `STATUS LENGTH
 * last\n` is a checker's last reply: it ends after it (an error that may have left its parser in
 * a doubtful state). Its first reply, `0 0\n`, comes unasked: it has started. Lengths, never
 * delimiters: whatever a snippet holds (newlines, text that looks like a header) stays inside its
 * own request or reply.
 */

/** The snippet as the one-shot check writes it to its file: UTF-8. */
export function encodeCheckRequest(code: string): Buffer {
  const body = Buffer.from(code, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length}\n`, 'latin1'), body]);
}

export interface CheckReply {
  /** The exit status the one-shot check would have ended with. */
  readonly status: number;
  /** Its stderr. */
  readonly stderr: Buffer;
  /** The checker ends after this reply. */
  readonly last: boolean;
}

/**
 * The checker wrote something that is no reply: it is not to be trusted with another check. The
 * pool replaces it; the error never leaves the pool (so it has no wire code).
 */
export class CheckReplyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckReplyError';
  }
}

const HEADER = /^(\d{1,3}) (\d{1,12})( last)?$/;
/** Longer than any header; a newline that has not come by then never will. */
const MAX_HEADER_BYTES = 32;

/** Collects a checker's stdout and cuts it into replies, however the pipe splits it. */
export class CheckReplyReader {
  #pending: Buffer = Buffer.alloc(0);
  #header: { status: number; length: number; last: boolean } | null = null;

  /** Takes the next chunk of stdout; returns every reply it completes, in order. */
  push(chunk: Buffer): CheckReply[] {
    this.#pending = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    const replies: CheckReply[] = [];
    for (;;) {
      if (this.#header === null) {
        const newline = this.#pending.indexOf(0x0a);
        if (newline < 0) {
          if (this.#pending.length > MAX_HEADER_BYTES)
            throw new CheckReplyError('a reply header with no end');
          return replies;
        }
        const text = this.#pending.subarray(0, newline).toString('latin1');
        const match = HEADER.exec(text);
        if (!match) throw new CheckReplyError(`not a reply header: ${JSON.stringify(text)}`);
        this.#header = {
          status: Number(match[1]),
          length: Number(match[2]),
          last: match[3] !== undefined,
        };
        this.#pending = this.#pending.subarray(newline + 1);
      }
      if (this.#pending.length < this.#header.length) return replies;
      replies.push({
        status: this.#header.status,
        stderr: Buffer.from(this.#pending.subarray(0, this.#header.length)),
        last: this.#header.last,
      });
      this.#pending = this.#pending.subarray(this.#header.length);
      this.#header = null;
    }
  }

  /** True between replies: nothing of a reply has come without the rest. */
  get idle(): boolean {
    return this.#header === null && this.#pending.length === 0;
  }
}
