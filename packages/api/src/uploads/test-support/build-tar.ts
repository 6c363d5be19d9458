import { once } from 'node:events';
import { createGzip, gzipSync } from 'node:zlib';
import { pack, type Header, type Pack } from 'tar-stream';

/** TEST SCAFFOLDING ONLY: tar and tar.gz uploads built with tar-stream's pack(). */

export type TarTestEntry = Partial<Header> & {
  name: string;
  data?: Buffer;
  /** Raw pax records for this entry (tar-stream writes a pax header when this is set). */
  pax?: Record<string, string>;
};

export async function buildTar(entries: readonly TarTestEntry[]): Promise<Buffer> {
  const tar = pack();
  for (const { data, ...header } of entries) {
    const hasBody =
      header.type === undefined || header.type === 'file' || header.type === 'contiguous-file';
    if (data !== undefined || hasBody) {
      const body = data ?? Buffer.alloc(0);
      tar.entry({ ...header, size: body.length }, body);
    } else {
      tar.entry(header);
    }
  }
  tar.finalize();
  return collect(tar);
}

export async function buildTarGz(entries: readonly TarTestEntry[]): Promise<Buffer> {
  return gzipSync(await buildTar(entries));
}

async function collect(tar: Pack): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of tar) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * A tar.gz streamed through gzip without holding the tar in memory: `write` gets the pack to add
 * entries to (and may stream data into an entry's sink); what follows the tar is `trailingZeros`
 * zero bytes, which a tar reader skips as empty blocks.
 */
export async function streamTarGz(
  write: (tar: Pack) => Promise<void>,
  options: { trailingZeros?: number } = {},
): Promise<Buffer> {
  const tar = pack();
  const gzip = createGzip({ level: 9 });
  const output: Buffer[] = [];
  gzip.on('data', (data: Buffer) => output.push(data));
  const ended = once(gzip, 'end');
  const pump = (async () => {
    for await (const chunk of tar) {
      if (!gzip.write(chunk as Buffer)) await once(gzip, 'drain');
    }
    const zeros = Buffer.alloc(1024 * 1024);
    for (let done = 0; done < (options.trailingZeros ?? 0); done += zeros.length) {
      if (!gzip.write(zeros)) await once(gzip, 'drain');
    }
    gzip.end();
  })();
  await write(tar);
  tar.finalize();
  await pump;
  await ended;
  return Buffer.concat(output);
}

/** Streams `bytes` zeros into a new entry of the pack (its header declares `bytes`). */
export async function addZeroEntry(tar: Pack, name: string, bytes: number): Promise<void> {
  const sink = tar.entry({ name, size: bytes });
  const zeros = Buffer.alloc(1024 * 1024);
  for (let done = 0; done < bytes; done += zeros.length) {
    sink.write(zeros.subarray(0, Math.min(zeros.length, bytes - done)));
    // Let the pack hand the data on before adding more.
    await new Promise((resolve) => setImmediate(resolve));
  }
  sink.end(null);
}

/** Changes bytes of the tar header at `headerOffset` and fixes its checksum. */
export function patchTarHeader(
  tar: Buffer,
  headerOffset: number,
  patch: (header: Buffer) => void,
): Buffer {
  const copy = Buffer.from(tar);
  const header = copy.subarray(headerOffset, headerOffset + 512);
  patch(header);
  header.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return copy;
}
