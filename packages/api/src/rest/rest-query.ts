import { typesOf, type JsonSchema } from './json-schema.ts';
import { badInput } from './rest-errors.ts';

/**
 * Query parameters as a procedure's input, read by the procedure's own schema (as JSON Schema):
 * a number field takes `limit=20`, an array field repeats (`states=queued&states=running`), an
 * object field is a deep object (`cursor[queuedAt]=1&cursor[id]=x`, OpenAPI's `deepObject`).
 * Text that is not a number stays text, so the procedure's schema names the field and the rule.
 * A parameter the schema does not have is refused.
 */
export function queryToInput(
  query: URLSearchParams,
  schema: JsonSchema | null,
  ownParameters: ReadonlySet<string>,
): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  const seen = new Set<string>();
  for (const key of query.keys()) {
    if (seen.has(key)) continue;
    seen.add(key);
    if (ownParameters.has(key)) continue;
    const values = query.getAll(key);
    const deep = /^([^[\]]+)\[([^[\]]+)\]$/.exec(key);
    const name = deep?.[1] ?? key;
    const property = schema?.properties?.[name];
    if (!property) throw badInput(key, 'unrecognized_keys', 'is not a parameter of this call');
    if (deep) {
      const child = property.properties?.[deep[2] ?? ''];
      if (!typesOf(property).includes('object') || !child)
        throw badInput(key, 'unrecognized_keys', 'is not a parameter of this call');
      const parent = (input[name] ??= {}) as Record<string, unknown>;
      parent[deep[2] ?? ''] = single(key, values, child);
      continue;
    }
    if (typesOf(property).includes('array')) {
      input[name] = values.map((value) => coerce(value, property.items));
      continue;
    }
    if (typesOf(property).includes('object'))
      throw badInput(key, 'deepObject', `is an object: send ${key}[<field>]=<value>`);
    input[name] = single(key, values, property);
  }
  return input;
}

function single(key: string, values: string[], schema: JsonSchema): unknown {
  if (values.length > 1) throw badInput(key, 'repeated', 'may be given once');
  return coerce(values[0] ?? '', schema);
}

/** A parameter's text as the type its schema wants, when it reads as one. */
function coerce(value: string, schema: JsonSchema | undefined): unknown {
  const types = typesOf(schema);
  if ((types.includes('number') || types.includes('integer')) && /^-?\d+(\.\d+)?$/.test(value))
    return Number(value);
  if (types.includes('boolean') && (value === 'true' || value === 'false')) return value === 'true';
  return value;
}
