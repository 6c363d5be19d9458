import { readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';

/**
 * What the store knows of each environment it keeps, in `<dir>/<key>.json` beside it: its size,
 * for the store's cap, and when a run last took it, for choosing what goes first.
 */
const storedEnvironmentSchema = z.object({
  key: z.string().regex(/^[0-9a-f]{32}$/),
  label: z.string(),
  bytes: z.number().int().min(0),
  createdAt: z.number(),
  lastUsedAt: z.number(),
});

export type StoredEnvironment = z.infer<typeof storedEnvironmentSchema>;

const RECORD_SUFFIX = '.json';

export async function readRecords(dir: string): Promise<StoredEnvironment[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const records: StoredEnvironment[] = [];
  for (const name of names.filter((entry) => entry.endsWith(RECORD_SUFFIX))) {
    // Half-written, damaged or removed meanwhile: not counted; its environment goes with the
    // next sweep.
    const record = await readRecord(dir, name.slice(0, -RECORD_SUFFIX.length));
    if (record) records.push(record);
  }
  return records;
}

/** One environment's record; null when it has none (or a damaged one). */
export async function readRecord(dir: string, key: string): Promise<StoredEnvironment | null> {
  try {
    const parsed = storedEnvironmentSchema.safeParse(
      JSON.parse(await readFile(recordPath(dir, key), 'utf8')),
    );
    return parsed.success && parsed.data.key === key ? parsed.data : null;
  } catch {
    return null;
  }
}

/** Written whole (a temporary file renamed over the old one). */
export async function writeRecord(dir: string, record: StoredEnvironment): Promise<void> {
  const path = recordPath(dir, record.key);
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, JSON.stringify(record));
  await rename(temporary, path);
}

export function recordPath(dir: string, key: string): string {
  return join(dir, `${key}${RECORD_SUFFIX}`);
}

/**
 * The environments to remove, least recently used first, until the rest fit `maxBytes`; never
 * one in use (a running run binds it) nor one named in `keep`.
 */
export function evictionOrder(
  records: readonly StoredEnvironment[],
  options: { maxBytes: number; inUse: ReadonlySet<string>; keep?: string | undefined },
): string[] {
  let total = records.reduce((sum, record) => sum + record.bytes, 0);
  const evicted: string[] = [];
  const candidates = records
    .filter((record) => !options.inUse.has(record.key) && record.key !== options.keep)
    .sort((a, b) => a.lastUsedAt - b.lastUsedAt);
  for (const record of candidates) {
    if (total <= options.maxBytes) break;
    evicted.push(record.key);
    total -= record.bytes;
  }
  return evicted;
}
