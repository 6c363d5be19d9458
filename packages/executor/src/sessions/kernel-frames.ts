/**
 * The framing of a session kernel's two channels (runtime/session_python.py,
 * runtime/session-node.mjs): requests on its stdin and replies on descriptor 5 are each a 4-byte
 * big-endian length, then that many bytes of UTF-8 JSON. The reply channel starts with one "R"
 * byte (the kernel is loaded and waits: the ready signal of warm sandboxes), which the sandbox's
 * `whenReady` takes; the reader here starts after it.
 */

/** The largest reply the host takes (a snapshot is bounded well below it). */
export const MAX_REPLY_BYTES = 8 * 1024 * 1024;

class KernelProtocolError extends Error {
  readonly code = 'KERNEL_PROTOCOL';
  constructor(message: string) {
    super(`the session kernel broke its protocol: ${message}`);
    this.name = 'KernelProtocolError';
  }
}

export function encodeFrame(message: unknown): Buffer {
  const json = Buffer.from(JSON.stringify(message), 'utf8');
  const frame = Buffer.alloc(4 + json.length);
  frame.writeUInt32BE(json.length, 0);
  json.copy(frame, 4);
  return frame;
}

/**
 * Parses the reply channel (after its ready byte) as it arrives. Anything but whole frames of
 * JSON (a cell can write on the descriptor too) throws KernelProtocolError: the kernel is then
 * ended.
 */
export function createFrameReader(maxBytes = MAX_REPLY_BYTES): {
  push(chunk: Buffer): unknown[];
} {
  let pending: Buffer = Buffer.alloc(0);
  return {
    push(chunk) {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      const messages: unknown[] = [];
      while (pending.length >= 4) {
        const length = pending.readUInt32BE(0);
        if (length > maxBytes)
          throw new KernelProtocolError(`a reply of ${length} bytes (at most ${maxBytes})`);
        if (pending.length < 4 + length) break;
        const text = pending.subarray(4, 4 + length).toString('utf8');
        pending = pending.subarray(4 + length);
        try {
          messages.push(JSON.parse(text));
        } catch {
          throw new KernelProtocolError('a reply that is not JSON');
        }
      }
      return messages;
    },
  };
}
