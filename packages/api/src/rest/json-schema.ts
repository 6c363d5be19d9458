import { z } from 'zod';

/** The part of a JSON Schema (2020-12) the REST layer reads: types and properties. */
export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  additionalProperties?: boolean | JsonSchema;
  [keyword: string]: unknown;
}

/**
 * A zod schema as JSON Schema 2020-12 (OpenAPI 3.1's dialect), for what a request takes
 * (`input`: defaults are optional) or what an answer gives (`output`).
 */
export function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io,
    // FormData and the like: documented by hand where they occur.
    unrepresentable: 'any',
  }) as JsonSchema;
  return rest;
}

/** The types a schema allows (`type` may be one name or a list). */
export function typesOf(schema: JsonSchema | undefined): string[] {
  if (!schema?.type) return [];
  return Array.isArray(schema.type) ? schema.type : [schema.type];
}
