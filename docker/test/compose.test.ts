import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { keyValues } from './support/dockerfile.ts';
import { loadCompose, loadDockerfileStages, readRepoFile, repoPath } from './support/files.ts';
import { isYamlMap, type YamlMap, type YamlValue } from './support/read-yaml.ts';

const compose = loadCompose();
const services = compose.services;
if (!isYamlMap(services)) throw new Error('docker/compose.yaml has no services mapping');
const runbox = services.runbox;
if (!isYamlMap(runbox)) throw new Error('docker/compose.yaml has no runbox service');
const service: YamlMap = runbox;

const finalStage = loadDockerfileStages().at(-1);
if (!finalStage) throw new Error('docker/Dockerfile has no stage');
const imageEnv = new Map(
  finalStage.instructions
    .filter((instruction) => instruction.keyword === 'ENV')
    .flatMap((instruction) => [...keyValues(instruction)]),
);
const imageUser = finalStage.instructions.filter((i) => i.keyword === 'USER').at(-1)?.args;

const strings = (value: YamlValue | undefined): string[] =>
  Array.isArray(value) ? value.map((item) => String(item)) : [];

/** Every string anywhere in a YAML value, keys included. */
function allStrings(value: YamlValue): string[] {
  if (Array.isArray(value)) return value.flatMap(allStrings);
  if (isYamlMap(value)) return Object.entries(value).flatMap(([k, v]) => [k, ...allStrings(v)]);
  return value === null ? [] : [String(value)];
}

/** Docker's byte sizes: 256m, 4g, 1024k, or plain bytes. */
function bytes(text: string): number {
  const match = /^(\d+)([bkmg]?)$/i.exec(text);
  if (!match) return Number.NaN;
  const unit = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(match[2] ?? '').toLowerCase()];
  return Number(match[1]) * (unit ?? Number.NaN);
}

/** The tmpfs entries as mount path → options (`size=256m` → size: 256m, `exec` → exec: ''). */
const tmpfs = new Map<string, Map<string, string>>();
for (const entry of strings(service.tmpfs)) {
  const [path = '', options = ''] = entry.split(/:(.*)/s);
  const parsed = new Map<string, string>();
  for (const option of options.split(',')) {
    const [name = '', value = ''] = option.split('=');
    parsed.set(name, value);
  }
  tmpfs.set(path, parsed);
}

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

  it('never mounts the Docker socket', () => {
    expect(readRepoFile('docker/compose.yaml')).not.toMatch(/docker\.sock/);
    expect(allStrings(compose).filter((s) => /docker\.sock|\/var\/run\/docker/.test(s))).toEqual(
      [],
    );
  });
});
