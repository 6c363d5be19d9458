import { parseDocument } from 'yaml';

/** What a YAML document holds once read: JSON's values. */
export type YamlValue = string | number | boolean | null | YamlValue[] | YamlMap;
export interface YamlMap {
  [key: string]: YamlValue;
}

export class YamlReadError extends Error {
  readonly code = 'YAML_READ';
  constructor(what: string, problems: readonly string[]) {
    super(`${what}: ${problems.join('; ')}`);
    this.name = 'YamlReadError';
  }
}

function toYamlValue(value: unknown, path: string): YamlValue {
  if (
    value === null ||
    typeof value === 'string' ||
    typeof value === 'number' ||
    typeof value === 'boolean'
  ) {
    return value;
  }
  if (Array.isArray(value)) return value.map((item, i) => toYamlValue(item, `${path}[${i}]`));
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, toYamlValue(item, `${path}.${key}`)]),
    );
  }
  throw new YamlReadError(path || 'document', [`not a plain YAML value: ${String(value)}`]);
}

/**
 * One YAML document read as Docker Compose reads it (YAML 1.2, `<<` merge keys). A duplicate key,
 * a second document, an unknown tag or any other error or warning is refused, so that a test
 * never sees a file other than the way Compose does.
 */
export function readYaml(source: string, what = 'YAML'): YamlValue {
  const doc = parseDocument(source, { version: '1.2', merge: true, uniqueKeys: true });
  const problems = [...doc.errors, ...doc.warnings].map((problem) => problem.message);
  if (problems.length > 0) throw new YamlReadError(what, problems);
  let value: unknown;
  try {
    value = doc.toJS();
  } catch (error) {
    // An alias to no anchor is found only here, not among the document's errors.
    throw new YamlReadError(what, [error instanceof Error ? error.message : String(error)]);
  }
  return toYamlValue(value, '');
}

export function isYamlMap(value: YamlValue | undefined): value is YamlMap {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
