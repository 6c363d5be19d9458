import { isAbsolute, resolve } from 'node:path';
import { environmentOf, strings, tmpfsOf } from './compose-services.ts';
import { isYamlMap, type YamlMap, type YamlValue } from './read-yaml.ts';

/**
 * A Compose service's container options as `podman create` arguments, so that the container test
 * runs the image with exactly what docker/compose.yaml declares (Debian's podman-compose 1.0.3
 * drops pids_limit, memswap_limit and stop_grace_period and breaks exec-form health checks).
 * Every key of the service is either translated or named below as not a container option; a key
 * added to the Compose file without a translation fails here instead of being silently dropped.
 */
export class ComposeTranslationError extends Error {
  constructor(service: string, problem: string) {
    super(`docker/compose.yaml, service ${service}: ${problem}`);
    this.name = 'ComposeTranslationError';
  }
}

export interface ComposePodmanOptions {
  /** The service's name, for messages. */
  service: string;
  /** The Compose file's directory: relative paths (seccomp=./seccomp.json) are relative to it. */
  composeDir: string;
  /** The podman volume to use for each named volume of the service. */
  volumes: ReadonlyMap<string, string>;
  /** Values for the variables the service passes through by name (`- NAME`); unset ones stay unset. */
  passThrough: Readonly<Record<string, string | undefined>>;
  /** The host port for each published container port (the Compose file's host port may be taken). */
  hostPorts: ReadonlyMap<number, number>;
}

/** Keys that say how to build or name the image, or when Compose starts it: no container option. */
const NOT_CONTAINER_OPTIONS = new Set(['build', 'image', 'profiles', 'depends_on']);

type Translate = (value: YamlValue, service: YamlMap, options: ComposePodmanOptions) => string[];

const fail = (options: ComposePodmanOptions, problem: string): never => {
  throw new ComposeTranslationError(options.service, problem);
};

const scalar = (value: YamlValue): string => {
  if (value === null || typeof value === 'object') throw new TypeError('not a scalar');
  return String(value);
};

/** Compose durations (30s, 1m30s, 500ms) are Go durations, which podman reads too. */
const duration = (value: YamlValue, options: ComposePodmanOptions, key: string): string => {
  const text = scalar(value);
  if (!/^(\d+(ms|s|m|h))+$/.test(text)) fail(options, `${key}: not a duration: ${text}`);
  return text;
};

function seconds(value: YamlValue, options: ComposePodmanOptions, key: string): number {
  const text = duration(value, options, key);
  let total = 0;
  for (const [, amount, unit] of text.matchAll(/(\d+)(ms|s|m|h)/g)) {
    const factor = { ms: 0.001, s: 1, m: 60, h: 3600 }[unit ?? 's'] ?? 1;
    total += Number(amount) * factor;
  }
  return Math.ceil(total);
}

function securityOptions(value: YamlValue, _service: YamlMap, options: ComposePodmanOptions) {
  return strings(value).flatMap((option) => {
    if (option === 'no-new-privileges:true' || option === 'no-new-privileges')
      return ['--security-opt', 'no-new-privileges'];
    const seccomp = /^seccomp[=:](.+)$/.exec(option)?.[1];
    if (seccomp !== undefined) {
      const profile =
        seccomp === 'unconfined' || isAbsolute(seccomp)
          ? seccomp
          : resolve(options.composeDir, seccomp);
      return ['--security-opt', `seccomp=${profile}`];
    }
    if (option === 'systempaths=unconfined') return ['--security-opt', option];
    return fail(options, `security_opt ${option}: no podman translation`);
  });
}

/**
 * tmpfs options. podman 4.3 refuses `uid=`/`gid=`; its `U` option chowns the mount to the
 * container's user instead, which is the same only when they name that user.
 */
function tmpfsMounts(_value: YamlValue, service: YamlMap, options: ComposePodmanOptions) {
  const [uid, gid = uid] = scalar(service.user ?? '0').split(':');
  return [...tmpfsOf(service)].flatMap(([path, mountOptions]) => {
    const translated: string[] = [];
    let chown = false;
    for (const [name, value] of mountOptions) {
      if (name === 'uid' || name === 'gid') {
        if (value !== (name === 'uid' ? uid : gid))
          fail(
            options,
            `tmpfs ${path}: ${name}=${value} is not the service's user ${service.user}`,
          );
        chown = true;
      } else {
        translated.push(value === '' ? name : `${name}=${value}`);
      }
    }
    if (chown) translated.push('U');
    return ['--tmpfs', `${path}:${translated.join(',')}`];
  });
}

function volumeMounts(value: YamlValue, _service: YamlMap, options: ComposePodmanOptions) {
  return strings(value).flatMap((entry) => {
    const [source = '', target, mode] = entry.split(':');
    if (target === undefined) return ['--volume', source];
    const volume = options.volumes.get(source);
    if (volume === undefined) return fail(options, `volume ${source}: no podman volume given`);
    return ['--volume', [volume, target, ...(mode ? [mode] : [])].join(':')];
  });
}

function environment(_value: YamlValue, service: YamlMap, options: ComposePodmanOptions) {
  return [...environmentOf(service)].flatMap(([name, value]) => {
    const given = value ?? options.passThrough[name];
    return given === undefined ? [] : ['--env', `${name}=${given}`];
  });
}

function ports(value: YamlValue, _service: YamlMap, options: ComposePodmanOptions) {
  return strings(value).flatMap((entry) => {
    const match = /^(?:(\d+\.\d+\.\d+\.\d+):)?(\d+):(\d+)$/.exec(entry);
    if (!match) return fail(options, `ports ${entry}: expected [IP:]HOST:CONTAINER`);
    const container = Number(match[3]);
    const host = options.hostPorts.get(container);
    if (host === undefined) return fail(options, `ports ${entry}: no host port given`);
    return ['--publish', `${match[1] ? `${match[1]}:` : ''}${host}:${container}`];
  });
}

/**
 * The health check, exec form (`[CMD, argv...]`) or shell form (`[CMD-SHELL, script]`). podman's
 * --health-cmd reads a JSON array as the argv itself: given with its `CMD`, it splits the JSON
 * text at spaces instead.
 */
function healthcheck(value: YamlValue, _service: YamlMap, options: ComposePodmanOptions) {
  if (!isYamlMap(value)) return fail(options, 'healthcheck is not a mapping');
  if (value.disable === true) return ['--no-healthcheck'];
  const test = strings(value.test);
  const [kind, ...rest] = test;
  let command: string;
  if (kind === 'CMD' && rest.length > 0) command = JSON.stringify(rest);
  else if (kind === 'CMD-SHELL' && rest.length === 1) command = rest[0] ?? '';
  else return fail(options, `healthcheck.test ${JSON.stringify(test)}: expected CMD or CMD-SHELL`);
  const args = ['--health-cmd', command];
  const timing: Record<string, string> = {
    interval: '--health-interval',
    timeout: '--health-timeout',
    start_period: '--health-start-period',
  };
  for (const [key, item] of Object.entries(value)) {
    if (key === 'test') continue;
    const flag = timing[key];
    if (flag) args.push(flag, duration(item, options, `healthcheck.${key}`));
    else if (key === 'retries') args.push('--health-retries', scalar(item));
    else fail(options, `healthcheck.${key}: no podman translation`);
  }
  return args;
}

/**
 * json-file is podman's k8s-file; `max-file` has no podman counterpart (podman keeps one file,
 * truncated at max-size), the one option left out.
 */
function logging(value: YamlValue, _service: YamlMap, options: ComposePodmanOptions) {
  if (!isYamlMap(value)) return fail(options, 'logging is not a mapping');
  const args = ['--log-driver', scalar(value.driver ?? 'json-file')];
  const logOptions = value.options;
  if (isYamlMap(logOptions)) {
    for (const [name, item] of Object.entries(logOptions)) {
      if (name === 'max-file') continue;
      if (name !== 'max-size') fail(options, `logging.options.${name}: no podman translation`);
      args.push('--log-opt', `${name}=${scalar(item)}`);
    }
  }
  return args;
}

const TRANSLATIONS: Record<string, Translate> = {
  user: (value) => ['--user', scalar(value)],
  init: (value) => (value === true ? ['--init'] : []),
  // Docker's read_only adds no writable /run or /var/tmp; podman's --read-only does, unless told.
  read_only: (value) => (value === true ? ['--read-only', '--read-only-tmpfs=false'] : []),
  security_opt: securityOptions,
  cap_drop: (value) => strings(value).flatMap((cap) => ['--cap-drop', cap]),
  cap_add: (value) => strings(value).flatMap((cap) => ['--cap-add', cap]),
  tmpfs: tmpfsMounts,
  pids_limit: (value) => ['--pids-limit', scalar(value)],
  mem_limit: (value) => ['--memory', scalar(value)],
  memswap_limit: (value) => ['--memory-swap', scalar(value)],
  cpus: (value) => ['--cpus', scalar(value)],
  stop_grace_period: (value, _service, options) => [
    '--stop-timeout',
    String(seconds(value, options, 'stop_grace_period')),
  ],
  restart: (value) => ['--restart', scalar(value)],
  logging,
  volumes: volumeMounts,
  environment,
  ports,
  healthcheck,
  command: (value) => strings(value),
};

/** `podman create` options for the service (everything before the image name) and its command. */
export function podmanCreateArgs(
  service: YamlMap,
  options: ComposePodmanOptions,
): { options: string[]; command: string[] } {
  const args: string[] = [];
  let command: string[] = [];
  for (const [key, value] of Object.entries(service)) {
    if (NOT_CONTAINER_OPTIONS.has(key)) continue;
    const translate = TRANSLATIONS[key];
    if (!translate) fail(options, `no podman translation for the key "${key}"`);
    else if (key === 'command') command = translate(value, service, options);
    else args.push(...translate(value, service, options));
  }
  return { options: args, command };
}
