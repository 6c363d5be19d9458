import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  evictionOrder,
  readRecords,
  writeRecord,
  type StoredEnvironment,
} from './environment-records.ts';

const record = (key: string, bytes: number, lastUsedAt: number): StoredEnvironment => ({
  key: key.padEnd(32, '0'),
  label: 'project',
  bytes,
  createdAt: 0,
  lastUsedAt,
});

describe('evictionOrder', () => {
  const records = [record('a', 400, 3), record('b', 300, 1), record('c', 300, 2)];

  it('removes the least recently used until the rest fit', () => {
    expect(evictionOrder(records, { maxBytes: 700, inUse: new Set() })).toEqual([
      record('b', 0, 0).key,
    ]);
    expect(evictionOrder(records, { maxBytes: 400, inUse: new Set() })).toEqual([
      record('b', 0, 0).key,
      record('c', 0, 0).key,
    ]);
    expect(evictionOrder(records, { maxBytes: 1_000, inUse: new Set() })).toEqual([]);
  });

  it('never removes one in use or the one just made, even when the rest cannot fit', () => {
    const inUse = new Set([record('b', 0, 0).key]);
    expect(evictionOrder(records, { maxBytes: 0, inUse, keep: record('a', 0, 0).key })).toEqual([
      record('c', 0, 0).key,
    ]);
  });
});

describe('records on disk', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'runbox-env-records-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('reads back what was written, and skips what is damaged or misnamed', async () => {
    const kept = record('d', 10, 5);
    await writeRecord(dir, kept);
    await writeFile(join(dir, `${record('e', 0, 0).key}.json`), '{"key":');
    await writeFile(join(dir, `${record('f', 0, 0).key}.json`), JSON.stringify(kept));
    expect(await readRecords(dir)).toEqual([kept]);
    expect(await readRecords(join(dir, 'missing'))).toEqual([]);
  });
});
