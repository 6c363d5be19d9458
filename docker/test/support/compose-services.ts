import { isYamlMap, type YamlMap, type YamlValue } from './read-yaml.ts';

/** A service of a Compose file read with readYaml (merge keys resolved), or a thrown error. */
export function serviceOf(compose: YamlMap, name: string): YamlMap {
  const services = compose.services;
  const service = isYamlMap(services) ? services[name] : undefined;
  if (!isYamlMap(service)) throw new Error(`docker/compose.yaml has no ${name} service`);
  return service;
}

export const strings = (value: YamlValue | undefined): string[] =>
  Array.isArray(value) ? value.map((item) => String(item)) : [];

/** Every string anywhere in a YAML value, keys included. */
export function allStrings(value: YamlValue): string[] {
  if (Array.isArray(value)) return value.flatMap(allStrings);
  if (isYamlMap(value)) return Object.entries(value).flatMap(([k, v]) => [k, ...allStrings(v)]);
  return value === null ? [] : [String(value)];
}

/**
 * A service's `environment` as name → value. A name alone (`- NAME`, or `NAME:` with no value)
 * maps to undefined: Compose passes it through from the shell or `.env` when set there.
 */
export function environmentOf(service: YamlMap): Map<string, string | undefined> {
  const environment = service.environment;
  const entries = new Map<string, string | undefined>();
  if (isYamlMap(environment)) {
    for (const [name, value] of Object.entries(environment))
      entries.set(name, value === null ? undefined : String(value));
    return entries;
  }
  for (const entry of strings(environment)) {
    const [name = '', value] = entry.split(/=(.*)/s);
    entries.set(name, value);
  }
  return entries;
}

/** Docker's byte sizes: 256m, 4g, 1024k, or plain bytes. */
export function bytes(text: string): number {
  const match = /^(\d+)([bkmg]?)$/i.exec(text);
  if (!match) return Number.NaN;
  const unit = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(match[2] ?? '').toLowerCase()];
  return Number(match[1]) * (unit ?? Number.NaN);
}

/** A service's tmpfs entries as mount path → options (`size=256m` → size: 256m, `exec` → exec: ''). */
export function tmpfsOf(service: YamlMap): Map<string, Map<string, string>> {
  const mounts = new Map<string, Map<string, string>>();
  for (const entry of strings(service.tmpfs)) {
    const [path = '', options = ''] = entry.split(/:(.*)/s);
    const parsed = new Map<string, string>();
    for (const option of options.split(',')) {
      const [name = '', value = ''] = option.split('=');
      parsed.set(name, value);
    }
    mounts.set(path, parsed);
  }
  return mounts;
}

export class ComposeInterpolationError extends Error {
  constructor(text: string) {
    super(`Compose would interpolate a variable in: ${text}`);
    this.name = 'ComposeInterpolationError';
  }
}

/**
 * A string as the container receives it: Compose turns `$$` into `$`. Any other `$` that starts
 * a variable (`$NAME`, `${...}`) would be interpolated by Compose from the shell or `.env`, before
 * profiles apply and with a blank string and a warning when unset; that is refused here.
 */
export function asContainerSees(text: string): string {
  return text.replace(/\$(\$|\{|[A-Za-z_])/g, (match, next: string) => {
    if (next === '$') return '$';
    throw new ComposeInterpolationError(text);
  });
}
