import { defineConfig } from 'vitest/config';

/** Tests whose assertions include a deadline (a kill within 250 ms of the limit) run alone first. */
const TIMING = ['packages/executor/test/hostile-processes.test.ts'];
/**
 * The container test builds the image and runs it (minutes of both cores): last and alone, so
 * that it neither slows the others into their timeouts nor is slowed by them.
 */
const CONTAINER = ['docker/test/container.test.ts'];

export default defineConfig({
  test: {
    // Hostile sandbox tests spawn real processes; 2 cores, so keep parallelism modest.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: { name: 'timing', include: TIMING, sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        test: {
          name: 'main',
          include: [
            'packages/*/src/**/*.test.ts',
            'packages/*/test/**/*.test.ts',
            'docker/test/**/*.test.ts',
            'apps/web/src/**/*.test.ts',
          ],
          exclude: [...TIMING, ...CONTAINER, '**/node_modules/**'],
          sequence: { groupOrder: 1 },
        },
      },
      {
        extends: true,
        test: { name: 'container', include: CONTAINER, sequence: { groupOrder: 2 } },
      },
    ],
  },
});
