import { performance } from 'node:perf_hooks';
import {
  checkSyntaxInFreshSandbox,
  checkSyntaxInSandbox,
  syntaxCheckersOf,
} from '../src/engine/syntax-check.ts';
import { LANGUAGES, type Language } from '../src/languages/index.ts';
import { SyntaxCheckError } from '../src/validation/validation-errors.ts';
import { withBenchHost } from './bench-host.ts';
import { section } from './section.ts';
import { MiB, ms, percentile } from './stats.ts';

const ITERATIONS = 100;
const BLOCK = 10;
const TARGET_P50_MS = 2;

/** A small program and the same with a syntax error, as a submit brings them. */
const SNIPPETS: Record<Language, readonly [ok: string, broken: string]> = {
  python: [
    'def mean(xs):\n    return sum(xs) / len(xs)\n\nprint(mean([1, 2, 3]))\n',
    'def mean(xs):\n    return sum(xs) / len(xs\n\nprint(mean([1, 2, 3]))\n',
  ],
  javascript: [
    'const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;\nconsole.log(mean([1, 2, 3]));\n',
    'const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;\nconsole.log(mean([1, 2, 3]);\n',
  ],
  typescript: [
    'const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;\nconsole.log(mean([1, 2, 3]));\n',
    'const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;\nenum E { A }\n',
  ],
  bash: ['for i in 1 2 3; do\n  echo "line $i"\ndone\n', 'for i in 1 2 3; do\n  echo "line $i"\n'],
};

/** One check as a submit makes it; throws when the answer is not the expected one. */
async function timed(
  check: typeof checkSyntaxInSandbox,
  host: Parameters<typeof checkSyntaxInSandbox>[0],
  language: Language,
  broken: boolean,
): Promise<number> {
  const code = SNIPPETS[language][broken ? 1 : 0];
  const start = performance.now();
  let refused = false;
  try {
    await check(host, language, code);
  } catch (error) {
    if (!(error instanceof SyntaxCheckError)) throw error;
    refused = true;
  }
  const elapsed = performance.now() - start;
  if (refused !== broken)
    throw new Error(
      `${language}: the check ${refused ? 'refused' : 'passed'} a snippet it should not`,
    );
  return elapsed;
}

await section(
  `syntax check per submit: long-lived checkers vs a sandbox per check, ${ITERATIONS} checks per language`,
  (signal) =>
    withBenchHost('syntax', async ({ host }) => {
      const pool = syntaxCheckersOf(host);
      const coldStart = new Map<Language, number>();
      // The first check of each language starts its checker: its price, paid once per checker.
      for (const language of LANGUAGES)
        coldStart.set(language, await timed(checkSyntaxInSandbox, host, language, true));
      // Warm both paths (page cache, the workspace slots).
      for (const language of LANGUAGES) {
        for (let i = 0; i < 5; i++) {
          await timed(checkSyntaxInSandbox, host, language, i % 2 === 1);
          await timed(checkSyntaxInFreshSandbox, host, language, i % 2 === 1);
        }
      }

      const pooled = new Map<Language, number[]>(LANGUAGES.map((language) => [language, []]));
      const fresh = new Map<Language, number[]>(LANGUAGES.map((language) => [language, []]));
      // Interleaved in blocks, so both see the same machine load, but a checker's answer is not timed
      // in the wake of a sandbox's tear-down; half the snippets have a syntax error.
      for (let block = 0; block < ITERATIONS / BLOCK; block++) {
        for (const [check, samples] of [
          [checkSyntaxInSandbox, pooled],
          [checkSyntaxInFreshSandbox, fresh],
        ] as const) {
          for (let i = 0; i < BLOCK; i++) {
            for (const language of LANGUAGES) {
              signal.throwIfAborted();
              samples.get(language)?.push(await timed(check, host, language, i % 2 === 1));
            }
          }
        }
      }
      const stats = pool.stats();
      // Before the host's clean-up, which counts any sandbox still alive as a leftover.
      await pool.close();

      const all = (samples: Map<Language, number[]>): number[] => [...samples.values()].flat();
      const row = (label: string, a: number[], b: number[]): string =>
        `  ${label.padEnd(11)} checker p50 ${ms(percentile(a, 50)).padStart(9)}  p95 ${ms(percentile(a, 95)).padStart(9)}` +
        `   sandbox per check p50 ${ms(percentile(b, 50)).padStart(9)}  p95 ${ms(percentile(b, 95)).padStart(9)}` +
        `   ${(percentile(b, 50) / percentile(a, 50)).toFixed(0)}x`;
      console.log(
        `syntax check per submit, ${ITERATIONS} checks per language (workspace ${host.workspaces.mechanism}, cgroup ${host.cgroups.version})`,
      );
      for (const language of LANGUAGES)
        console.log(row(language, pooled.get(language) ?? [], fresh.get(language) ?? []));
      const allPooled = all(pooled);
      console.log(row('all', allPooled, all(fresh)));
      console.log(
        `  a checker's start (first check of a language): ${LANGUAGES.map((language) => `${language} ${ms(coldStart.get(language) ?? Number.NaN)}`).join(', ')}`,
      );
      console.log(
        `  checkers: ${LANGUAGES.map((language) => `${language} ${stats[language].started} started, ${(stats[language].memoryBytes / MiB).toFixed(1)} MiB`).join('; ')}`,
      );
      const p50 = percentile(allPooled, 50);
      console.log(
        `  cost per submit p50 ${ms(p50)} (target <= ${TARGET_P50_MS} ms: ${p50 <= TARGET_P50_MS ? 'met' : 'MISSED'})`,
      );
    }),
);
