// @ts-check
import { TextDecoder } from 'node:util';

/**
 * Server-sent events read from a byte stream, as the HTML standard parses them: lines end with
 * LF, CRLF or CR; `data:` lines join with LF; a blank line ends a message; `:` lines are
 * comments (runbox's heartbeats). Only what runbox sends matters here, but nothing it could
 * legally send is misread.
 */

/**
 * @typedef {{ id: string | null; event: string | null; data: string }} SseMessage
 */

/**
 * The messages of an event stream, in order. `onBytes` is told of every chunk that arrives
 * (heartbeats included), so a caller can tell a quiet stream from a dead one.
 * @param {AsyncIterable<Uint8Array>} body
 * @param {() => void} [onBytes]
 * @returns {AsyncGenerator<SseMessage>}
 */
export async function* readSseMessages(body, onBytes) {
  const decoder = new TextDecoder();
  let buffer = '';
  /** Where the scan for a line end resumes: the part before it holds none. */
  let scanned = 0;
  /** @type {SseMessage} */
  let message = { id: null, event: null, data: '' };
  let hasData = false;
  for await (const chunk of body) {
    onBytes?.();
    buffer += decoder.decode(chunk, { stream: true });
    let start = 0;
    for (let index = scanned; index < buffer.length; index++) {
      const char = buffer.charCodeAt(index);
      if (char !== LF && char !== CR) continue;
      // A CR at the very end may be the first half of a CRLF still on its way.
      if (char === CR && index + 1 === buffer.length) break;
      const line = buffer.slice(start, index);
      if (char === CR && buffer.charCodeAt(index + 1) === LF) index++;
      start = index + 1;
      if (line === '') {
        if (hasData) yield message;
        message = { id: null, event: null, data: '' };
        hasData = false;
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'data') {
        message.data = hasData ? `${message.data}\n${value}` : value;
        hasData = true;
      } else if (field === 'id') {
        message.id = value;
      } else if (field === 'event') {
        message.event = value;
      }
    }
    buffer = buffer.slice(start);
    scanned = Math.max(0, buffer.length - 1);
  }
}

const LF = 10;
const CR = 13;
