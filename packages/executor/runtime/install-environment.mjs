// runbox's dependency installer: runs inside a sandbox whose network namespace has nothing but
// loopback, and installs a run's Python and Node packages into /workspace/env, which the host
// keeps as a cached environment (packages/executor/src/environments/).
//
// Usage: node install-environment.mjs PLAN_FILE
//
// PLAN_FILE (JSON, written by the host): {
//   "python": null | { "requirements": "manifest/requirements.txt" | null,
//                      "pyproject": "manifest/pyproject.toml" | null, "packages": [...] },
//   "node": null | { "packageJson": "manifest/package.json" | null,
//                    "lockfile": "manifest/package-lock.json" | null, "packages": {...} } }
// Environment: RUNBOX_EGRESS_SOCKET (the host's egress proxy, a Unix socket bound read-only into
// the sandbox), RUNBOX_PIP_INDEX_URL, RUNBOX_NPM_REGISTRY, RUNBOX_NPM_CLI.
//
// The network: pip and npm are told to use an HTTP proxy on this sandbox's own 127.0.0.1, where a
// forwarder started here passes each connection, byte for byte, to the host's proxy socket. The
// host's proxy lets through only the registries the operator allows; everything else it refuses.
// No route leaves the sandbox: its only interface is loopback.
//
// Output: pip's and npm's own, plus lines starting with `runbox-install:` that say what is done.
// The exit status is the first failing step's.

import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, writeFileSync, copyFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import process from 'node:process';
import { URL } from 'node:url';

const ENV_DIR = '/workspace/env';

function say(line) {
  process.stdout.write(`runbox-install: ${line}\n`);
}

/** A TCP forwarder on loopback to the host's proxy socket; resolves with its port. */
function startForwarder(socketPath) {
  const server = createServer((client) => {
    const upstream = connect({ path: socketPath });
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close);
    upstream.on('error', close);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  return new Promise((resolve, reject) => {
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.unref();
      resolve(server.address().port);
    });
  });
}

/** Runs one step with its output passed through; resolves with its exit status. */
function step(file, args, options) {
  return new Promise((resolve) => {
    const child = spawn(file, args, { stdio: ['ignore', 'inherit', 'inherit'], ...options });
    child.on('error', (error) => {
      say(`could not start ${file}: ${error.message}`);
      resolve(127);
    });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

/** The dependencies a pyproject.toml declares: [project] dependencies and its test extras. */
function pyprojectDependencies(path) {
  const script = [
    'import json, sys, tomllib',
    'data = tomllib.load(open(sys.argv[1], "rb")).get("project", {})',
    'deps = list(data.get("dependencies", []))',
    'extras = data.get("optional-dependencies", {})',
    'for name in ("test", "tests", "dev"): deps += extras.get(name, [])',
    'print(json.dumps(deps))',
  ].join('\n');
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/python3', ['-c', script, path], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.on('exit', (code) => {
      if (code !== 0) reject(new Error(`${path} could not be read as TOML`));
      else resolve(JSON.parse(out));
    });
  });
}

async function installPython(plan, proxy) {
  const index = process.env.RUNBOX_PIP_INDEX_URL;
  const target = `${ENV_DIR}/python`;
  const sources = [];
  if (plan.requirements) sources.push('-r', `/workspace/${plan.requirements}`);
  const named = [...plan.packages];
  if (plan.pyproject) named.push(...(await pyprojectDependencies(`/workspace/${plan.pyproject}`)));
  // After `--`: a name that starts with a dash is a (bad) requirement, never one of pip's options.
  if (named.length > 0) sources.push('--', ...named);
  mkdirSync(target, { recursive: true });
  if (sources.length === 0) {
    say('python: nothing to install');
    return 0;
  }
  const host = new URL(index).hostname;
  say(`python: pip install into the environment from ${index}`);
  return step(
    '/usr/bin/python3',
    [
      '-m',
      'pip',
      'install',
      '--target',
      target,
      '--no-cache-dir',
      '--disable-pip-version-check',
      '--no-input',
      '--progress-bar',
      'off',
      '--no-warn-script-location',
      '--index-url',
      index,
      // pip ignores a plain-http index unless it is trusted; the operator chose it.
      ...(index.startsWith('http:') ? ['--trusted-host', host] : []),
      '--proxy',
      proxy,
      ...sources,
    ],
    {
      env: {
        ...process.env,
        PIP_CONFIG_FILE: '/dev/null',
        // What pip starts (git for a VCS requirement) goes through the same proxy, so reaches
        // only what the operator allows.
        http_proxy: proxy,
        https_proxy: proxy,
        HTTP_PROXY: proxy,
        HTTPS_PROXY: proxy,
        no_proxy: '',
        NO_PROXY: '',
      },
    },
  );
}

async function installNode(plan, proxy) {
  const registry = process.env.RUNBOX_NPM_REGISTRY;
  const dir = '/workspace/node-install';
  mkdirSync(dir, { recursive: true });
  if (plan.packageJson) copyFileSync(`/workspace/${plan.packageJson}`, `${dir}/package.json`);
  else
    writeFileSync(
      `${dir}/package.json`,
      JSON.stringify({ name: 'runbox-environment', private: true, dependencies: plan.packages }),
    );
  if (plan.lockfile) copyFileSync(`/workspace/${plan.lockfile}`, `${dir}/package-lock.json`);
  // npm reads no configuration but this: empty files, one each (npm refuses one file for both).
  writeFileSync('/tmp/npmrc-user', '');
  writeFileSync('/tmp/npmrc-global', '');
  const command = plan.lockfile ? 'ci' : 'install';
  say(`node: npm ${command} from ${registry}`);
  const status = await step(
    '/opt/runbox/bin/node',
    [
      process.env.RUNBOX_NPM_CLI,
      command,
      '--registry',
      registry,
      '--proxy',
      proxy,
      '--https-proxy',
      proxy,
      '--noproxy',
      '',
      '--no-audit',
      '--no-fund',
      '--no-update-notifier',
      '--cache',
      '/tmp/npm-cache',
      '--loglevel',
      'warn',
      // One retry: a registry that answers wrongly (an integrity mismatch) fails in seconds.
      '--fetch-retries',
      '1',
      ...(plan.lockfile ? [] : ['--no-package-lock']),
    ],
    {
      cwd: dir,
      env: {
        ...process.env,
        HOME: '/tmp',
        npm_config_userconfig: '/tmp/npmrc-user',
        npm_config_globalconfig: '/tmp/npmrc-global',
      },
    },
  );
  if (status !== 0) return status;
  mkdirSync(`${ENV_DIR}`, { recursive: true });
  try {
    renameSync(`${dir}/node_modules`, `${ENV_DIR}/node_modules`);
  } catch {
    mkdirSync(`${ENV_DIR}/node_modules`, { recursive: true });
  }
  return 0;
}

const plan = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const port = await startForwarder(process.env.RUNBOX_EGRESS_SOCKET);
const proxy = `http://127.0.0.1:${port}`;
mkdirSync(ENV_DIR, { recursive: true });
let status = 0;
if (plan.python) status = await installPython(plan.python, proxy);
if (status === 0 && plan.node) status = await installNode(plan.node, proxy);
say(status === 0 ? 'done' : `failed (exit status ${status})`);
process.exit(status);
