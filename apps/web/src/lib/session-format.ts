import { formatDuration, type StateWords } from './format';

/** What the session page and the lists say about a session (docs/sessions.md), in words. */

export type SessionState = 'active' | 'hibernated' | 'closed';

export interface LostVariable {
  name: string;
  type: string;
  reason: string;
}

export interface SessionNotice {
  kind: 'started' | 'woke' | 'restarted';
  at: number;
  reason: string | null;
  restored: string[];
  lost: LostVariable[];
}

/** The parts of a session view these words are made of. */
export interface SessionFacts {
  state: SessionState;
  busy: boolean;
  hibernatesAt: number | null;
  idleTtlMs: number;
  closeReason: string | null;
}

export const SESSION_LANGUAGE_NAMES: Record<string, string> = {
  python: 'Python',
  javascript: 'JavaScript',
  typescript: 'TypeScript',
};

/** "Python session". */
export function sessionTitle(language: string): string {
  return `${SESSION_LANGUAGE_NAMES[language] ?? 'Code'} session`;
}

export function sessionStateWords(session: Pick<SessionFacts, 'state' | 'busy'>): StateWords {
  switch (session.state) {
    case 'active':
      return session.busy
        ? { label: 'Active, running a cell', tone: 'busy' }
        : { label: 'Active', tone: 'good' };
    case 'hibernated':
      return { label: 'Hibernated', tone: 'warn' };
    case 'closed':
      return { label: 'Closed', tone: 'neutral' };
  }
}

/**
 * How long the session has before it hibernates, or why that does not apply: a cell waits or
 * runs (the idle time starts when it ends), it sleeps already, or it is closed.
 */
export function hibernationText(session: SessionFacts, now: number): string {
  switch (session.state) {
    case 'closed':
      return session.closeReason ? `Closed: ${session.closeReason}.` : 'Closed.';
    case 'hibernated':
      return 'Hibernated: its kernel is stopped. The next cell wakes it with the variables it kept.';
    case 'active': {
      const idle = formatDuration(session.idleTtlMs);
      if (session.busy || session.hibernatesAt === null)
        return `A cell waits or runs: it hibernates ${idle} after the last one ends.`;
      const left = session.hibernatesAt - now;
      if (left <= 0) return 'Hibernating now: it was idle for its whole idle time.';
      return `Hibernates in ${formatDuration(left)} if no cell runs (idle time ${idle}).`;
    }
  }
}

/** "f (function: not JSON)". */
export function lostVariableText(lost: LostVariable): string {
  return `${lost.name} (${lost.type}: ${lost.reason})`;
}

/**
 * The warning a woken or restarted kernel carries: what came back, what did not, and why it
 * started again. Null for the kernel the session started with.
 */
export function noticeWords(
  notice: SessionNotice | null,
): { title: string; lines: string[] } | null {
  if (!notice || notice.kind === 'started') return null;
  const lines: string[] = [];
  if (notice.reason) lines.push(`Why: ${notice.reason}.`);
  lines.push(
    notice.restored.length > 0
      ? `Restored: ${notice.restored.join(', ')}.`
      : 'No variable was restored.',
  );
  if (notice.lost.length > 0) lines.push(`Lost: ${notice.lost.map(lostVariableText).join(', ')}.`);
  return {
    title: notice.kind === 'woke' ? 'The session woke from hibernation' : 'The kernel restarted',
    lines,
  };
}
