// @ts-check
import { Buffer } from 'node:buffer';

/**
 * A POSIX (ustar) tar writer, enough for uploading a project: regular files, directories and
 * symbolic links, with pax extended headers for paths that do not fit ustar's 100-byte name
 * field or are not ASCII. The server's reader (tar-stream) folds pax headers into the entry.
 */

const BLOCK = 512;
const NAME_BYTES = 100;

/**
 * @typedef {{
 *   path: string;
 *   type: 'file' | 'directory' | 'symlink';
 *   mode: number;
 *   mtimeMs: number;
 *   data?: Buffer;
 *   linkTarget?: string;
 * }} TarEntry
 */

/**
 * The tar archive of the entries, in order, ended by two zero blocks.
 * @param {Iterable<TarEntry>} entries
 * @returns {Buffer}
 */
export function writeTar(entries) {
  /** @type {Buffer[]} */
  const chunks = [];
  for (const entry of entries) {
    const name = entry.type === 'directory' ? `${entry.path.replace(/\/+$/, '')}/` : entry.path;
    const linkTarget = entry.linkTarget ?? '';
    /** @type {Record<string, string>} */
    const pax = {};
    if (!fitsUstar(name)) pax.path = name;
    if (!fitsUstar(linkTarget)) pax.linkpath = linkTarget;
    if (Object.keys(pax).length > 0) {
      const records = paxRecords(pax);
      chunks.push(
        header({
          name: `PaxHeader/${asciiPrefix(name, NAME_BYTES - 10)}`,
          typeflag: 'x',
          mode: 0o644,
          size: records.length,
          mtimeMs: entry.mtimeMs,
          linkTarget: '',
        }),
        padded(records),
      );
    }
    const data = entry.type === 'file' ? (entry.data ?? Buffer.alloc(0)) : Buffer.alloc(0);
    chunks.push(
      header({
        name: asciiPrefix(name, NAME_BYTES),
        typeflag: entry.type === 'file' ? '0' : entry.type === 'directory' ? '5' : '2',
        mode: entry.mode & 0o7777,
        size: data.length,
        mtimeMs: entry.mtimeMs,
        linkTarget: asciiPrefix(linkTarget, NAME_BYTES),
      }),
      padded(data),
    );
  }
  chunks.push(Buffer.alloc(2 * BLOCK));
  return Buffer.concat(chunks);
}

/** @param {string} text */
function fitsUstar(text) {
  return Buffer.byteLength(text) <= NAME_BYTES && /^[\x20-\x7e]*$/.test(text);
}

/**
 * The longest printable-ASCII start of `text` within `max` bytes: what a reader without pax
 * support sees (the pax header carries the real name).
 * @param {string} text
 * @param {number} max
 */
function asciiPrefix(text, max) {
  return text.replace(/[^\x20-\x7e]/g, '_').slice(0, max);
}

/**
 * pax records: "<length> <key>=<value>\n", the length counting the whole record, its own digits
 * included.
 * @param {Record<string, string>} values
 */
function paxRecords(values) {
  const records = Object.entries(values).map(([key, value]) => {
    const body = ` ${key}=${value}\n`;
    const bodyBytes = Buffer.byteLength(body);
    let length = bodyBytes + String(bodyBytes).length;
    if (String(length).length !== String(bodyBytes).length)
      length = bodyBytes + String(length).length;
    return `${length}${body}`;
  });
  return Buffer.from(records.join(''), 'utf8');
}

/**
 * @param {{
 *   name: string;
 *   typeflag: string;
 *   mode: number;
 *   size: number;
 *   mtimeMs: number;
 *   linkTarget: string;
 * }} fields
 */
function header(fields) {
  const block = Buffer.alloc(BLOCK);
  block.write(fields.name, 0, NAME_BYTES, 'ascii');
  writeOctal(block, 100, 8, fields.mode);
  writeOctal(block, 108, 8, 0); // uid
  writeOctal(block, 116, 8, 0); // gid
  writeOctal(block, 124, 12, fields.size);
  writeOctal(block, 136, 12, Math.max(0, Math.floor(fields.mtimeMs / 1000)));
  block.write('        ', 148, 8, 'ascii'); // the checksum counts its own field as spaces
  block.write(fields.typeflag, 156, 1, 'ascii');
  block.write(fields.linkTarget, 157, NAME_BYTES, 'ascii');
  block.write('ustar\u000000', 257, 8, 'ascii');
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 8, 'ascii');
  return block;
}

/**
 * A number as zero-padded octal digits and a NUL, filling the field.
 * @param {Buffer} block
 * @param {number} offset
 * @param {number} width
 * @param {number} value
 */
function writeOctal(block, offset, width, value) {
  const digits = value.toString(8);
  if (digits.length > width - 1) throw new RangeError(`${value} does not fit a tar header field`);
  block.write(`${digits.padStart(width - 1, '0')}\u0000`, offset, width, 'ascii');
}

/** @param {Buffer} data the data followed by zeros up to a whole block */
function padded(data) {
  const rest = data.length % BLOCK;
  return rest === 0 ? data : Buffer.concat([data, Buffer.alloc(BLOCK - rest)]);
}
