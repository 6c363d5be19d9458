import type { z } from 'zod';

/**
 * A value runbox wrote to Redis as JSON, read back through its schema: the value, or null when
 * the text is not JSON or not what the schema says (an entry written by hand, say).
 */
export function parseJsonAs<T>(schema: z.ZodType<T>, text: string | null | undefined): T | null {
  if (text === null || text === undefined) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  const parsed = schema.safeParse(value);
  return parsed.success ? parsed.data : null;
}
