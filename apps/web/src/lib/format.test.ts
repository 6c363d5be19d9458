import { describe, expect, it } from 'vitest';
import {
  describeState,
  formatBytes,
  formatDuration,
  formatEstimate,
  formatTime,
  isEnded,
  ordinal,
  runTitle,
  STATE_NAMES,
  type RunState,
  type StateWords,
} from './format';

type DescribedRun = Parameters<typeof describeState>[0];
type TitledRun = Parameters<typeof runTitle>[0];

// Every run state, checked by the compiler: adding a state to RunState breaks this object.
const STATES: Record<RunState, true> = {
  queued: true,
  running: true,
  completed: true,
  failed: true,
  timed_out: true,
  memory_limit: true,
  output_limit: true,
  cancelled: true,
  error: true,
  interrupted: true,
};
const ALL_STATES = Object.keys(STATES) as RunState[];

function run(overrides: Partial<DescribedRun>): DescribedRun {
  return {
    state: 'completed',
    exitCode: null,
    signal: null,
    limits: null,
    error: null,
    ...overrides,
  };
}

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;
const TiB = 1024 * GiB;

describe('ordinal', () => {
  it.each([
    [0, '0th'],
    [1, '1st'],
    [2, '2nd'],
    [3, '3rd'],
    [4, '4th'],
    [9, '9th'],
    [10, '10th'],
    [11, '11th'],
    [12, '12th'],
    [13, '13th'],
    [14, '14th'],
    [20, '20th'],
    [21, '21st'],
    [22, '22nd'],
    [23, '23rd'],
    [24, '24th'],
    [101, '101st'],
    [102, '102nd'],
    [103, '103rd'],
    [111, '111th'],
    [112, '112th'],
    [113, '113th'],
    [121, '121st'],
    [1001, '1001st'],
    [1011, '1011th'],
    [1012, '1012th'],
  ])('writes %i as %s', (n, words) => {
    expect(ordinal(n)).toBe(words);
  });
});

describe('formatDuration', () => {
  it.each([null, undefined, Number.NaN, Infinity, -Infinity])('shows a dash for %s', (ms) => {
    expect(formatDuration(ms)).toBe('—');
  });

  it.each([
    [0, '0 ms'],
    [0.4, '0 ms'],
    [1, '1 ms'],
    [250, '250 ms'],
    [999, '999 ms'],
    [1000, '1 s'],
    [1049, '1 s'],
    [1050, '1.1 s'],
    [1500, '1.5 s'],
    [2000, '2 s'],
    [9940, '9.9 s'],
    [9960, '10 s'],
    [10_000, '10 s'],
    [10_400, '10 s'],
    [10_600, '11 s'],
    [59_400, '59 s'],
    [60_000, '1 min'],
    [61_000, '1 min 1 s'],
    [90_000, '1 min 30 s'],
    [119_400, '1 min 59 s'],
    [120_000, '2 min'],
    [3_599_000, '59 min 59 s'],
    [3_600_000, '1 h 0 min'],
    [3_659_000, '1 h 1 min'],
    [5_400_000, '1 h 30 min'],
    [90_061_000, '25 h 1 min'],
  ])('writes %f ms as %s', (ms, words) => {
    expect(formatDuration(ms)).toBe(words);
  });

  // Each unit is rounded before the next is chosen: no "1 min 60 s", "1000 ms" or "60 s".
  it('carries rounded seconds into the minutes', () => {
    expect(formatDuration(119_600)).toBe('2 min');
    expect(formatDuration(3_599_700)).toBe('1 h 0 min');
  });

  it('moves up a unit when rounding reaches it', () => {
    expect(formatDuration(999.6)).toBe('1 s');
    expect(formatDuration(9_960)).toBe('10 s');
    expect(formatDuration(59_600)).toBe('1 min');
  });
});

describe('formatEstimate', () => {
  it.each([null, undefined, Number.NaN, Infinity])('says the wait is unknown for %s', (ms) => {
    expect(formatEstimate(ms)).toBe('unknown wait');
  });

  it.each([
    [0, 'about 1 s'],
    [999, 'about 1 s'],
    [1000, 'about 1 s'],
    [2400, 'about 2 s'],
    [2500, 'about 5 s'],
    [7499, 'about 5 s'],
    [7500, 'about 10 s'],
    [12_000, 'about 10 s'],
    [20_000, 'about 20 s'],
    [57_400, 'about 55 s'],
    [59_999, 'about 60 s'],
    [60_000, 'about 1 min'],
    [89_999, 'about 1 min'],
    [90_000, 'about 2 min'],
    [3_600_000, 'about 60 min'],
  ])('writes %i ms as %s', (ms, words) => {
    expect(formatEstimate(ms)).toBe(words);
  });

  it('rounds estimates between 2.5 s and a minute to multiples of 5 s', () => {
    for (let ms = 2500; ms < 60_000; ms += 137) {
      const match = /^about (\d+) s$/.exec(formatEstimate(ms));
      expect(match, `${ms} ms`).not.toBeNull();
      expect(Number(match?.[1]) % 5, `${ms} ms`).toBe(0);
    }
  });
});

describe('formatBytes', () => {
  it.each([null, undefined, Number.NaN, Infinity])('shows a dash for %s', (bytes) => {
    expect(formatBytes(bytes)).toBe('—');
  });

  it.each([
    [0, '0 B'],
    [1, '1 B'],
    [1023, '1023 B'],
    [KiB, '1 KiB'],
    [1536, '1.5 KiB'],
    [10 * KiB, '10 KiB'],
    [10.25 * KiB, '10.3 KiB'],
    [100 * KiB, '100 KiB'],
    [100.5 * KiB, '101 KiB'],
    [MiB, '1 MiB'],
    [1.5 * MiB, '1.5 MiB'],
    [64 * MiB, '64 MiB'],
    [256 * MiB, '256 MiB'],
    [GiB, '1 GiB'],
    [1.5 * GiB, '1.5 GiB'],
    [TiB, '1 TiB'],
    [1024 * TiB, '1024 TiB'],
    [4096 * TiB, '4096 TiB'],
    // Rounded before the unit is chosen.
    [MiB - 1, '1.0 MiB'],
    [102_359, '100 KiB'],
  ])('writes %i bytes as %s', (bytes, words) => {
    expect(formatBytes(bytes)).toBe(words);
  });

  it('uses binary units (1 KiB = 1024 bytes, not 1000)', () => {
    expect(formatBytes(1000)).toBe('1000 B');
    expect(formatBytes(1_000_000)).toBe('977 KiB');
    expect(formatBytes(1_000_000_000)).toBe('954 MiB');
  });
});

describe('isEnded', () => {
  it('is false only while a run is queued or running', () => {
    for (const state of ALL_STATES) {
      expect(isEnded(state), state).toBe(state !== 'queued' && state !== 'running');
    }
    expect(isEnded('queued')).toBe(false);
    expect(isEnded('running')).toBe(false);
    expect(isEnded('completed')).toBe(true);
    expect(isEnded('interrupted')).toBe(true);
  });
});

describe('describeState', () => {
  it.each<[RunState, StateWords]>([
    ['queued', { label: 'Waiting in line', tone: 'busy' }],
    ['running', { label: 'Running', tone: 'busy' }],
    ['completed', { label: 'Completed', tone: 'good' }],
    ['failed', { label: 'Failed', tone: 'bad' }],
    ['timed_out', { label: 'Stopped: ran too long', tone: 'warn' }],
    ['memory_limit', { label: 'Stopped: used too much memory', tone: 'warn' }],
    ['output_limit', { label: 'Output limit reached', tone: 'warn' }],
    ['cancelled', { label: 'Cancelled', tone: 'neutral' }],
    ['error', { label: 'runbox failed to run this (not your code)', tone: 'bad' }],
    ['interrupted', { label: 'Interrupted by a server restart', tone: 'warn' }],
  ])('describes %s with no details', (state, words) => {
    expect(describeState(run({ state }))).toEqual(words);
  });

  it('describes every state with a non-empty label', () => {
    for (const state of ALL_STATES) {
      const words = describeState(run({ state }));
      expect(words.label.length, state).toBeGreaterThan(0);
      expect(['neutral', 'busy', 'good', 'bad', 'warn']).toContain(words.tone);
    }
  });

  it('gives the exit code of a failed run, including 0', () => {
    expect(describeState(run({ state: 'failed', exitCode: 1 }))).toEqual({
      label: 'Failed with exit code 1',
      tone: 'bad',
    });
    expect(describeState(run({ state: 'failed', exitCode: 0 })).label).toBe(
      'Failed with exit code 0',
    );
    expect(describeState(run({ state: 'failed', exitCode: 137, signal: 'SIGKILL' })).label).toBe(
      'Failed with exit code 137',
    );
  });

  it('names the signal of a failed run with no exit code', () => {
    expect(describeState(run({ state: 'failed', signal: 'SIGSEGV' }))).toEqual({
      label: 'Failed: killed by SIGSEGV',
      tone: 'bad',
    });
    expect(describeState(run({ state: 'failed', signal: '' })).label).toBe('Failed');
  });

  it('gives the wall-time limit of a timed-out run', () => {
    expect(describeState(run({ state: 'timed_out', limits: { wallTimeMs: 30_000 } }))).toEqual({
      label: 'Stopped: ran longer than 30 s',
      tone: 'warn',
    });
    expect(describeState(run({ state: 'timed_out', limits: { wallTimeMs: 90_000 } })).label).toBe(
      'Stopped: ran longer than 1 min 30 s',
    );
    expect(describeState(run({ state: 'timed_out', limits: {} })).label).toBe(
      'Stopped: ran too long',
    );
    expect(describeState(run({ state: 'timed_out', limits: { wallTimeMs: 0 } })).label).toBe(
      'Stopped: ran too long',
    );
  });

  it('gives the memory limit of a run stopped for memory, in binary units', () => {
    expect(
      describeState(run({ state: 'memory_limit', limits: { memoryBytes: 256 * MiB } })),
    ).toEqual({ label: 'Stopped: used more than 256 MiB of memory', tone: 'warn' });
    expect(
      describeState(run({ state: 'memory_limit', limits: { memoryBytes: 1.5 * GiB } })).label,
    ).toBe('Stopped: used more than 1.5 GiB of memory');
    expect(describeState(run({ state: 'memory_limit', limits: { wallTimeMs: 1000 } })).label).toBe(
      'Stopped: used too much memory',
    );
  });

  it('ignores details that do not belong to the state', () => {
    expect(
      describeState(
        run({ state: 'completed', exitCode: 3, signal: 'SIGTERM', error: 'boom', limits: {} }),
      ),
    ).toEqual({ label: 'Completed', tone: 'good' });
    expect(describeState(run({ state: 'error', error: 'disk full' })).label).toBe(
      'runbox failed to run this (not your code)',
    );
  });
});

describe('STATE_NAMES', () => {
  it('names every state, and nothing else', () => {
    expect(Object.keys(STATE_NAMES).sort()).toEqual([...ALL_STATES].sort());
    for (const state of ALL_STATES) expect(STATE_NAMES[state].length, state).toBeGreaterThan(0);
  });
});

describe('formatTime', () => {
  it.each([null, undefined, 0])('shows a dash for %s', (ms) => {
    expect(formatTime(ms)).toBe('—');
  });

  it('writes a date and a time to the second', () => {
    const ms = new Date(2024, 0, 15, 13, 45, 30).getTime();
    const text = formatTime(ms);
    expect(text).not.toBe('—');
    expect(text).toContain('2024');
    expect(text).toMatch(/45/);
    expect(text).toMatch(/30/);
    expect(formatTime(ms + 1000)).not.toBe(text);
  });
});

describe('runTitle', () => {
  it.each<[TitledRun, string]>([
    [{ kind: 'snippet', language: 'python', toolId: null }, 'Python snippet'],
    [{ kind: 'snippet', language: 'javascript', toolId: null }, 'JavaScript snippet'],
    [{ kind: 'snippet', language: 'typescript', toolId: null }, 'TypeScript snippet'],
    [{ kind: 'snippet', language: 'bash', toolId: null }, 'Bash snippet'],
    [{ kind: 'snippet', language: null, toolId: null }, 'Code snippet'],
    [{ kind: 'tool', language: null, toolId: 'pytest' }, 'pytest run'],
    [
      { kind: 'tool', language: null, toolId: 'python', exampleId: 'hello-python' },
      'python run on hello-python',
    ],
    [{ kind: 'tool', language: null, toolId: 'cloc', exampleId: null }, 'cloc run'],
    [{ kind: 'tool', language: 'python', toolId: 'ruff' }, 'ruff run'],
    [{ kind: 'tool', language: null, toolId: null }, 'tool run'],
    // A session's cell is code in a language, not a tool run.
    [{ kind: 'cell', language: 'python', toolId: null }, 'Python cell'],
    [{ kind: 'cell', language: 'typescript', toolId: null }, 'TypeScript cell'],
    [{ kind: 'cell', language: null, toolId: null }, 'Code cell'],
  ])('titles %o as %s', (titled, title) => {
    expect(runTitle(titled)).toBe(title);
  });
});
