import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkSyntaxInFreshSandbox,
  checkSyntaxInSandbox,
  syntaxCheckersOf,
} from '../src/engine/syntax-check.ts';
import type { Language } from '../src/languages/index.ts';
import {
  createSandboxHost,
  type SandboxHost,
  type SandboxHostConfig,
} from '../src/sandbox/sandbox-host.ts';
import { syntaxCheckError } from '../src/validation/syntax-check-argv.ts';
import {
  createSyntaxCheckerPool,
  type SyntaxCheckerPool,
} from '../src/validation/syntax-checker-pool.ts';
import { SyntaxCheckError } from '../src/validation/validation-errors.ts';
import { processesOfUid } from './support/sandbox-harness.ts';
import { claimTestUid, releaseTestUid } from './support/test-uid.ts';

// The long-lived checkers against the one-shot check they replace, on a real sandbox host: same
// answers, nothing run, nothing carried from one check to the next, and every checker gone when
// the host closes.

interface TestHost {
  host: SandboxHost;
  sandboxUid: number;
  /** This host's checkers' uid, this file's alone: its processes are this host's checkers. */
  checkerUid: number;
  close(): Promise<void>;
}

/** A host of this file's own: its directory, group, and uids no other test file uses. */
async function testHost(name: string, config: SandboxHostConfig = {}): Promise<TestHost> {
  const suffix = randomBytes(3).toString('hex');
  const stateDir = join(tmpdir(), `runbox-test-${name}-${suffix}`);
  // Claimed, not drawn: two hosts of this file on one checker uid once counted each other's
  // checkers as leftovers (CI, 1 in 900).
  const sandboxUid = claimTestUid(64_100, 800);
  const checkerUid = claimTestUid(62_000, 900);
  const host = await createSandboxHost({
    ...config,
    stateDir,
    cgroupGroupName: `runbox-test-${name}-${suffix}`,
    sandboxUid,
    checkerUid,
  });
  return {
    host,
    sandboxUid,
    checkerUid,
    async close() {
      await host.close();
      await rm(stateDir, { recursive: true, force: true });
      releaseTestUid(sandboxUid);
      releaseTestUid(checkerUid);
    },
  };
}

let harness: TestHost;
let closedByTest = false;

beforeAll(async () => {
  harness = await testHost('syntax-checker');
});
afterAll(async () => {
  if (!closedByTest) await harness.close();
});

/** What a submit would be told: nothing, or the SyntaxCheckError's fields. */
type Told = 'ok' | { line: number | null; message: string };

function toldBy(error: unknown): Told {
  if (!(error instanceof SyntaxCheckError)) throw error;
  return { line: error.line, message: error.message };
}

async function fresh(language: Language, code: string): Promise<Told> {
  return checkSyntaxInFreshSandbox(harness.host, language, code).then(() => 'ok' as const, toldBy);
}

async function submitted(language: Language, code: string): Promise<Told> {
  return checkSyntaxInSandbox(harness.host, language, code).then(() => 'ok' as const, toldBy);
}

/** The pool's own answer, as a submit would tell it; 'unavailable' when the pool had none. */
async function pooled(pool: SyntaxCheckerPool, language: Language, code: string) {
  const answer = await pool.check(language, code);
  if (answer.verdict === 'syntax-error') return toldBy(syntaxCheckError(language, answer.stderr));
  if (answer.verdict === 'unavailable') return 'unavailable';
  return 'ok';
}

const CORPUS: Record<Language, readonly string[]> = {
  python: [
    'print("ok")\n',
    'x = 1\nif x ==\n',
    'x = 1\ndef f(:\n  pass\n',
    'x = 1\nreturn x\n',
    'if True:\nprint(1)\n',
    'a = 1\n    b = 2\n',
    'print(1)\0\n',
    '# -*- coding: latin-1 -*-\nx = "é"\n',
    '\ufeffprint(1)\n',
    'x = "\\N{NO SUCH NAME}"\n',
    'print "hello"\n',
    'x = 1\r\nif x ==\r\n',
    '',
    'x = "\\d"\n',
    'def f():\n    yield = 1\n',
    'nonlocal x\n',
    'ü = 1\nprint(ü)\n',
    'x = "\ud800"\n',
    'async def f():\n    await g()\nawait f()\n',
    'match x:\n    case 1:\n        pass\n',
  ],
  bash: [
    'echo ok\n',
    'echo hi\nif true; then\n  echo x\n',
    'echo ok\nif then fi\n',
    'echo $((\n',
    'case x in\n',
    'a=(\n',
    'echo "unterminated\n',
    'f() {\n',
    '#!/bin/bash\nset -e\nfor i in 1 2; do echo $i; done\n',
    'cat <<EOF\nhi\n',
    'echo é\nif\n',
    'echo a\0b\n',
  ],
  javascript: [
    'console.log(1)',
    'let x = 1;\nlet x = 2;\n',
    'const a = 1;\nconst = 2;\n',
    'function f() {\n',
    'import fs from "fs";\nlet a = 1;\nlet a = 2;\n',
    'await 1;\nfoo(',
    'return 5',
    '#!/usr/bin/env node\nconsole.log(1)',
    'export default 1;\n',
    'console.log(import.meta.url)\n',
    'const x = `\n',
    '"use strict";\nwith (a) {}\n',
    'with (a) {}\n',
    'class A { #x; m() { delete this.#x } }\n',
    '<!-- an old comment\nconsole.log(1)\n',
    'import x from "y";\n<!-- an old comment\n',
    'const { a } = require("x");\nexport const b = 1;\n',
    'let exports = 1;\n',
    'x = 1 +\n',
  ],
  typescript: [
    'const a: number = 1;\ninterface I { x: string }\nconsole.log(a as number);\n',
    'const a: number = "s";\n',
    'import fs from "node:fs";\nawait 1;\nexport const b: number = 2;\n',
    'const a: number = 1;\nconst b: = 2;\n',
    'const a = 1;\nenum E { A }\n',
    'let a: number = 1;\nlet a = 2;\n',
    'var yield = 1;\nlet a = 1;\nlet a = 2;\n',
    'import fs from "node:fs";\nlet a = 1;\nlet a = 2;\n',
    'namespace N { export const x = 1 }\n',
    'class A { constructor(private x: number) {} }\n',
    'function f<T>(x: T): T { return x }\n',
    'let x: string = `\n',
    'return 1',
  ],
};

/** Inputs made to hurt a parser: deep nesting, stack and memory exhaustion, a crashing parse. */
const HOSTILE: readonly [Language, string][] = [
  ['python', `${'-'.repeat(50_000)}1\n`],
  ['python', `x = ${'1+'.repeat(40_000)}1\n`],
  ['python', `x = ${'lambda: '.repeat(10_000)}1\n`],
  ['python', `x = ${'('.repeat(300)}${')'.repeat(300)}\n`],
  ['javascript', '['.repeat(50_000)],
  ['javascript', `${'('.repeat(10_000)}${')'.repeat(10_000)}`],
  ['typescript', `let a: ${'Array<'.repeat(5_000)}number${'>'.repeat(5_000)} = [];\n`],
  ['bash', `${'$('.repeat(5_000)}${')'.repeat(5_000)}`],
  // An error whose message is longer than the one-shot check's output limit: undecided there.
  ['bash', `if then ${'x'.repeat(70_000)}\n`],
];

describe('the long-lived checkers answer as the one-shot check does', () => {
  it.each(Object.keys(CORPUS) as Language[])('%s', async (language) => {
    const pool = syntaxCheckersOf(harness.host);
    const before = pool.stats()[language];
    const corpus = CORPUS[language];
    for (const code of corpus) {
      const once = await fresh(language, code);
      expect({ code, told: await pooled(pool, language, code) }).toEqual({ code, told: once });
    }
    const after = pool.stats()[language];
    // Every answer came from a checker, and one checker gave them all.
    expect(after.answered - before.answered).toBe(corpus.length);
    expect(after.started - before.started).toBeLessThanOrEqual(1);
  });

  it('the engine contract: a syntax error is refused with its line', async () => {
    expect(await submitted('python', 'x = 1\nif x ==\n')).toEqual({
      line: 2,
      message: 'python code has a syntax error on line 2: SyntaxError: invalid syntax',
    });
    expect(await submitted('javascript', 'const a = 1;\nconst = 2;\n')).toMatchObject({ line: 2 });
    expect(await submitted('bash', 'echo ok\nif then fi\n')).toMatchObject({ line: 2 });
    expect(await submitted('typescript', 'const a = 1;\nenum E { A }\n')).toMatchObject({
      line: 2,
    });
  });

  it.each(HOSTILE.map(([language, code]) => [language, code.slice(0, 24), code]))(
    'hostile %s %s…: the same answer, and the next check is right',
    async (language, _label, code) => {
      expect(await submitted(language, code)).toEqual(await fresh(language, code));
      const broken = { python: 'if x ==\n', bash: 'if then fi\n' }[language as string];
      const bad = broken ?? 'let a = 1;\nlet a = 2;\n';
      const line = broken ? 1 : 2;
      expect(await submitted(language, bad)).toMatchObject({ line });
      expect(await submitted(language, 'x = 1\n')).toBe('ok');
    },
  );
});

describe('parse-only: nothing of a snippet runs in the checker', () => {
  // Each would write to the checker's stdout (a reply nobody asked for ends a checker) or end its
  // process if it ran; the checker answering on, with no restart, shows that none of it ran.
  const RUN_IF_YOU_CAN: readonly [Language, string][] = [
    ['python', 'import os\nos.write(1, b"0 0\\n")\nos._exit(3)\n'],
    ['python', '__import__("sys").stdout.write("1 0\\n")\nraise SystemExit(4)\n'],
    [
      'javascript',
      'Object.defineProperty(globalThis, "x", { get() { process.stdout.write("0 0\\n"); process.exit(3) } });\nx;\nprocess.exit(4);\n',
    ],
    ['javascript', 'process.stdout.write("0 0\\n");\nlet a = 1;\nlet a = 2;\n'],
    [
      'javascript',
      'import fs from "node:fs";\nfs.writeSync(1, "0 0\\n");\nprocess.kill(process.pid);\n',
    ],
    ['typescript', 'const a: number = (process.stdout.write("0 0\\n"), process.exit(5));\n'],
    ['bash', 'echo "0 0"\nkill -9 $PPID\nexit 3\n'],
    ['bash', 'cat <<EOF\n$(echo "0 0"; kill -9 1)\nEOF\n'],
  ];

  it.each(RUN_IF_YOU_CAN)('%s: %j', async (language, code) => {
    const pool = syntaxCheckersOf(harness.host);
    expect(await submitted(language, 'x = 1\n')).toBe('ok');
    const before = pool.stats()[language];
    const told = await pooled(pool, language, code);
    expect(told).toEqual(await fresh(language, code));
    expect(await pooled(pool, language, 'x = 1\n')).toBe('ok');
    const after = pool.stats()[language];
    expect(after.started).toBe(before.started);
    expect(after.answered - before.answered).toBe(2);
  });

  it('an error that echoes a reply header is read as one reply', async () => {
    const pool = syntaxCheckersOf(harness.host);
    expect(await pooled(pool, 'bash', 'echo ok\nif then 0 0 last\n2 5\n')).toMatchObject({
      line: 2,
    });
    expect(
      await pooled(pool, 'javascript', 'let a = 1;\nlet a = "\\n0 0\\n1 3 last";\n'),
    ).toMatchObject({ line: 2 });
    expect(await pooled(pool, 'bash', 'echo ok\n')).toBe('ok');
    expect(await pooled(pool, 'javascript', 'x = 1\n')).toBe('ok');
  });
});

describe('nothing carries over from one check to the next', () => {
  it('an encoding or a strict directive holds for its own snippet only', async () => {
    const pool = syntaxCheckersOf(harness.host);
    const ascii = '# -*- coding: ascii -*-\nx = "é"\n';
    expect(await pooled(pool, 'python', ascii)).toEqual(await fresh('python', ascii));
    expect(await pooled(pool, 'python', ascii)).not.toBe('ok');
    expect(await pooled(pool, 'python', 'x = "é"\n')).toBe('ok');
    expect(await pooled(pool, 'javascript', '"use strict";\nwith (a) {}\n')).toMatchObject({
      line: 2,
    });
    expect(await pooled(pool, 'javascript', 'with (a) {}\n')).toBe('ok');
  });

  it('a checker killed from outside is replaced, and every answer stays right', async () => {
    const pool = syntaxCheckersOf(harness.host);
    const killAll = (): void => {
      for (const pid of processesOfUid(harness.checkerUid)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone already
        }
      }
    };
    expect(await submitted('python', 'print(1)\n')).toBe('ok');
    const started = pool.stats().python.started;
    // Between checks: the next one is a new checker's.
    killAll();
    await until(() => pool.stats().python.live === 0);
    expect(await pooled(pool, 'python', 'x = 1\nif x ==\n')).toMatchObject({ line: 2 });
    // In the middle of one (or just after it): the one-shot check answers what was lost.
    const during = submitted('python', 'x = 1\ny = 2\nif y ==\n');
    killAll();
    expect(await during).toMatchObject({ line: 3 });
    await until(() => pool.stats().python.live === 0);
    expect(await pooled(pool, 'python', 'print(1)\n')).toBe('ok');
    expect(await pooled(pool, 'python', 'def f(:\n')).toMatchObject({ line: 1 });
    expect(pool.stats().python.started).toBe(started + 2);
  });
});

describe('a pool of its own, with its bounds made small', () => {
  it('replaces a checker after its number of checks', async () => {
    const pool = createSyntaxCheckerPool(harness.host, { maxChecksPerChecker: 2 });
    try {
      for (let i = 1; i <= 5; i++)
        expect(await pooled(pool, 'python', `${'\n'.repeat(i)}if x ==\n`)).toMatchObject({
          line: i + 1,
        });
      expect(pool.stats().python).toMatchObject({ started: 3, answered: 5 });
    } finally {
      await pool.close();
    }
  });

  it('replaces a checker whose sandbox grew past the memory bound', async () => {
    const pool = createSyntaxCheckerPool(harness.host, { memoryBoundBytes: 1 });
    try {
      expect(await pooled(pool, 'javascript', 'x = 1\n')).toBe('ok');
      // Its memory is read once a second.
      await sleep(1_500);
      expect(await pooled(pool, 'javascript', 'let a;\nlet a;\n')).toMatchObject({ line: 2 });
      expect(pool.stats().javascript.started).toBe(2);
    } finally {
      await pool.close();
    }
  });

  it('a check with no answer in time lets the run go on, and its checker goes', async () => {
    const pool = createSyntaxCheckerPool(harness.host, { checkTimeoutMs: 1 });
    try {
      expect(await pool.check('typescript', 'const a = 1;\nenum E { A }\n')).toEqual({
        verdict: 'undecided',
        reason: 'the check timed out',
      });
      await until(() => pool.stats().typescript.live === 0);
    } finally {
      await pool.close();
    }
  });

  it('ends idle checkers', async () => {
    const pool = createSyntaxCheckerPool(harness.host, { idleMs: 50 });
    try {
      expect(await pooled(pool, 'bash', 'echo ok\n')).toBe('ok');
      await until(() => pool.stats().bash.live === 0);
      expect(await pooled(pool, 'bash', 'if then fi\n')).toMatchObject({ line: 1 });
      expect(pool.stats().bash.started).toBe(2);
    } finally {
      await pool.close();
    }
  });

  it('runs at most its number of checkers per language, however many checks come', async () => {
    const pool = createSyntaxCheckerPool(harness.host, {
      checkersPerLanguage: 2,
      queueWaitMs: 30_000,
    });
    try {
      const told = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          pooled(pool, 'python', i % 2 === 0 ? 'print(1)\n' : `${'\n'.repeat(i)}if x ==\n`),
        ),
      );
      told.forEach((answer, i) =>
        expect(answer).toEqual(i % 2 === 0 ? 'ok' : expect.objectContaining({ line: i + 1 })),
      );
      expect(pool.stats().python.started).toBe(2);
    } finally {
      await pool.close();
    }
  });

  it('closes: waiting and later checks are unavailable, no checker is left', async () => {
    const pool = createSyntaxCheckerPool(harness.host, { checkersPerLanguage: 1 });
    const first = pool.check('javascript', 'x = 1\n');
    const second = pool.check('javascript', 'x = 2\n');
    await pool.close();
    expect(await first).toEqual(
      expect.objectContaining({ verdict: expect.stringMatching(/^(ok|unavailable)$/) }),
    );
    expect(await second).toEqual({ verdict: 'unavailable', reason: 'the pool is closed' });
    expect(await pool.check('python', 'x = 1\n')).toMatchObject({ verdict: 'unavailable' });
    expect(Object.values(pool.stats()).every((stats) => stats.live === 0)).toBe(true);
  });
});

describe('a checker that cannot start', () => {
  it('is not started again for a while: the one-shot check answers meanwhile', async () => {
    // `node` in this host's sandboxes is /bin/false: the JavaScript checker dies before a word.
    const broken = await testHost('syntax-nostart', {
      nodeBinary: '/bin/false',
      sandboxToolsDir: null,
    });
    const failures: string[] = [];
    const pool = createSyntaxCheckerPool(broken.host, {
      onCheckerError: (_language, error) => failures.push(error.message),
    });
    try {
      expect(await pool.check('javascript', 'x = 1\n')).toMatchObject({ verdict: 'unavailable' });
      await until(() => failures.some((message) => message.includes('did not start')));
      expect(await pool.check('javascript', 'x = 1\n')).toEqual({
        verdict: 'unavailable',
        reason: 'the checker does not start',
      });
      expect(pool.stats().javascript.started).toBe(1);
      // The other languages do not depend on node.
      expect(await pooled(pool, 'python', 'if x ==\n')).toMatchObject({ line: 1 });
    } finally {
      await pool.close();
      await broken.close();
    }
    expect(processesOfUid(broken.checkerUid)).toEqual([]);
  });
});

describe("the checkers' own uid", () => {
  it("no process of the runs' uid is a checker: none is left when no run is", async () => {
    for (const language of Object.keys(CORPUS) as Language[])
      expect(await submitted(language, 'x = 1\n')).toBe('ok');
    expect(processesOfUid(harness.checkerUid).length).toBeGreaterThanOrEqual(4);
    expect(processesOfUid(harness.sandboxUid)).toEqual([]);
  });
});

describe('closing the host', () => {
  it('ends every checker of its pool', async () => {
    for (const language of Object.keys(CORPUS) as Language[])
      expect(await submitted(language, 'x = 1\n')).toBe('ok');
    const pool = syntaxCheckersOf(harness.host);
    expect(Object.values(pool.stats()).every((stats) => stats.live >= 1)).toBe(true);
    closedByTest = true;
    await harness.close();
    expect(Object.values(pool.stats()).every((stats) => stats.live === 0)).toBe(true);
    expect(processesOfUid(harness.checkerUid)).toEqual([]);
    expect(processesOfUid(harness.sandboxUid)).toEqual([]);
  });
});

/** Waits for a condition the pool reaches on its own (a checker's end), up to 10 s. */
async function until(condition: () => boolean): Promise<void> {
  for (let waited = 0; !condition(); waited += 20) {
    if (waited > 10_000) throw new Error('the condition did not hold within 10 s');
    await sleep(20);
  }
}
