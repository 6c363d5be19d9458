import { once } from 'node:events';
import { crc32, createDeflateRaw, deflateRawSync } from 'node:zlib';

/**
 * TEST SCAFFOLDING ONLY: writes small zip files, honest or hostile, so tests can build them in
 * code. The product reads zips with yauzl; nothing outside tests may import this.
 */

export interface ZipTestEntry {
  /** Entry name; a Buffer is written as-is (for raw, non-UTF-8 names). */
  name: string | Buffer;
  data?: Buffer;
  /** 'deflate' by default for data, 'store' for directories and empty files. */
  method?: 'store' | 'deflate' | number;
  /** Already-compressed data to write instead of compressing `data`. */
  compressed?: Buffer;
  /** Uncompressed size to declare in both headers (to make a header lie). */
  declaredSize?: number;
  /** CRC-32 to declare (to make a checksum lie). */
  crc?: number;
  /** Unix mode for the high 16 bits of the external attributes, e.g. 0o120777 for a symlink. */
  unixMode?: number;
  /** General purpose flag bits to add (1 = encrypted). Bit 11 (UTF-8) is set for string names. */
  flags?: number;
}

const MADE_BY_UNIX = (3 << 8) | 20;

export function buildZip(entries: readonly ZipTestEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = typeof entry.name === 'string' ? Buffer.from(entry.name, 'utf8') : entry.name;
    const data = entry.data ?? Buffer.alloc(0);
    const methodName = entry.method ?? (data.length > 0 ? 'deflate' : 'store');
    const method = methodName === 'store' ? 0 : methodName === 'deflate' ? 8 : methodName;
    const body = entry.compressed ?? (method === 8 ? deflateRawSync(data) : data);
    const size = entry.declaredSize ?? data.length;
    const checksum = entry.crc ?? crc32(data);
    const flags = (entry.flags ?? 0) | (typeof entry.name === 'string' ? 0x800 : 0);
    const external = entry.unixMode === undefined ? 0 : (entry.unixMode << 16) >>> 0;

    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(flags, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(0, 10);
    local.writeUInt16LE(0x21, 12);
    local.writeUInt32LE(checksum, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(MADE_BY_UNIX, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(flags, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt16LE(0, 12);
    central.writeUInt16LE(0x21, 14);
    central.writeUInt32LE(checksum, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt16LE(0, 30);
    central.writeUInt16LE(0, 32);
    central.writeUInt16LE(0, 34);
    central.writeUInt16LE(0, 36);
    central.writeUInt32LE(external, 38);
    central.writeUInt32LE(offset, 42);

    locals.push(local, name, body);
    centrals.push(central, name);
    offset += local.length + name.length + body.length;
  }
  const centralDirectory = Buffer.concat(centrals);
  return Buffer.concat([
    ...locals,
    centralDirectory,
    endOfCentralDirectory(entries.length, centralDirectory.length, offset),
  ]);
}

function endOfCentralDirectory(count: number, size: number, offset: number): Buffer {
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(count, 8);
  end.writeUInt16LE(count, 10);
  end.writeUInt32LE(size, 12);
  end.writeUInt32LE(offset, 16);
  return end;
}

/** A zip with no entries: only the end-of-central-directory record. */
export function emptyZip(): Buffer {
  return endOfCentralDirectory(0, 0, 0);
}

/** Raw-deflates `bytes` zeros, streaming 1 MiB at a time; returns the data and its CRC-32. */
export async function deflatedZeros(bytes: number): Promise<{ compressed: Buffer; crc: number }> {
  const chunk = Buffer.alloc(1024 * 1024);
  const deflate = createDeflateRaw({ level: 9 });
  const output: Buffer[] = [];
  deflate.on('data', (data: Buffer) => output.push(data));
  const ended = once(deflate, 'end');
  let crc = 0;
  for (let done = 0; done < bytes; done += chunk.length) {
    const part = chunk.subarray(0, Math.min(chunk.length, bytes - done));
    crc = crc32(part, crc);
    if (!deflate.write(part)) await once(deflate, 'drain');
  }
  deflate.end();
  await ended;
  return { compressed: Buffer.concat(output), crc };
}
