import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  DockerfileError,
  keyValues,
  parseDockerfile,
  stagesOf,
  type Instruction,
} from './support/dockerfile.ts';
import { aptPackages, loadDockerfileStages, readRepoFile, repoPath } from './support/files.ts';

const stages = loadDockerfileStages();
const finalStage = stages.at(-1);
if (!finalStage) throw new Error('docker/Dockerfile has no stage');
const all = stages.flatMap((stage) => stage.instructions);
const inFinal = (keyword: string): Instruction[] =>
  finalStage.instructions.filter((instruction) => instruction.keyword === keyword);
/** The stage whose whole filesystem the final stage starts from (`COPY --from=<it> / /`). */
const systemStage = stages.find(
  (stage) =>
    stage.name !== null &&
    finalStage.instructions[0]?.keyword === 'COPY' &&
    finalStage.instructions[0].flags.from === stage.name &&
    finalStage.instructions[0].args === '/ /',
);
const inSystem = (keyword: string): Instruction[] =>
  (systemStage?.instructions ?? []).filter((instruction) => instruction.keyword === keyword);
/** The command a RUN runs after its CA preamble (see 'lends the build a CA bundle...'). */
const CA_PREAMBLE =
  'if [ -f /run/secrets/build-ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/build-ca; fi   && ';
const commandOf = (run: Instruction): string =>
  run.args.startsWith(CA_PREAMBLE) ? run.args.slice(CA_PREAMBLE.length) : run.args;

/** NODE_VERSION and PNPM_VERSION as ./runbox pins them. */
const runboxScript = readRepoFile('runbox');
const pinned = (name: string): string => {
  const value = new RegExp(`^${name}=(\\S+)$`, 'm').exec(runboxScript)?.[1];
  if (!value) throw new Error(`./runbox does not pin ${name}`);
  return value;
};

/** Splits a shell command into words, keeping quotes and $(...) together. */
function shellWords(command: string): string[] {
  const words: string[] = [];
  let word = '';
  let depth = 0;
  let quote: string | null = null;
  for (let i = 0; i < command.length; i++) {
    const ch = command[i] ?? '';
    if (quote) {
      if (ch === quote) quote = null;
      word += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      word += ch;
    } else if (ch === '$' && command[i + 1] === '(') {
      depth++;
      word += '$(';
      i++;
    } else if (ch === ')' && depth > 0) {
      depth--;
      word += ch;
    } else if (/\s/.test(ch) && depth === 0) {
      if (word) words.push(word);
      word = '';
    } else {
      word += ch;
    }
  }
  if (word) words.push(word);
  return words;
}

describe('the Dockerfile reader', () => {
  it('joins continuations, drops comment lines inside them, reads flags and exec form', () => {
    const instructions = parseDockerfile(
      [
        '# syntax=docker/dockerfile:1',
        'FROM node:24.21.0-bookworm-slim AS base',
        'RUN apt-get update \\',
        '# a comment inside the continuation',
        '  && apt-get install -y bubblewrap',
        'COPY --from=base --chown=1:1 /a /b',
        'HEALTHCHECK --interval=5s CMD ["node", "-e", "1"]',
        'ENV A=1 B="two words" \\',
        '  C=3',
      ].join('\n'),
    );
    expect(instructions.map((i) => i.keyword)).toEqual([
      'FROM',
      'RUN',
      'COPY',
      'HEALTHCHECK',
      'ENV',
    ]);
    expect(instructions[1]?.args).toBe('apt-get update   && apt-get install -y bubblewrap');
    expect(instructions[2]?.flags).toEqual({ from: 'base', chown: '1:1' });
    expect(instructions[3]?.flags).toEqual({ interval: '5s' });
    expect(instructions[3]?.args).toBe('CMD ["node", "-e", "1"]');
    expect([...keyValues(instructions[4] as Instruction)]).toEqual([
      ['A', '1'],
      ['B', 'two words'],
      ['C', '3'],
    ]);
    expect(stagesOf(instructions)[0]).toMatchObject({
      from: 'node:24.21.0-bookworm-slim',
      name: 'base',
    });
  });

  it.each([
    ['a heredoc', 'FROM x:1.2.3\nRUN <<EOF\necho\nEOF'],
    ['a dangling continuation', 'FROM x:1.2.3\nRUN echo \\'],
    ['an exec form that is not JSON', 'FROM x:1.2.3\nCMD [node, main.ts]'],
    ['an instruction before FROM', 'RUN true'],
  ])('refuses %s', (_what, text) => {
    expect(() => stagesOf(parseDockerfile(text))).toThrow(DockerfileError);
  });
});

describe('docker/Dockerfile', () => {
  it('is multi-stage: dependencies, build, system, runtime', () => {
    expect(stages.map((stage) => stage.name)).toEqual([
      'dependencies',
      'build',
      'system',
      'runtime',
    ]);
  });

  it('flattens the system stage into the runtime stage: what it removed is in no layer below', () => {
    expect(finalStage.from).toBe('scratch');
    expect(systemStage?.name).toBe('system');
    // Only the app is added to it.
    const copies = inFinal('COPY').map((copy) => [copy.flags.from, copy.args]);
    expect(copies).toEqual([
      ['system', '/ /'],
      ['build', '/app /app'],
    ]);
    expect(inFinal('RUN')).toEqual([]);
    // `FROM scratch` has no PATH: the final stage sets Debian's.
    const env = new Map(inFinal('ENV').flatMap((i) => [...keyValues(i)]));
    expect(env.get('PATH')).toBe('/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
  });

  it('pins every base image to an exact version (never latest, never a bare major)', () => {
    const names = new Set(stages.map((stage) => stage.name));
    const external = stages
      .map((stage) => stage.from)
      .filter((from) => !names.has(from) && from !== 'scratch');
    expect(external.length).toBeGreaterThan(0);
    for (const from of external) {
      const match = /^([a-z0-9._/-]+):([A-Za-z0-9._-]+)(@sha256:[0-9a-f]{64})?$/.exec(from);
      expect(match, `FROM ${from}: image:tag[@sha256:digest]`).not.toBeNull();
      const tag = match?.[2] ?? '';
      expect(tag).not.toMatch(/latest/);
      expect(tag, `FROM ${from}: the tag names an exact version`).toMatch(/^\d+\.\d+\.\d+(-|$)/);
    }
  });

  it('uses the Node and pnpm that ./runbox pins, pnpm installed with npm (no corepack)', () => {
    const node = pinned('NODE_VERSION');
    for (const stage of stages.filter((s) => s.from.startsWith('node:'))) {
      expect(stage.from).toMatch(new RegExp(`^node:${node.replaceAll('.', '\\.')}-`));
    }
    const runs = all.filter((i) => i.keyword === 'RUN').map(commandOf);
    expect(runs).toContain(
      `npm install --global --no-audit --no-fund --loglevel=error pnpm@${pinned('PNPM_VERSION')}`,
    );
    expect(readRepoFile('docker/Dockerfile')).not.toMatch(/corepack (enable|prepare)/);
    expect(runs.some((run) => /pnpm install --frozen-lockfile/.test(run))).toBe(true);
    expect(runs).toContain('sh scripts/install-sandbox-tools.sh');
  });

  it('lends the build a CA bundle only as a secret, to the steps that download, and keeps none', () => {
    const downloads = all.filter(
      (i) =>
        i.keyword === 'RUN' &&
        /npm install|pnpm fetch|install-sandbox-tools/.test(i.args) &&
        !/--offline/.test(i.args),
    );
    expect(downloads).toHaveLength(3);
    for (const run of downloads) {
      expect(run.flags.mount, `line ${run.line}`).toBe('type=secret,id=build-ca');
      expect(run.args.startsWith(CA_PREAMBLE), `line ${run.line}`).toBe(true);
    }
    // Nowhere else: no ENV or ARG names it, no other step mounts it, the shipped stages never see it.
    const mentions = all.filter((i) =>
      /build-ca|EXTRA_CA/.test(`${i.args} ${i.flags.mount ?? ''}`),
    );
    expect(mentions).toEqual(downloads);
    for (const stage of [systemStage, finalStage])
      expect(stage?.instructions.some((i) => i.flags.mount !== undefined)).toBe(false);
  });

  it('installs production dependencies afresh, without test, lint or browser packages', () => {
    const prod = all.find((i) => i.keyword === 'RUN' && /--prod\b/.test(i.args))?.args ?? '';
    // A fresh install: the full install's node_modules are removed first.
    expect(prod).toMatch(/^rm -rf node_modules /);
    expect(prod).toContain('pnpm install --frozen-lockfile --offline --prod');
    expect(prod).toMatch(/rm -rf node_modules\/\.pnpm\/@playwright\+test@\*/);
    expect(prod).toContain("-name '*.map'");
  });

  it('runs the final stage as a fixed non-root uid', () => {
    const user = inFinal('USER').at(-1)?.args ?? '';
    expect(user).toMatch(/^\d+:\d+$/);
    const uid = Number(user.split(':')[0]);
    expect(uid).toBeGreaterThanOrEqual(1000);
    // Nothing after USER switches back to root.
    const last = finalStage.instructions.at(-1);
    const userIndex = finalStage.instructions.lastIndexOf(inFinal('USER').at(-1) as Instruction);
    expect(finalStage.instructions.slice(userIndex).some((i) => i.keyword === 'RUN')).toBe(false);
    expect(last?.keyword).toBe('CMD');
  });

  it('checks health on /readyz with node (no curl in the image)', () => {
    const healthcheck = inFinal('HEALTHCHECK');
    expect(healthcheck).toHaveLength(1);
    const command = /^CMD\s+(\[.*\])$/s.exec(healthcheck[0]?.args ?? '')?.[1];
    expect(command, 'HEALTHCHECK CMD in exec form').toBeDefined();
    const argv = JSON.parse(command ?? '[]') as string[];
    expect(argv[0]).toBe('node');
    expect(argv.join(' ')).toMatch(/fetch\('http:\/\/127\.0\.0\.1:.*\/readyz'/);
  });

  it('starts the server itself, not ./runbox', () => {
    const cmd = inFinal('CMD').at(-1);
    expect(cmd?.exec).toEqual(['node', 'packages/api/src/main.ts']);
    expect(existsSync(repoPath('packages/api/src/main.ts'))).toBe(true);
    expect(inFinal('ENTRYPOINT')).toEqual([]);
  });

  it('sets the environment, working directory, data volume and port', () => {
    const env = new Map(inFinal('ENV').flatMap((i) => [...keyValues(i)]));
    expect(env.get('NODE_ENV')).toBe('production');
    expect(env.get('RUNBOX_DATA_DIR')).toBe('/data');
    expect(env.get('RUNBOX_WORKSPACE_TMPFS')).toBe('0');
    expect(env.get('RUNBOX_SANDBOX_DIR')).toMatch(/^\//);
    expect(inFinal('WORKDIR').at(-1)?.args).toBe('/app');
    expect(
      inFinal('VOLUME')
        .map((i) => i.exec ?? i.args.split(/\s+/))
        .flat(),
    ).toEqual(['/data']);
    expect(inFinal('EXPOSE').map((i) => i.args)).toEqual([env.get('PORT')]);
  });

  it('adds nothing from a URL and bakes in no secret', () => {
    for (const add of all.filter((i) => i.keyword === 'ADD')) {
      expect(add.args, `line ${add.line}`).not.toMatch(/https?:\/\/|git@|\.git\b/);
    }
    for (const instruction of all.filter((i) => i.keyword === 'ENV' || i.keyword === 'ARG')) {
      for (const [name, value] of keyValues(instruction)) {
        if (/TOKEN|KEY|PASSWORD|SECRET|CREDENTIAL/i.test(name)) {
          expect(value, `${instruction.keyword} ${name} on line ${instruction.line}`).toBe('');
        }
      }
    }
  });

  it('installs exactly the packages of docker/apt-packages.txt in the system stage', () => {
    const copy = inSystem('COPY').find((i) => i.args.startsWith('docker/apt-packages.txt '));
    const destination = copy?.args.split(/\s+/)[1];
    expect(destination, 'COPY docker/apt-packages.txt DEST').toMatch(/^\//);

    const installs = inSystem('RUN').flatMap((run) =>
      run.args.split(/&&|;/).filter((part) => /apt-get install/.test(part)),
    );
    expect(installs).toHaveLength(1);
    const words = shellWords(installs[0] ?? '');
    const operands = words.slice(words.indexOf('install') + 1).filter((w) => !w.startsWith('-'));
    const expected = `$(sed -e 's/#.*//' ${destination})`;
    expect(operands).toEqual([expected]);

    // The same command, run on the real file, names exactly the listed packages.
    const listed = aptPackages(readRepoFile('docker/apt-packages.txt'));
    expect(listed).toContain('bubblewrap');
    const sed = expected
      .slice(2, -1)
      .replace(destination ?? '', repoPath('docker/apt-packages.txt'));
    const output = execFileSync('sh', ['-c', sed], { encoding: 'utf8' });
    expect(output.split(/\s+/).filter(Boolean)).toEqual(listed);

    // No other stage installs Debian packages.
    for (const stage of stages.filter((s) => s !== systemStage)) {
      expect(
        stage.instructions.some((i) => /apt-get install/.test(i.args)),
        stage.name ?? '',
      ).toBe(false);
    }
  });

  it('reads the same list with the same sed as ./runbox', () => {
    expect(runboxScript).toMatch(/^\s*lists="docker\/apt-packages\.txt"$/m);
    expect(runboxScript).toContain(`$(sed -e 's/#.*//' $lists)`);
  });
});
