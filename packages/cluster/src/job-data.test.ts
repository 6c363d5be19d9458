import { describe, expect, it } from 'vitest';
import { bullPriority, PRIORITY_RANGE, runJobSchema } from './job-data.ts';

const DIGEST = `sha256-${'ab12'.repeat(16)}`;

function snippetJob(): Record<string, unknown> {
  return {
    runId: '7f0c1f9e-3b7a-4c55-9d2e-0a1b2c3d4e5f',
    request: { kind: 'snippet', language: 'python', code: 'print(1)' },
    projectDigest: null,
    limits: { wallTimeMs: 5_000, memoryBytes: 64 * 1024 * 1024 },
    output: { maxLines: 10_000, pii: false },
    priority: 0,
    queuedAt: 1_700_000_000_000,
    warnings: [{ check: 'syntax', message: 'looks odd', line: 3 }],
  };
}

function toolJob(): Record<string, unknown> {
  return {
    ...snippetJob(),
    request: { kind: 'tool', toolId: 'pytest', projectDir: '/srv/projects/p1', entry: 'main.py' },
    projectDigest: DIGEST,
  };
}

/** The paths of the issues a refused job got, to tell which check refused it. */
function refusal(job: unknown): string[] {
  const parsed = runJobSchema.safeParse(job);
  expect(parsed.success).toBe(false);
  return parsed.error?.issues.map((issue) => issue.path.join('.')) ?? [];
}

describe('runJobSchema', () => {
  it('accepts a valid snippet job', () => {
    const job = snippetJob();
    expect(runJobSchema.parse(job)).toEqual(job);
  });

  it('accepts a valid tool job with the digest of its project', () => {
    const job = toolJob();
    expect(runJobSchema.parse(job)).toEqual(job);
  });

  it('refuses an extra field at the top', () => {
    expect(refusal({ ...snippetJob(), worker: 'w1' })).toEqual(['']);
  });

  it('refuses an extra field inside the request', () => {
    const job = snippetJob();
    expect(refusal({ ...job, request: { ...(job.request as object), sneaky: true } })).toEqual([
      'request',
    ]);
  });

  it('refuses a snippet that names a project digest', () => {
    expect(refusal({ ...snippetJob(), projectDigest: DIGEST })).toEqual(['projectDigest']);
  });

  it('refuses a tool run without a project digest', () => {
    expect(refusal({ ...toolJob(), projectDigest: null })).toEqual(['projectDigest']);
  });

  it.each([
    ['no prefix', 'ab12'.repeat(16)],
    ['too short', `sha256-${'a'.repeat(63)}`],
    ['too long', `sha256-${'a'.repeat(65)}`],
    ['upper case hex', `sha256-${'AB12'.repeat(16)}`],
    ['not hex', `sha256-${'g'.repeat(64)}`],
    ['another algorithm', `sha512-${'a'.repeat(64)}`],
  ])('refuses a bad digest (%s)', (_what, digest) => {
    expect(refusal({ ...toolJob(), projectDigest: digest })).toContain('projectDigest');
  });

  it.each(['run-1', '', '7f0c1f9e3b7a4c559d2e0a1b2c3d4e5f', '7f0c1f9e-3b7a-4c55-9d2e-0a1b2c3d4e5'])(
    'refuses a runId that is no uuid (%j)',
    (runId) => {
      expect(refusal({ ...snippetJob(), runId })).toEqual(['runId']);
    },
  );

  it.each([
    ['an unknown limit', { wallTimeMs: 5_000, gpus: 1 }, 'limits'],
    ['a fractional wall time', { wallTimeMs: 1.5 }, 'limits.wallTimeMs'],
    ['a limit as text', { memoryBytes: '64M' }, 'limits.memoryBytes'],
  ])('refuses limits out of the schema (%s)', (_what, limits, path) => {
    expect(refusal({ ...snippetJob(), limits })).toEqual([path]);
  });

  it.each([0, -1, 100_000_001, 2.5])('refuses output.maxLines %d', (maxLines) => {
    expect(refusal({ ...snippetJob(), output: { maxLines, pii: false } })).toEqual([
      'output.maxLines',
    ]);
  });

  it('accepts output.maxLines at both ends of its range', () => {
    for (const maxLines of [1, 100_000_000])
      expect(
        runJobSchema.safeParse({ ...snippetJob(), output: { maxLines, pii: true } }).success,
      ).toBe(true);
  });
});

describe('bullPriority', () => {
  const BULL_MIN = 1;
  const BULL_MAX = 2_097_151;

  it('gives a higher runbox priority a smaller BullMQ priority (BullMQ starts small first)', () => {
    const priorities = [-1_000_000, -5_000, -1, 0, 1, 10, 999_999, 1_000_000];
    const bull = priorities.map(bullPriority);
    for (let i = 1; i < bull.length; i++) expect(bull[i]).toBeLessThan(bull[i - 1] ?? 0);
  });

  it('stays within 1..2 097 151 for every priority', () => {
    const samples = [
      Number.MIN_SAFE_INTEGER,
      -5_000_000,
      PRIORITY_RANGE.min - 1,
      PRIORITY_RANGE.min,
      -1,
      0,
      1,
      PRIORITY_RANGE.max,
      PRIORITY_RANGE.max + 1,
      5_000_000,
      Number.MAX_SAFE_INTEGER,
    ];
    for (const priority of samples) {
      const bull = bullPriority(priority);
      expect(Number.isInteger(bull)).toBe(true);
      expect(bull).toBeGreaterThanOrEqual(BULL_MIN);
      expect(bull).toBeLessThanOrEqual(BULL_MAX);
    }
  });

  it('clamps priorities outside PRIORITY_RANGE to its ends', () => {
    expect(bullPriority(PRIORITY_RANGE.max + 1)).toBe(bullPriority(PRIORITY_RANGE.max));
    expect(bullPriority(Number.MAX_SAFE_INTEGER)).toBe(bullPriority(PRIORITY_RANGE.max));
    expect(bullPriority(PRIORITY_RANGE.min - 1)).toBe(bullPriority(PRIORITY_RANGE.min));
    expect(bullPriority(Number.MIN_SAFE_INTEGER)).toBe(bullPriority(PRIORITY_RANGE.min));
  });

  it('gives priority 0 a prioritized value (BullMQ treats 0 as unprioritized)', () => {
    const bull = bullPriority(0);
    expect(bull).not.toBe(0);
    expect(bull).toBeGreaterThanOrEqual(BULL_MIN);
    expect(bull).toBeLessThan(bullPriority(-1));
    expect(bull).toBeGreaterThan(bullPriority(1));
  });
});
