import { describe, expect, it } from 'vitest';
import {
  hibernationText,
  lostVariableText,
  noticeWords,
  sessionStateWords,
  sessionTitle,
  type SessionFacts,
} from './session-format';

function facts(overrides: Partial<SessionFacts> = {}): SessionFacts {
  return {
    state: 'active',
    busy: false,
    hibernatesAt: 1_000_000 + 600_000,
    idleTtlMs: 600_000,
    closeReason: null,
    ...overrides,
  };
}

describe('sessionTitle and sessionStateWords', () => {
  it('names the session by its language', () => {
    expect(sessionTitle('python')).toBe('Python session');
    expect(sessionTitle('typescript')).toBe('TypeScript session');
  });

  it('tells active, busy, hibernated and closed apart', () => {
    expect(sessionStateWords({ state: 'active', busy: false })).toEqual({
      label: 'Active',
      tone: 'good',
    });
    expect(sessionStateWords({ state: 'active', busy: true }).tone).toBe('busy');
    expect(sessionStateWords({ state: 'hibernated', busy: false }).label).toBe('Hibernated');
    expect(sessionStateWords({ state: 'closed', busy: false }).label).toBe('Closed');
  });
});

describe('hibernationText', () => {
  it('counts down from the idle deadline', () => {
    expect(hibernationText(facts(), 1_000_000)).toBe(
      'Hibernates in 10 min if no cell runs (idle time 10 min).',
    );
    expect(hibernationText(facts(), 1_000_000 + 598_000)).toBe(
      'Hibernates in 2 s if no cell runs (idle time 10 min).',
    );
  });

  it('says a session past its deadline is hibernating, not a negative time', () => {
    expect(hibernationText(facts(), 2_000_000)).toBe(
      'Hibernating now: it was idle for its whole idle time.',
    );
  });

  it('does not count while a cell waits or runs', () => {
    expect(hibernationText(facts({ busy: true, hibernatesAt: null }), 1_000_000)).toBe(
      'A cell waits or runs: it hibernates 10 min after the last one ends.',
    );
  });

  it('names a closed session’s reason', () => {
    expect(hibernationText(facts({ state: 'closed', closeReason: 'closed by the admin' }), 0)).toBe(
      'Closed: closed by the admin.',
    );
    expect(hibernationText(facts({ state: 'hibernated', hibernatesAt: null }), 0)).toMatch(
      /^Hibernated: /,
    );
  });
});

describe('noticeWords', () => {
  it('says nothing of the first kernel', () => {
    expect(noticeWords(null)).toBeNull();
    expect(
      noticeWords({ kind: 'started', at: 1, reason: null, restored: [], lost: [] }),
    ).toBeNull();
  });

  it('names what a wake restored and what it lost', () => {
    expect(
      noticeWords({
        kind: 'woke',
        at: 1,
        reason: 'a new cell',
        restored: ['x', 'np'],
        lost: [{ name: 'f', type: 'function', reason: 'not JSON' }],
      }),
    ).toEqual({
      title: 'The session woke from hibernation',
      lines: ['Why: a new cell.', 'Restored: x, np.', 'Lost: f (function: not JSON).'],
    });
  });

  it('says a restart kept nothing', () => {
    expect(
      noticeWords({
        kind: 'restarted',
        at: 1,
        reason: 'restarted on request',
        restored: [],
        lost: [],
      }),
    ).toEqual({
      title: 'The kernel restarted',
      lines: ['Why: restarted on request.', 'No variable was restored.'],
    });
  });

  it('writes a lost variable with its type and why', () => {
    expect(lostVariableText({ name: 'big', type: 'list', reason: 'too large' })).toBe(
      'big (list: too large)',
    );
  });
});
