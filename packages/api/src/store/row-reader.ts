import type { SQLOutputValue } from 'node:sqlite';
import { CorruptColumnError } from './store-errors.ts';

export type Row = Record<string, SQLOutputValue>;
export type ReportCorruption = (error: CorruptColumnError) => void;

/**
 * Typed access to one row that never throws: a value that does not read back as expected is
 * reported once, replaced by the fallback, and its column listed in `damaged`.
 */
export interface RowReader {
  text(column: string): string;
  nullableText(column: string): string | null;
  int(column: string): number;
  nullableInt(column: string): number | null;
  oneOf<T extends string>(column: string, allowed: readonly T[], fallback: T): T;
  /** A JSON column; `isValid` checks the shape, `fallback` replaces anything else. */
  json<T>(column: string, isValid: (value: unknown) => value is T, fallback: T): T;
  /** A nullable JSON column of any value: SQL NULL is `{ present: false }`. */
  optionalJson(column: string): { present: false } | { present: true; value: unknown };
  readonly damaged: string[];
}

export function readRow(
  row: Row,
  where: { table: string; key: string },
  report: ReportCorruption,
): RowReader {
  const damaged: string[] = [];
  const fail = (column: string, problem: string): void => {
    damaged.push(column);
    report(new CorruptColumnError({ table: where.table, key: where.key, column, problem }));
  };
  const nullableText = (column: string): string | null => {
    const value = row[column];
    if (value === null || typeof value === 'string') return value ?? null;
    fail(column, `holds ${typeof value} where text was expected`);
    return null;
  };
  const nullableInt = (column: string): number | null => {
    const value = row[column];
    if (value === null || value === undefined) return null;
    if (typeof value === 'number' && Number.isFinite(value)) return value;
    if (typeof value === 'bigint') return Number(value);
    fail(column, `holds ${typeof value} where a number was expected`);
    return null;
  };
  const parse = (column: string, text: string): { ok: true; value: unknown } | { ok: false } => {
    try {
      return { ok: true, value: JSON.parse(text) };
    } catch {
      fail(column, `is not valid JSON (${text.length} characters)`);
      return { ok: false };
    }
  };
  return {
    damaged,
    nullableText,
    nullableInt,
    text(column) {
      const value = nullableText(column);
      if (value === null && !damaged.includes(column)) fail(column, 'is null');
      return value ?? '';
    },
    int(column) {
      const value = nullableInt(column);
      if (value === null && !damaged.includes(column)) fail(column, 'is null');
      return value ?? 0;
    },
    oneOf<T extends string>(column: string, allowed: readonly T[], fallback: T): T {
      const value = nullableText(column);
      if (value !== null && (allowed as readonly string[]).includes(value)) return value as T;
      if (!damaged.includes(column))
        fail(column, `holds ${JSON.stringify(value)}, not one of ${allowed.join(', ')}`);
      return fallback;
    },
    json(column, isValid, fallback) {
      const text = nullableText(column);
      if (text === null) {
        if (!damaged.includes(column)) fail(column, 'is null');
        return fallback;
      }
      const parsed = parse(column, text);
      if (!parsed.ok) return fallback;
      if (isValid(parsed.value)) return parsed.value;
      fail(column, 'does not have the expected shape');
      return fallback;
    },
    optionalJson(column) {
      const text = nullableText(column);
      if (text === null) return { present: false };
      const parsed = parse(column, text);
      return parsed.ok ? { present: true, value: parsed.value } : { present: false };
    },
  };
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
