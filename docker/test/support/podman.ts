import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand, type CommandOptions, type CommandResult } from './commands.ts';

/**
 * Debian's podman with a store and configuration of its own (nothing in /etc or in the machine's
 * default store is touched or seen): runc, not crun (crun 1.8 cannot set RLIMIT_NOFILE here and
 * has no cgroup v1 hybrid support), ulimits this machine allows, tini as the `--init`, cgroupfs.
 */
export class Podman {
  readonly root: string;
  readonly runRoot: string;
  readonly configFile: string;

  constructor(stateDir: string) {
    this.root = join(stateDir, 'storage');
    this.runRoot = join('/run', `runbox-container-test-${hashOf(stateDir)}`);
    this.configFile = join(stateDir, 'containers.conf');
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    writeFileSync(
      this.configFile,
      [
        '[containers]',
        // The machine's own hard limit on open files is 20000; podman's default asks for more.
        'default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]',
        // Docker's `init: true` runs its tini; Debian's podman has no catatonit.
        'init_path = "/usr/bin/tini-static"',
        '[engine]',
        'runtime = "runc"',
        '',
      ].join('\n'),
    );
  }

  private argv(args: readonly string[]): string[] {
    return [
      'podman',
      '--root',
      this.root,
      '--runroot',
      this.runRoot,
      '--storage-driver',
      'overlay',
      '--cgroup-manager',
      'cgroupfs',
      // Health checks run on demand (`podman healthcheck run`): scheduling them needs systemd.
      '--log-level',
      'error',
      ...args,
    ];
  }

  run(args: readonly string[], options: CommandOptions = {}): Promise<CommandResult> {
    return runCommand(this.argv(args), {
      ...options,
      env: { ...process.env, ...options.env, CONTAINERS_CONF: this.configFile },
    });
  }

  /** stdout of a command that must succeed, trimmed. */
  async out(args: readonly string[], options: CommandOptions = {}): Promise<string> {
    return (await this.run(args, options)).stdout.trim();
  }

  async imageExists(name: string): Promise<boolean> {
    return (await this.run(['image', 'exists', name], { allowFailure: true })).exitCode === 0;
  }
}

function hashOf(text: string): string {
  let hash = 0;
  for (const ch of text) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
  return hash.toString(16);
}
