import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  allStrings,
  asContainerSees,
  bytes,
  environmentOf,
  serviceOf,
  strings,
  tmpfsOf,
} from './support/compose-services.ts';
import { keyValues } from './support/dockerfile.ts';
import { loadCompose, loadDockerfileStages, readRepoFile, repoPath } from './support/files.ts';
import { isYamlMap, type YamlMap } from './support/read-yaml.ts';

const compose = loadCompose();
const services = compose.services;
if (!isYamlMap(services)) throw new Error('docker/compose.yaml has no services mapping');
const service: YamlMap = serviceOf(compose, 'runbox');
const redis: YamlMap = serviceOf(compose, 'redis');
const worker: YamlMap = serviceOf(compose, 'worker');

const finalStage = loadDockerfileStages().at(-1);
if (!finalStage) throw new Error('docker/Dockerfile has no stage');
const imageEnv = new Map(
  finalStage.instructions
    .filter((instruction) => instruction.keyword === 'ENV')
    .flatMap((instruction) => [...keyValues(instruction)]),
);
const imageUser = finalStage.instructions.filter((i) => i.keyword === 'USER').at(-1)?.args;

const tmpfs = tmpfsOf(service);

describe('docker/compose.yaml: the runbox service', () => {
  it('builds docker/Dockerfile from the repository root', () => {
    expect(service.build).toEqual({ context: '..', dockerfile: 'docker/Dockerfile' });
    expect(existsSync(repoPath('docker/Dockerfile'))).toBe(true);
    // With context "..", the ignore file that counts is the one at the repository root.
    const ignore = readRepoFile('.dockerignore').split('\n');
    for (const entry of ['.git', '**/node_modules', '.runbox', 'data', '**/.env']) {
      expect(ignore).toContain(entry);
    }
  });

  it('sets no-new-privileges and the committed seccomp profile', () => {
    const options = strings(service.security_opt);
    expect(options).toContain('no-new-privileges:true');
    expect(options).toContain('seccomp=./seccomp.json');
    expect(existsSync(repoPath('docker/seccomp.json'))).toBe(true);
    expect(options.filter((o) => o.startsWith('seccomp'))).toHaveLength(1);
  });

  it('never turns seccomp or AppArmor off, and unmasks only the system paths bwrap --proc needs', () => {
    const options = strings(service.security_opt);
    expect(options.filter((o) => /unconfined/.test(o))).toEqual(['systempaths=unconfined']);
    expect(options.filter((o) => /^label[:=]disable/.test(o))).toEqual([]);
  });

  it('drops every capability and adds none back', () => {
    expect(service.cap_drop).toEqual(['ALL']);
    expect(service.cap_add ?? []).toEqual([]);
  });

  it('has a read-only root filesystem and runs as the image’s non-root user', () => {
    expect(service.read_only).toBe(true);
    expect(service.user).toBe(imageUser);
    expect(String(service.user)).not.toMatch(/^(0|root)(:|$)/);
  });

  it('gives /tmp and the sandbox directory a sized tmpfs', () => {
    expect(tmpfs.size).toBeGreaterThan(0);
    for (const [path, options] of tmpfs) {
      const size = bytes(options.get('size') ?? '');
      expect(size, `${path} size`).toBeGreaterThan(0);
    }
    expect(tmpfs.has('/tmp')).toBe(true);
    const sandboxDir = imageEnv.get('RUNBOX_SANDBOX_DIR');
    expect(sandboxDir).toBeTruthy();
    const sandboxTmpfs = tmpfs.get(sandboxDir ?? '');
    expect(sandboxTmpfs, `tmpfs at RUNBOX_SANDBOX_DIR ${sandboxDir}`).toBeDefined();
    // The server chmods its sandbox directory: the mount must belong to the server's uid.
    expect(sandboxTmpfs?.get('uid')).toBe(imageUser?.split(':')[0]);
  });

  it('keeps the data directory on a named volume', () => {
    const dataDir = imageEnv.get('RUNBOX_DATA_DIR');
    expect(dataDir).toBe('/data');
    const volumes = strings(service.volumes);
    expect(volumes).toEqual([`runbox-data:${dataDir}`]);
    const declared = compose.volumes;
    expect(isYamlMap(declared) && Object.hasOwn(declared, 'runbox-data')).toBe(true);
  });

  it('limits processes, memory (without swap) and CPU', () => {
    expect(service.pids_limit).toBeTypeOf('number');
    expect(Number(service.pids_limit)).toBeGreaterThan(0);
    expect(bytes(String(service.mem_limit))).toBeGreaterThan(0);
    expect(service.memswap_limit).toBe(service.mem_limit);
    expect(Number(service.cpus)).toBeGreaterThan(0);
  });

  it('checks health on /readyz and reaps orphans with an init', () => {
    const healthcheck = service.healthcheck;
    expect(isYamlMap(healthcheck)).toBe(true);
    const test = isYamlMap(healthcheck) ? strings(healthcheck.test) : [];
    expect(test[0]).toBe('CMD');
    expect(test.join(' ')).toMatch(/\/readyz/);
    expect(service.init).toBe(true);
  });

  it('keeps secrets out of the file', () => {
    for (const entry of strings(service.environment)) {
      const [name = '', value] = entry.split(/=(.*)/s);
      if (/TOKEN|KEY|PASSWORD|SECRET/i.test(name)) {
        expect(value, `${name} must come from the environment or docker/.env`).toBeUndefined();
      }
    }
    expect(service.env_file).toBeUndefined();
  });

  it('publishes on the loopback only', () => {
    for (const port of strings(service.ports)) expect(port).toMatch(/^127\.0\.0\.1:/);
  });
});

/** The keys that make a container a sandbox host; the worker must have the API's exactly. */
const SANDBOX_HOST_KEYS = [
  'user',
  'init',
  'read_only',
  'security_opt',
  'cap_drop',
  'cap_add',
  'tmpfs',
  'pids_limit',
  'mem_limit',
  'memswap_limit',
  'cpus',
  'stop_grace_period',
  'restart',
  'logging',
] as const;

const profilesOf = (entry: YamlMap): string[] => strings(entry.profiles);

/** The redis service's command script (`sh -c <script>`), as the container receives it. */
function redisScript(): string {
  const command = strings(redis.command);
  expect(command.slice(0, 2)).toEqual(['sh', '-c']);
  expect(command).toHaveLength(3);
  return asContainerSees(command[2] ?? '');
}

describe('docker/compose.yaml: the scale profile', () => {
  it('leaves the plain `up` embedded: runbox alone has no profile, redis and worker need `scale`', () => {
    const always = Object.entries(services)
      .filter(([, entry]) => isYamlMap(entry) && profilesOf(entry).length === 0)
      .map(([name]) => name);
    expect(always).toEqual(['runbox']);
    expect(profilesOf(redis)).toEqual(['scale']);
    expect(profilesOf(worker)).toEqual(['scale']);
  });

  it('publishes no port of redis or of a worker', () => {
    for (const [name, entry] of [
      ['redis', redis],
      ['worker', worker],
    ] as const) {
      expect(entry.ports, `${name}.ports`).toBeUndefined();
      expect(entry.network_mode, `${name}.network_mode`).toBeUndefined();
    }
  });

  it('starts redis only with a password from the environment, given on stdin', () => {
    expect([...environmentOf(redis)]).toEqual([['RUNBOX_REDIS_PASSWORD', undefined]]);
    const script = redisScript();
    expect(script).toContain('"${RUNBOX_REDIS_PASSWORD:-}"');
    // The config read from stdin (the trailing `-`) sets it, so no command line shows it.
    expect(script).toMatch(/^exec redis-server .* - <<EOF\nrequirepass \$password\nEOF\n?$/m);
    expect(script).not.toMatch(/--requirepass/);
    // The check runs before it: an unset or empty password stops the container.
    expect(script.indexOf("'' |")).toBeGreaterThan(-1);
    expect(script.indexOf("'' |")).toBeLessThan(script.indexOf('exec redis-server'));
  });

  it('keeps nothing on disk and never evicts BullMQ’s keys', () => {
    const line = redisScript()
      .split('\n')
      .find((l) => l.startsWith('exec redis-server'));
    expect(line).toContain("--save ''");
    expect(line).toContain('--appendonly no');
    expect(line).toContain('--maxmemory-policy noeviction');
    // A Redis limit below the container's: Redis refuses writes before the kernel kills it.
    const maxmemory = /--maxmemory (\d+)mb/.exec(line ?? '')?.[1];
    expect(Number(maxmemory) * 1024 ** 2).toBeLessThan(bytes(String(redis.mem_limit)));
  });

  it('hardens redis like the rest: non-root, read-only, no capability, no privilege gain, limits', () => {
    expect(String(redis.user)).toMatch(/^\d+:\d+$/);
    expect(String(redis.user)).not.toMatch(/^0:/);
    expect(redis.read_only).toBe(true);
    expect(redis.init).toBe(true);
    expect(redis.cap_drop).toEqual(['ALL']);
    expect(redis.cap_add).toBeUndefined();
    // Docker's default seccomp profile and masks: Redis needs none of bwrap's additions.
    expect(strings(redis.security_opt)).toEqual(['no-new-privileges:true']);
    expect(Number(redis.pids_limit)).toBeGreaterThan(0);
    expect(bytes(String(redis.mem_limit))).toBeGreaterThan(0);
    expect(redis.memswap_limit).toBe(redis.mem_limit);
    expect(Number(redis.cpus)).toBeGreaterThan(0);
    expect(redis.logging).toEqual(service.logging);
    expect(redis.restart).toBe(service.restart);
    // The image's VOLUME /data becomes a small tmpfs, not an anonymous volume on disk.
    expect(redis.volumes).toBeUndefined();
    const data = tmpfsOf(redis).get('/data');
    expect(bytes(data?.get('size') ?? '')).toBeGreaterThan(0);
    expect(data?.get('uid')).toBe(String(redis.user).split(':')[0]);
  });

  it('checks redis health with the password, never on a command line', () => {
    const healthcheck = redis.healthcheck;
    expect(isYamlMap(healthcheck)).toBe(true);
    const test = isYamlMap(healthcheck) ? strings(healthcheck.test) : [];
    expect(test[0]).toBe('CMD-SHELL');
    const shell = asContainerSees(test[1] ?? '');
    expect(shell).toMatch(/^REDISCLI_AUTH="\$RUNBOX_REDIS_PASSWORD" redis-cli ping /);
    expect(shell).not.toMatch(/ -a /);
  });

  it('runs a worker from the API’s image: the bundle the image builds, nothing served', () => {
    expect(worker.build).toEqual(service.build);
    expect(worker.image).toBe(service.image);
    expect(strings(worker.command)).toEqual([
      'node',
      '--max-semi-space-size=2',
      '.runbox/worker/worker-main.mjs',
    ]);
    // Built in the image's build stage, which keeps /app's .runbox into the runtime stage.
    expect(readRepoFile('docker/Dockerfile')).toMatch(/^RUN node scripts\/build-worker\.mjs$/m);
    expect(readRepoFile('runbox')).toContain('.runbox/worker/worker-main.mjs');
    // The image's check asks /readyz, which a worker does not serve.
    expect(worker.healthcheck).toEqual({ disable: true });
    expect(worker.depends_on).toEqual({ redis: { condition: 'service_healthy' } });
  });

  it('gives a worker the same sandbox hardening as the API', () => {
    for (const key of SANDBOX_HOST_KEYS) expect(worker[key], key).toEqual(service[key]);
    expect(strings(worker.security_opt)).toContain('seccomp=./seccomp.json');
    expect(tmpfsOf(worker).has(imageEnv.get('RUNBOX_SANDBOX_DIR') ?? '')).toBe(true);
  });

  it('shares no filesystem with the API, and caches where the read-only root allows', () => {
    const volumes = strings(worker.volumes);
    expect(volumes).toEqual(['/data']);
    expect(volumes.some((volume) => volume.includes('runbox-data'))).toBe(false);
    const cacheDir = environmentOf(worker).get('RUNBOX_WORKER_CACHE_DIR') ?? '';
    expect(cacheDir.startsWith('/data/')).toBe(true);
  });

  it('points a worker at Redis, at the API service and with the worker token', () => {
    const environment = environmentOf(worker);
    expect(environment.has('RUNBOX_REDIS_URL')).toBe(true);
    expect(environment.has('RUNBOX_WORKER_TOKEN')).toBe(true);
    const api = new URL(environment.get('RUNBOX_API_URL') ?? '');
    expect(api.protocol).toBe('http:');
    expect(api.hostname).toBe('runbox');
    expect(api.port).toBe(imageEnv.get('PORT'));
    // Node counts the host's cores, not the cpus limit.
    expect(Number(environment.get('RUNBOX_WORKER_CONCURRENCY'))).toBe(Number(worker.cpus));
  });

  it('gives the API and the workers the Redis URL, token and lease from the same variables', () => {
    const api = environmentOf(service);
    const workers = environmentOf(worker);
    for (const name of ['RUNBOX_REDIS_URL', 'RUNBOX_WORKER_TOKEN', 'RUNBOX_WORKER_LEASE_MS']) {
      // Passed through by name: set in docker/.env for the scale profile, unset (embedded) otherwise.
      expect(api.has(name), `runbox ${name}`).toBe(true);
      expect(api.get(name), `runbox ${name}`).toBeUndefined();
      expect(workers.has(name), `worker ${name}`).toBe(true);
      expect(workers.get(name), `worker ${name}`).toBeUndefined();
    }
    expect(api.has('RUNBOX_ROLE')).toBe(true);
    expect(api.get('RUNBOX_ROLE')).toBeUndefined();
  });
});

describe('docker/compose.yaml: what no service may have', () => {
  const all = Object.entries(services);

  it('is never privileged', () => {
    for (const [name, entry] of all) {
      expect(isYamlMap(entry) && entry.privileged === true, name).toBe(false);
    }
  });

  it('never shares the host’s network, pid, ipc, uts or user namespace', () => {
    for (const [name, entry] of all) {
      if (!isYamlMap(entry)) continue;
      for (const key of ['network_mode', 'pid', 'ipc', 'uts', 'userns_mode', 'cgroup']) {
        expect(entry[key] === 'host', `${name}.${key}`).toBe(false);
      }
      expect(entry.devices, `${name}.devices`).toBeUndefined();
    }
  });

  it('hard-codes no secret: secret variables are passed through by name, no URL holds a password', () => {
    for (const [name, entry] of all) {
      if (!isYamlMap(entry)) continue;
      expect(entry.env_file, `${name}.env_file`).toBeUndefined();
      for (const [variable, value] of environmentOf(entry)) {
        if (/TOKEN|KEY|PASSWORD|SECRET|REDIS_URL/i.test(variable))
          expect(
            value,
            `${name}: ${variable} must come from the shell or docker/.env`,
          ).toBeUndefined();
      }
    }
    expect(allStrings(compose).filter((s) => /[a-z]+:\/\/[^/\s@]*:[^/\s@]*@/i.test(s))).toEqual([]);
  });

  it('leaves every variable to the container: no Compose interpolation, so no default either', () => {
    // Compose interpolates every service before it applies profiles: a `${VAR}` in a service of
    // the scale profile would warn, and `${VAR:?}` fail, in the plain `up` too.
    for (const text of allStrings(compose)) expect(() => asContainerSees(text)).not.toThrow();
  });

  it('publishes ports on the loopback only', () => {
    for (const [name, entry] of all) {
      if (!isYamlMap(entry)) continue;
      for (const port of strings(entry.ports)) expect(port, name).toMatch(/^127\.0\.0\.1:/);
    }
  });

  it('never mounts the Docker socket', () => {
    expect(readRepoFile('docker/compose.yaml')).not.toMatch(/docker\.sock/);
    expect(allStrings(compose).filter((s) => /docker\.sock|\/var\/run\/docker/.test(s))).toEqual(
      [],
    );
  });
});
